"""The thi đua workbook for the emulation board (`out/thi_dua_<year>.xlsx`).

One row per school: the self-declared group totals and level, the computed-side totals and level
(`score_schools__final`), the proposed externally-verified totals and level (reviewer decision where
present, else computed points where available, else self points) with the origin of each group's points,
the rank within each configured ranking group, and the counts of open findings. Further sheets: a
summary per managing unit with the verification factor, the ranking groups, the factor per criterion,
and a legend. Codes, names of schools and units and aggregates only: no personal data.

Ranking groups (`GROUPINGS`, setting `CDS_THI_DUA_GROUPS`): the managing unit, the commune, the school
level, the whole province. A group of fewer than `MIN_RANKED` schools (e.g. a commune that manages one
school) is no ranking: its schools get no rank in that grouping and the note says why; a school whose
commune or level the registry does not give is not ranked in that grouping either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from indicator_sets.model import IndicatorSet
from indicator_sets.reconcile import KEYS, UNKNOWN_UNIT
from reports.excel import add_print_sheet, write_sheets

ORIGIN_LABELS = {
    "computed": "Dữ liệu",
    "evidence": "Minh chứng",
    "self": "Tự đánh giá",
    "reviewer": "Thẩm định",
}
ORIGIN_LEGEND = {
    "computed": "Điểm tính từ dữ liệu phần mềm quản lý (trạng thái ok)",
    "evidence": (
        "Tiêu chí minh chứng/điều kiện bắt buộc: điểm tự đánh giá khi có mã minh chứng, nếu không là 0; "
        "trường dùng mẫu dạng ngang (không có cột mã minh chứng) được giữ điểm tự khai, "
        "chờ người thẩm định xác nhận"
    ),
    "self": "Không có số liệu (thiếu dữ liệu hoặc không áp dụng): tạm lấy điểm tự đánh giá",
    "reviewer": "Quyết định của người thẩm định (Sở) đã được áp dụng",
}


@dataclass(frozen=True)
class Grouping:
    """One way of grouping schools for the ranking: the column it groups by (None: all schools), the
    rank column it fills and its Vietnamese name."""

    column: str | None
    rank_column: str
    label: str


GROUPINGS: dict[str, Grouping] = {
    "managing_unit": Grouping("managing_unit", "rank_unit", "Đơn vị quản lý"),
    "commune": Grouping("commune", "rank_commune", "Xã, phường"),
    "school_level": Grouping("school_level", "rank_school_level", "Cấp học"),
    "province": Grouping(None, "rank_province", "Toàn tỉnh"),
}
DEFAULT_GROUPS: tuple[str, ...] = ("managing_unit", "province")
MIN_RANKED = 2
LEVEL_LABELS = {
    "TH": "Tiểu học",
    "THCS": "Trung học cơ sở",
    "THPT": "Trung học phổ thông",
    "TH_THCS": "Tiểu học và THCS",
    "THCS_THPT": "THCS và THPT",
    "TH_THCS_THPT": "Phổ thông nhiều cấp",
    "GDTX": "Giáo dục thường xuyên",
}

HEADERS = {
    "rank_province": "Xếp hạng toàn tỉnh",
    "rank_unit": "Xếp hạng trong đơn vị quản lý",
    "rank_commune": "Xếp hạng trong xã, phường",
    "rank_school_level": "Xếp hạng trong cấp học",
    "rank_note": "Ghi chú xếp hạng",
    "school_code": "Mã trường",
    "school_name": "Tên trường",
    "managing_unit": "Đơn vị quản lý",
    "commune": "Xã, phường",
    "school_level": "Cấp học",
    "school_year": "Năm học",
    "self_dh_points": "Tự đánh giá – điểm nhóm I",
    "self_qt_points": "Tự đánh giá – điểm nhóm II",
    "self_level": "Mức tự đánh giá",
    "group_dh_points": "Điểm nhóm I (dạy, học) – tính từ dữ liệu",
    "group_dh_level": "Mức nhóm I",
    "group_qt_points": "Điểm nhóm II (quản trị) – tính từ dữ liệu",
    "group_qt_level": "Mức nhóm II",
    "level": "Mức chuyển đổi số (tính từ dữ liệu)",
    "prop_dh_points": "Đề xuất – điểm nhóm I",
    "prop_dh_origin": "Nguồn điểm đề xuất nhóm I",
    "prop_qt_points": "Đề xuất – điểm nhóm II",
    "prop_qt_origin": "Nguồn điểm đề xuất nhóm II",
    "prop_level": "Mức đề xuất (đánh giá ngoài)",
    "level_differs": "Mức đề xuất khác mức tự đánh giá",
    "n_open_findings": "Số phát hiện chưa xử lý",
    "n_open_high": "Trong đó mức cao",
    "verification_factor": "Hệ số xác thực",
    "n_criteria_computed": "Số tiêu chí tính được từ dữ liệu",
    "cap_reason": "Lý do mức bị giới hạn",
}
#: The print sheet: fewer columns than the data sheet, each with its width in characters (at 10 pt the
#: widths add up to one A4 landscape page at 100 % scale, so nothing is shrunk below 10 pt).
PRINT_COLUMNS: dict[str, tuple[str, float]] = {
    "rank_province": ("Hạng", 5),
    "school_code": ("Mã trường", 10),
    "school_name": ("Tên trường", 26),
    "managing_unit": ("Đơn vị quản lý", 17),
    "self_dh_points": ("Tự ĐG nhóm I", 7),
    "self_qt_points": ("Tự ĐG nhóm II", 7),
    "self_level": ("Mức tự ĐG", 6),
    "prop_dh_points": ("Đề xuất nhóm I", 8),
    "prop_qt_points": ("Đề xuất nhóm II", 8),
    "prop_level": ("Mức đề xuất", 7),
    "cap_reason": ("Lý do mức bị giới hạn", 19),
    "n_open_findings": ("Phát hiện chưa xử lý", 8),
}
SUMMARY_HEADERS = {
    "managing_unit": "Đơn vị quản lý",
    "n_schools": "Số trường",
    "self_level_1": "Tự ĐG: Mức 1",
    "self_level_2": "Tự ĐG: Mức 2",
    "self_level_3": "Tự ĐG: Mức 3",
    "prop_level_1": "Đề xuất: Mức 1",
    "prop_level_2": "Đề xuất: Mức 2",
    "prop_level_3": "Đề xuất: Mức 3",
    "n_open_findings": "Số phát hiện chưa xử lý",
    "self_points": "Tổng điểm tự ĐG (tiêu chí có dữ liệu)",
    "computed_points": "Tổng điểm tính từ dữ liệu",
    "factor": "Hệ số xác thực",
}
GROUP_HEADERS = {
    "grouping": "Cách nhóm",
    "group": "Nhóm",
    "n_schools": "Số trường",
    "ranked": "Có xếp hạng",
    "note": "Ghi chú",
}
FACTOR_HEADERS = {
    "criterion_code": "Mã tiêu chí",
    "criterion_name": "Tên tiêu chí",
    "n_criteria": "Số trường có dữ liệu",
    "self_points": "Tổng điểm tự ĐG",
    "computed_points": "Tổng điểm tính từ dữ liệu",
    "factor": "Hệ số xác thực",
}


def _origin_text(row: pd.Series, group: str) -> str:
    parts = [
        f"{ORIGIN_LABELS[o]} {row.get(f'{group}_pts_{o}', 0.0):.2f}".replace(".", ",")
        for o in ORIGIN_LABELS
        if (row.get(f"{group}_pts_{o}", 0.0) or 0.0) > 0
    ]
    return " · ".join(parts) if parts else "—"


def open_findings(findings: pd.DataFrame, states: pd.DataFrame | None) -> pd.DataFrame:
    """Findings without a decision in force (no decision, evidence requested, or stale)."""
    if findings.empty:
        return findings
    closed = (
        set(states.loc[states["in_force"].astype(bool), "finding_id"])
        if states is not None and len(states)
        else set()
    )
    return findings[~findings["finding_id"].isin(closed)]


def build_table(
    final_scores: pd.DataFrame,
    schools: pd.DataFrame,
    final_values: pd.DataFrame,
    *,
    self_scores: pd.DataFrame | None = None,
    proposed_scores: pd.DataFrame | None = None,
    proposed: pd.DataFrame | None = None,
    findings: pd.DataFrame | None = None,
    states: pd.DataFrame | None = None,
    factors: pd.DataFrame | None = None,
    groups: Sequence[str] = DEFAULT_GROUPS,
) -> pd.DataFrame:
    """One row per school, ordered by the proposed level then the proposed total (both groups), with a
    rank within each grouping of `groups` (keys of `GROUPINGS`)."""
    t = final_scores.merge(schools, on=KEYS, how="left") if len(schools) else final_scores.copy()
    for c in ("school_name", "managing_unit"):
        if c not in t.columns:
            t[c] = None
    t["school_name"] = t["school_name"].astype("object").where(t["school_name"].notna(), "")
    t["managing_unit"] = t["managing_unit"].astype("object").where(t["managing_unit"].notna(), UNKNOWN_UNIT)
    computed = final_values[final_values["status"] == "ok"].groupby(KEYS).size()
    idx = pd.MultiIndex.from_frame(t[KEYS])
    t["n_criteria_computed"] = pd.Series(idx.map(computed.to_dict()), index=t.index).fillna(0).astype(int)
    if self_scores is not None and len(self_scores):
        s = self_scores.rename(
            columns={
                "group_dh_points": "self_dh_points",
                "group_qt_points": "self_qt_points",
                "level": "self_level",
            }
        )[[*KEYS, "self_dh_points", "self_qt_points", "self_level"]]
        t = t.merge(s, on=KEYS, how="left")
    if proposed_scores is not None and len(proposed_scores):
        p = proposed_scores.rename(
            columns={
                "group_dh_points": "prop_dh_points",
                "group_qt_points": "prop_qt_points",
                "level": "prop_level",
            }
        )[[*KEYS, "prop_dh_points", "prop_qt_points", "prop_level"]]
        t = t.merge(p, on=KEYS, how="left")
    else:
        t["prop_dh_points"], t["prop_qt_points"], t["prop_level"] = (
            t["group_dh_points"],
            t["group_qt_points"],
            t["level"],
        )
    if proposed is not None and len(proposed):
        from indicator_sets.reconcile import origin_summary

        o = origin_summary(proposed)
        for g in ("DH", "QT"):
            part = o[o["group_code"] == g].drop(columns="group_code")
            part = part.rename(columns={c: f"{g.lower()}_{c}" for c in part.columns if c.startswith("pts_")})
            t = t.merge(part, on=KEYS, how="left")
        t["prop_dh_origin"] = t.apply(lambda r: _origin_text(r, "dh"), axis=1)
        t["prop_qt_origin"] = t.apply(lambda r: _origin_text(r, "qt"), axis=1)
    t["cap_reason"] = cap_reasons(proposed, t[KEYS]) if proposed is not None and len(proposed) else ""
    if "self_level" in t.columns:
        t["level_differs"] = (t["self_level"] != t["prop_level"]).map({True: "Có", False: "Không"})
    if findings is not None:
        of = open_findings(findings, states)
        n = of.groupby(KEYS).size()
        nh = of[of["severity"] == "high"].groupby(KEYS).size()
        t["n_open_findings"] = pd.Series(idx.map(n.to_dict()), index=t.index).fillna(0).astype(int)
        t["n_open_high"] = pd.Series(idx.map(nh.to_dict()), index=t.index).fillna(0).astype(int)
    if factors is not None and len(factors):
        f = factors.set_index(KEYS)["factor"]
        t["verification_factor"] = pd.Series(idx.map(f.to_dict()), index=t.index).astype("float64")
    t["_total"] = (t["prop_dh_points"] + t["prop_qt_points"]).astype("float64")
    t = t.sort_values(["prop_level", "_total", "school_code"], ascending=[False, False, True]).reset_index(
        drop=True
    )
    t["commune"] = _commune(t)
    t["school_level"] = (
        t["level_code"].map(lambda v: LEVEL_LABELS.get(str(v), str(v))) if "level_code" in t else None
    )
    t["school_level"] = t["school_level"].astype("object").where(t["school_level"].notna(), None)
    rank_key = t["prop_level"].astype("float64") * 1000 + t["_total"]
    notes: list[list[str]] = [[] for _ in range(len(t))]
    for name in groups:
        grouping = GROUPINGS[name]
        key = (
            pd.Series("Toàn tỉnh", index=t.index)
            if grouping.column is None
            else t[grouping.column].astype("object")
        )
        known = key.notna() & (key.astype(str).str.strip() != "") & (key != UNKNOWN_UNIT)
        size = key.map(key[known].value_counts()).fillna(0)
        ranked = known & (size >= MIN_RANKED)
        rank = rank_key[ranked].groupby(key[ranked]).rank(method="min", ascending=False)
        t[grouping.rank_column] = rank.reindex(t.index).astype("Int64")
        for i in range(len(t)):
            if not known.iloc[i]:
                notes[i].append(f"{grouping.label}: chưa rõ, không xếp hạng")
            elif not ranked.iloc[i]:
                notes[i].append(
                    f"{grouping.label} {key.iloc[i]} chỉ có {int(size.iloc[i])} trường: không xếp hạng"
                )
    t["rank_note"] = ["; ".join(n) for n in notes]
    return t.drop(columns="_total")


def _commune(t: pd.DataFrame) -> pd.Series:
    """The commune of each school from the registry: its name, else its code (None when neither)."""
    name = t["commune_name"] if "commune_name" in t else pd.Series(None, index=t.index)
    code = t["commune_code"] if "commune_code" in t else pd.Series(None, index=t.index)
    out = name.astype("object").where(name.notna() & (name.astype(str).str.strip() != ""), code)
    return out.astype("object").where(out.notna(), None)


def ranking_groups(table: pd.DataFrame, groups: Sequence[str] = DEFAULT_GROUPS) -> pd.DataFrame:
    """One row per group of each grouping: its schools and whether it is a ranking (and why not)."""
    rows = []
    for name in groups:
        g = GROUPINGS[name]
        key = (
            pd.Series("Toàn tỉnh", index=table.index)
            if g.column is None
            else table[g.column].astype("object")
        )
        key = key.where(key.notna() & (key.astype(str).str.strip() != "") & (key != UNKNOWN_UNIT), "Chưa rõ")
        for value, n in sorted(key.value_counts().items(), key=lambda x: str(x[0])):
            ranked = value != "Chưa rõ" and n >= MIN_RANKED
            note = (
                ""
                if ranked
                else "Chưa rõ trong danh sách trường: không xếp hạng"
                if value == "Chưa rõ"
                else f"Chỉ có {n} trường: không xếp hạng (cần ít nhất {MIN_RANKED})"
            )
            rows.append(
                {
                    "grouping": g.label,
                    "group": value,
                    "n_schools": int(n),
                    "ranked": "Có" if ranked else "Không",
                    "note": note,
                }
            )
    return pd.DataFrame(rows, columns=list(GROUP_HEADERS))


def cap_reasons(proposed: pd.DataFrame, schools: pd.DataFrame) -> list[str]:
    """Per school (in the order of `schools`): why a group level is capped on the proposed side, e.g.
    "ĐKBB 1.1 chưa đạt" (the mandatory conditions whose proposed value is not met); empty otherwise."""
    mand = proposed[(proposed["kind"] == "mandatory") & (proposed["proposed_met"].fillna(0) < 1)]
    by: dict[tuple, list[str]] = {}
    for code, school_year, crit in zip(
        mand["school_code"], mand["school_year"], mand["criterion_code"], strict=True
    ):
        by.setdefault((code, school_year), []).append(str(crit))
    return [
        ("ĐKBB " + ", ".join(sorted(by[k])) + " chưa đạt") if k in by else ""
        for k in zip(schools["school_code"], schools["school_year"], strict=True)
    ]


def build_summary(
    table: pd.DataFrame,
    unit_factors: pd.DataFrame | None,
    province_factor: float | None,
    iset: IndicatorSet | None = None,
) -> pd.DataFrame:
    """One row per managing unit plus a province row: level counts (self vs proposed), open findings and
    the verification factor."""
    rows = []
    uf = unit_factors.set_index("managing_unit") if unit_factors is not None and len(unit_factors) else None
    by_unit = uf.to_dict("index") if uf is not None else {}  # managing unit → its factor row
    for unit, part in [
        *sorted(table.groupby("managing_unit"), key=lambda x: str(x[0])),
        ("Toàn tỉnh", table),
    ]:
        r: dict = {"managing_unit": unit, "n_schools": len(part)}
        for lv in (1, 2, 3):
            r[f"self_level_{lv}"] = int((part.get("self_level", pd.Series(dtype=float)) == lv).sum())
            r[f"prop_level_{lv}"] = int((part["prop_level"] == lv).sum())
        r["n_open_findings"] = int(part.get("n_open_findings", pd.Series(0, index=part.index)).sum())
        if unit == "Toàn tỉnh":
            r["factor"] = province_factor
            if uf is not None:
                r["self_points"] = float(uf["self_points"].sum())
                r["computed_points"] = float(uf["computed_points"].sum())
        elif unit in by_unit:
            u = by_unit[unit]
            r["self_points"] = float(u["self_points"])
            r["computed_points"] = float(u["computed_points"])
            r["factor"] = None if pd.isna(u["factor"]) else float(u["factor"])
        rows.append(r)
    return pd.DataFrame(rows)


def legend(iset: IndicatorSet | None) -> pd.DataFrame:
    rows = [{"item": f"Nguồn: {ORIGIN_LABELS[k]}", "meaning": v} for k, v in ORIGIN_LEGEND.items()]
    rows.append(
        {
            "item": "Hệ số xác thực",
            "meaning": "Tổng điểm tính từ dữ liệu ÷ tổng điểm tự đánh giá, chỉ trên "
            "các tiêu chí có số liệu (trạng thái ok); nhỏ hơn 1 nghĩa là trường tự đánh giá cao hơn dữ liệu.",
        }
    )
    rows.append(
        {"item": "Xếp hạng", "meaning": "Theo mức đề xuất, rồi tổng điểm đề xuất hai nhóm (cao xếp trước)."}
    )
    rows.append(
        {
            "item": "Phát hiện chưa xử lý",
            "meaning": "Chưa có quyết định thẩm định đang áp dụng (chưa quyết "
            "định, đang chờ bổ sung minh chứng hoặc dữ liệu đã thay đổi sau quyết định).",
        }
    )
    if iset is not None:
        names = iset.levels.names
        rows.append(
            {
                "item": "Mức",
                "meaning": f"Tổng < {iset.levels.level_2_min:g}: {names.get(1, 'Mức 1')}; "
                f"từ {iset.levels.level_2_min:g} đến {iset.levels.level_3_above:g}: {names.get(2, 'Mức 2')}; "
                f"> {iset.levels.level_3_above:g}: {names.get(3, 'Mức 3')}. Mức của trường là mức thấp hơn "
                "của hai nhóm.",
            }
        )
        if iset.mandatory_policy.description:
            rows.append({"item": "Điều kiện bắt buộc", "meaning": iset.mandatory_policy.description})
        for g in iset.groups:
            s = iset.group_max_sum(g.code)
            if abs(s - g.max_points) > 1e-9:
                rows.append(
                    {
                        "item": f"Lưu ý nhóm {g.roman}",
                        "meaning": (
                            f"Tổng điểm tối đa các tiêu chí của nhóm {g.roman} trong bộ chỉ số hiện là "
                            f"{s:g}, không phải {g.max_points:g} (phần còn thiếu chưa xác định được, "
                            "không tự bổ sung)."
                        ),
                    }
                )
        rows.append({"item": "Bộ chỉ số", "meaning": f"{iset.name} ({iset.id})"})
    return pd.DataFrame(rows)


def print_title(school_year: str, iset: IndicatorSet | None, province: str = "") -> list[str]:
    """The title lines of the print sheet: province, school year, decision."""
    who = f"SỞ GIÁO DỤC VÀ ĐÀO TẠO {province}".strip().upper()
    decision = iset.name if iset is not None else "Quyết định 4725/QĐ-BGDĐT"
    return [
        who,
        f"BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ CHUYỂN ĐỔI SỐ – NĂM HỌC {school_year}",
        f"Theo {decision} (đề xuất sau thẩm định; mức của trường là mức thấp hơn của hai nhóm)",
    ]


def write_thi_dua(
    path: Path,
    table: pd.DataFrame,
    school_year: str,
    *,
    summary: pd.DataFrame | None = None,
    criterion_factors: pd.DataFrame | None = None,
    iset: IndicatorSet | None = None,
    province: str = "",
    groups: Sequence[str] = DEFAULT_GROUPS,
) -> Path:
    """The workbook: a print sheet (A4 landscape, title, page numbers, repeated header row, 10 pt at
    100 %), the full data sheet (school code and name frozen), the summary, factors and legend."""
    cols = {k: v for k, v in HEADERS.items() if k in table.columns}
    sheets: dict[str, tuple[pd.DataFrame, dict[str, str]]] = {f"Thi đua {school_year}": (table, cols)}
    if summary is not None:
        sheets["Tổng hợp"] = (summary, {k: v for k, v in SUMMARY_HEADERS.items() if k in summary.columns})
    sheets["Nhóm xếp hạng"] = (ranking_groups(table, groups), GROUP_HEADERS)
    if criterion_factors is not None and len(criterion_factors):
        cf = criterion_factors.copy()
        if iset is not None:
            cf["criterion_name"] = cf["criterion_code"].map(
                lambda k: iset.by_code()[k].name if k in iset.by_code() else ""
            )
        sheets["Hệ số xác thực theo TC"] = (cf, {k: v for k, v in FACTOR_HEADERS.items() if k in cf.columns})
    sheets["Chú thích"] = (legend(iset), {"item": "Mục", "meaning": "Ý nghĩa"})
    printed = {k: v for k, v in PRINT_COLUMNS.items() if k in table.columns}
    if "rank_province" not in table.columns:  # the first configured grouping's rank is the printed one
        first = next(
            (GROUPINGS[g].rank_column for g in groups if GROUPINGS[g].rank_column in table.columns), None
        )
        if first:
            printed = {first: PRINT_COLUMNS["rank_province"], **printed}
    return write_sheets(
        path,
        sheets,
        freeze_columns={f"Thi đua {school_year}": "school_name"},
        before=lambda wb: add_print_sheet(
            wb, f"Bản in {school_year}", table, printed, print_title(school_year, iset, province)
        ),
    )
