"""The reviewer workbook (`out/reviewer_<year>.xlsx`) and the reviewer-facing views of the findings.

Sheets: `Tổng hợp` (per managing unit: findings by severity, decisions entered), one sheet per
managing unit with its findings in queue order (severity, then points at stake), then
`Cần xem lại` (stored decisions whose data changed) and `QĐ không hợp lệ` (decision rows not applied).
Each finding row shows the numerator, denominator, value and source files behind the computed value,
and has three columns for the reviewer: a decision (drop-down), adjusted points (0..max) and a comment.
The filled workbook goes back into the inbox (`<inbox>/<year>/province/reviewer_<year>.xlsx`) and the
next run applies it (indicator_sets/decisions.py). No personal data: codes, school and unit names,
points and file names only; the reviewer's earlier comments are written back (they were masked of
personal data when read, see indicator_sets/decisions.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from indicator_sets import decisions as dec
from indicator_sets.model import IndicatorSet
from indicator_sets.reconcile import KEYS, UNKNOWN_UNIT, VKEYS, sort_queue
from reports.cells import as_float
from reports.excel import FIXED_CREATED, safe_text

FINDING_LABELS = {
    "OVER_CLAIM": "Tự đánh giá cao hơn dữ liệu",
    "UNDER_CLAIM": "Tự đánh giá thấp hơn dữ liệu",
    "NO_DATA": "Không có dữ liệu để kiểm tra",
    "MISSING_EVIDENCE": "Thiếu mã minh chứng",
    "INVALID_SELF_SCORE": "Điểm tự đánh giá không hợp lệ",
    "LEVEL_CHANGE": "Mức thay đổi khi dùng điểm tính từ dữ liệu",
}
SEVERITY_LABELS = {"high": "Cao", "medium": "Trung bình", "low": "Thấp"}
STATUS_LABELS = {
    "ok": "Tính được",
    "no_data": "Thiếu dữ liệu",
    "not_applicable": "Không áp dụng",
    "self_declared": "Theo tự khai",
}

COLUMNS: dict[str, str] = {
    "finding_id": dec.COL_ID,
    "severity_label": "Mức độ",
    "finding_label": "Loại phát hiện",
    "school_code": "Mã số trường",
    "school_name": "Tên trường",
    "criterion_code": "Mã TC",
    "criterion_name": "Tên tiêu chí",
    "max_points": "Điểm tối đa",
    "self_points": dec.COL_SELF,
    "computed_points": dec.COL_COMPUTED,
    "points_at_stake": "Điểm chênh lệch",
    "status_label": "Trạng thái số liệu",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "value": "Giá trị",
    "source_files": "Tệp nguồn",
    "explanation": "Giải thích",
    "previous": "Quyết định đã lưu",
    "decision_label": dec.COL_DECISION,
    "adjusted_points": dec.COL_ADJUSTED,
    "comment": dec.COL_COMMENT,
}
INPUT_COLUMNS = ("decision_label", "adjusted_points", "comment")


@dataclass
class ReviewData:
    """Everything the reviewer outputs show for one school year (frames read from the warehouse)."""

    school_year: str
    iset: IndicatorSet
    schools: pd.DataFrame  # school_code, school_year, school_name, managing_unit
    final: pd.DataFrame  # score_indicators__final
    findings: pd.DataFrame
    states: pd.DataFrame = field(default_factory=pd.DataFrame)  # decision_states()
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)
    self_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    final_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    proposed: pd.DataFrame = field(default_factory=pd.DataFrame)
    proposed_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    previous: pd.DataFrame = field(default_factory=pd.DataFrame)  # last year's score_indicators__final
    counted: pd.DataFrame = field(default_factory=pd.DataFrame)  # mart_indicator_provenance rows (drill-down)
    # frames derived from the ones above, computed once (the thi đua, reviewer workbook and HTML writers of
    # one run share one ReviewData); callers must not modify the frames they get
    _derived: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def units(self) -> pd.DataFrame:
        """School × year → name and managing unit (`Chưa rõ đơn vị` when missing)."""
        if "units" not in self._derived:
            self._derived["units"] = self._units()
        return self._derived["units"]

    def _units(self) -> pd.DataFrame:
        codes = pd.concat(
            [self.final[KEYS], self.findings[KEYS] if len(self.findings) else None]
        ).drop_duplicates()
        s = (
            self.schools
            if len(self.schools)
            else pd.DataFrame(columns=[*KEYS, "school_name", "managing_unit"])
        )
        u = codes.merge(s.drop_duplicates(KEYS), on=KEYS, how="left")
        u["school_name"] = u["school_name"].astype("object").where(u["school_name"].notna(), "")
        mu = u["managing_unit"].astype("object")
        u["managing_unit"] = mu.where(mu.notna() & (mu.astype(str).str.strip() != ""), UNKNOWN_UNIT)
        return u.reset_index(drop=True)


def _fmt(v: object) -> str:
    x = as_float(v)
    if x is None:
        return "—"
    return f"{x:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def explain(r: pd.Series | dict, tol: float | None = None) -> str:
    """A Vietnamese sentence for one finding, in terms of points and data."""
    f = r["finding"]
    s, c = _fmt(r.get("self_points")), _fmt(r.get("computed_points"))
    if f == "OVER_CLAIM":
        t = f" (vượt ngưỡng {_fmt(tol)})" if tol is not None else ""
        return f"Trường tự chấm {s} điểm, dữ liệu cho {c} điểm: chênh {_fmt(r['points_at_stake'])}{t}."
    if f == "UNDER_CLAIM":
        return f"Dữ liệu cho {c} điểm, trường chỉ tự chấm {s} điểm: nên báo trường cập nhật."
    if f == "NO_DATA":
        return f"Trường tự chấm {s} điểm nhưng chưa có dữ liệu để kiểm tra tiêu chí này."
    if f == "MISSING_EVIDENCE":
        if r.get("evidence_known") is False or r.get("evidence_known") == False:  # noqa: E712 (numpy bool)
            what = (
                "Trường khai đạt điều kiện bắt buộc"
                if pd.isna(r.get("self_points"))
                else f"Trường tự chấm {s} điểm"
            )
            kept = "tạm tính là đạt" if pd.isna(r.get("self_points")) else f"tạm giữ {s} điểm"
            return (
                f"{what} trên mẫu tự đánh giá dạng ngang, mẫu này không có cột mã minh chứng: {kept}. "
                "Người thẩm định xác nhận minh chứng trước khi chốt bảng thi đua."
            )
        if pd.isna(r.get("self_points")):
            return "Trường khai đạt điều kiện bắt buộc nhưng không ghi mã minh chứng: tính là chưa đạt."
        return f"Trường tự chấm {s} điểm nhưng không ghi mã minh chứng: tính 0 điểm."
    if f == "INVALID_SELF_SCORE":
        raw = r.get("self_score_raw")
        shown = f" '{raw}'" if isinstance(raw, str) and raw else ""
        return f"Điểm tự đánh giá{shown} không hợp lệ (âm, vượt điểm tối đa hoặc không phải số): tính 0 điểm."
    if f == "LEVEL_CHANGE":
        return (
            f"Tổng điểm tự đánh giá {s}; thay bằng điểm tính từ dữ liệu (nơi có số liệu) được {c}: "
            "mức của trường thay đổi."
        )
    return ""


def review_rows(data: ReviewData) -> pd.DataFrame:
    """The findings with everything a reviewer needs, in queue order (computed once per `data`; do not
    modify the frame)."""
    if "review_rows" not in data._derived:
        data._derived["review_rows"] = _review_rows(data)
    return data._derived["review_rows"]


def _review_rows(data: ReviewData) -> pd.DataFrame:
    from indicator_sets.reconcile import tolerance

    if data.findings.empty:
        return pd.DataFrame(columns=[*COLUMNS, "managing_unit", "severity", "finding", "state"])
    crit = data.iset.by_code()
    f = sort_queue(data.findings).merge(data.units(), on=KEYS, how="left")
    vals = data.final.reindex(
        columns=[
            *VKEYS,
            "numerator",
            "denominator",
            "value",
            "status",
            "source_files",
            "self_score_raw",
            "evidence_known",
        ]
    )
    f = f.merge(vals, on=VKEYS, how="left")
    f["severity_label"] = f["severity"].map(SEVERITY_LABELS)
    f["finding_label"] = f["finding"].map(FINDING_LABELS)
    f["criterion_name"] = f["criterion_code"].map(lambda k: crit[k].name if k in crit else "Cả trường")
    f["max_points"] = f["criterion_code"].map(lambda k: float(crit[k].max_points) if k in crit else None)
    f["status_label"] = f["status"].map(STATUS_LABELS)
    f["source_files"] = f["source_files"].map(
        lambda v: (
            "; ".join(map(str, v))
            if isinstance(v, list | tuple) or (hasattr(v, "__len__") and not isinstance(v, str))
            else (v if isinstance(v, str) else "")
        )
    )
    f["explanation"] = [
        explain(r, tolerance(data.iset, r["max_points"]) if r["finding"] == "OVER_CLAIM" else None)
        for r in f.to_dict("records")
    ]
    f["previous"], f["decision_label"], f["adjusted_points"], f["comment"], f["state"] = (
        "",
        None,
        None,
        None,
        None,
    )
    if len(data.states):
        st = data.states.set_index("finding_id")
        for i, fid in enumerate(f["finding_id"]):
            if fid not in st.index:
                continue
            s = st.loc[fid]
            label = dec.DECISION_LABELS.get(s["decision"], "")
            pts = "" if pd.isna(s["adjusted_points"]) else f" ({_fmt(s['adjusted_points'])} điểm)"
            f.at[i, "previous"] = f"{label}{pts} — {dec.STATE_LABELS.get(s['state'], '')}"
            f.at[i, "state"] = s["state"]
            # the reviewer's comment survives the round trip (masked of personal data when read)
            if isinstance(s.get("comment"), str) and s["comment"]:
                f.at[i, "comment"] = s["comment"]
            if s["state"] in ("in_force", "pending"):  # pre-filled so that re-dropping the file keeps it
                f.at[i, "decision_label"] = label
                f.at[i, "adjusted_points"] = (
                    None if pd.isna(s["adjusted_points"]) else float(s["adjusted_points"])
                )
    return f


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", " ", str(name)).strip()[:28] or "Đơn vị"
    out, n = base, 2
    while out.lower() in used:
        out = f"{base[:26]} {n}"
        n += 1
    used.add(out.lower())
    return out


def _write_frame(
    wb: xlsxwriter.Workbook,
    ws: Worksheet,
    frame: pd.DataFrame,
    headers: dict[str, str],
    fmts: dict[str, Format],
) -> None:
    cols = list(headers)
    for j, c in enumerate(cols):
        ws.write_string(0, j, headers[c], fmts["input_head" if c in INPUT_COLUMNS else "head"])
        values = frame[c].tolist() if c in frame.columns else [None] * len(frame)
        width = max([len(headers[c]) * 0.8, *(len(str(v)) for v in values[:300] if v is not None)])
        ws.set_column(
            j,
            j,
            min(max(8, width + 2), 60 if c == "explanation" else 40),
            fmts["input"] if c in INPUT_COLUMNS else None,
        )
        text_fmt, num_fmt = fmts["input"] if c in INPUT_COLUMNS else None, fmts["num"]
        for i, v in enumerate(values, start=1):
            if type(v) is str:  # most cells: no other test needed
                ws.write_string(i, j, str(safe_text(v)), text_fmt)
            elif v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
                continue
            elif isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, int | float):
                ws.write_number(i, j, float(v), num_fmt)
            else:
                ws.write_string(i, j, str(safe_text(str(v))), text_fmt)
    ws.freeze_panes(1, 0)
    if cols:
        ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def _link_counted(ws: Worksheet, part: pd.DataFrame, counted_at: dict[tuple, int], fmt: Format) -> None:
    """Each review row's criterion code links to the rows its value counted on the drill-down sheet."""
    if not len(part) or not counted_at:
        return
    j = list(COLUMNS).index("criterion_code")
    for i, (school, crit) in enumerate(
        zip(part["school_code"].tolist(), part["criterion_code"].tolist(), strict=True), start=1
    ):
        at = counted_at.get((school, crit))
        if at is not None and isinstance(crit, str):
            ws.write_url(
                i,
                j,
                f"internal:'{COUNTED_SHEET}'!A{at}",
                fmt,
                string=crit,
                tip="Các dòng nguồn được đếm cho giá trị này",
            )


def _by_unit(rows: pd.DataFrame) -> dict[object, pd.DataFrame]:
    """The review rows of each managing unit, in queue order (one grouping, not a filter per unit)."""
    if not len(rows):
        return {}
    return {unit: part.reset_index(drop=True) for unit, part in rows.groupby("managing_unit", sort=False)}


def unit_summary(rows: pd.DataFrame, data: ReviewData) -> pd.DataFrame:
    units = data.units()
    by_unit = _by_unit(rows)
    out = []
    for unit, part in sorted(units.groupby("managing_unit"), key=lambda x: str(x[0])):
        fr = by_unit.get(unit, rows.iloc[:0])
        r = {"managing_unit": unit, "n_schools": len(part), "n_findings": len(fr)}
        for sev, _lab in SEVERITY_LABELS.items():
            r[f"n_{sev}"] = int((fr["severity"] == sev).sum()) if len(fr) else 0
        r["n_decided"] = int(fr["decision_label"].notna().sum()) if len(fr) else 0
        r["n_stale"] = int((fr["state"] == "stale").sum()) if len(fr) else 0
        out.append(r)
    return pd.DataFrame(out)


SUMMARY_HEADERS = {
    "managing_unit": "Đơn vị quản lý",
    "n_schools": "Số trường",
    "n_findings": "Số phát hiện",
    "n_high": "Mức cao",
    "n_medium": "Mức trung bình",
    "n_low": "Mức thấp",
    "n_decided": "Đã có quyết định",
    "n_stale": "Quyết định cần xem lại",
}
REJECT_HEADERS = {
    "finding_id": dec.COL_ID,
    "decision_text": "Quyết định đã nhập",
    "adjusted_raw": "Điểm điều chỉnh đã nhập",
    "source_file": "Tệp",
    "source_sheet": "Trang tính",
    "source_row": "Dòng",
    "message": "Lý do không áp dụng",
}
STALE_HEADERS = {
    "finding_id": dec.COL_ID,
    "school_code": "Mã số trường",
    "criterion_code": "Mã TC",
    "decision_label": "Quyết định đã lưu",
    "self_points_at_decision": "Điểm tự chấm lúc quyết định",
    "current_self_points": "Điểm tự chấm hiện nay",
    "computed_points_at_decision": "Điểm dữ liệu lúc quyết định",
    "current_computed_points": "Điểm dữ liệu hiện nay",
    "state_label": "Tình trạng",
}


COUNTED_SHEET = "Dòng được đếm"
COUNTED_HEADERS = {
    "school_code": "Mã số trường",
    "criterion_code": "Mã TC",
    "role_label": "Vai trò",
    "source_file": "Tệp",
    "source_sheet": "Trang tính",
    "source_row": "Dòng",
    "fields_read": "Giá trị quy tắc đã đọc",
    "n_role": "Số dòng của vai trò",
}
COUNTED_ROLES = {"numerator": "Tử số", "denominator": "Mẫu số", "other": "Đọc, không tính"}


def counted_sheet(counted: pd.DataFrame) -> tuple[pd.DataFrame, dict[tuple, int]]:
    """The drill-down sheet's rows (school, criterion, numerator first, file/sheet/row order) and, per
    (school, criterion), the sheet row (1-based, after the header) where its rows start."""
    if counted is None or counted.empty:
        return pd.DataFrame(columns=list(COUNTED_HEADERS)), {}
    c = counted.assign(_r=counted["role"].map({"numerator": 0, "denominator": 1}).fillna(2))
    c = c.sort_values(
        ["school_code", "criterion_code", "_r", "source_file", "source_sheet", "source_row"],
        na_position="first",
        kind="stable",
    ).reset_index(drop=True)
    c["role_label"] = c["role"].map(COUNTED_ROLES).fillna(c["role"])
    c["source_file"] = c["source_file"].fillna("(yêu cầu của bộ chỉ số)")
    if "n_role" not in c.columns:
        c["n_role"] = c.groupby(["school_code", "criterion_code", "role"])["role"].transform("size")
    first: dict[tuple, int] = {}
    for i, key in enumerate(
        zip(c["school_code"].tolist(), c["criterion_code"].tolist(), strict=True), start=2
    ):
        first.setdefault(key, i)
    return c, first


def write_reviewer_workbook(path: Path, data: ReviewData) -> Path:
    """Write the reviewer workbook; returns its path."""
    rows = review_rows(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "in_memory": True,
            "nan_inf_to_errors": True,
        },
    )
    wb.set_properties(
        {"created": FIXED_CREATED, "author": "cds-assessment", "title": f"Thẩm định {data.school_year}"}
    )
    fmts = {
        "head": wb.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1}
        ),
        "input_head": wb.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#FFF2CC", "border": 1}
        ),
        "input": wb.add_format({"bg_color": "#FFFBEA"}),
        "num": wb.add_format({"num_format": "0.00"}),
    }
    used = {"tổng hợp", "cần xem lại", "qđ không hợp lệ", COUNTED_SHEET.lower()}
    counted, counted_at = counted_sheet(data.counted)
    link = wb.add_format({"font_color": "blue", "underline": 1})
    ws = wb.add_worksheet("Tổng hợp")
    _write_frame(wb, ws, unit_summary(rows, data), SUMMARY_HEADERS, fmts)
    labels = list(dec.DECISIONS)
    units = sorted(data.units()["managing_unit"].unique(), key=str)
    dcol = list(COLUMNS).index("decision_label")
    acol = list(COLUMNS).index("adjusted_points")
    by_unit = _by_unit(rows)
    for unit in units:
        part = by_unit.get(unit, rows.iloc[:0].reset_index(drop=True)) if len(rows) else rows
        ws = wb.add_worksheet(_sheet_name(unit, used))
        _write_frame(wb, ws, part, COLUMNS, fmts)
        _link_counted(ws, part, counted_at, link)
        n = max(len(part), 1)
        ws.data_validation(
            1,
            dcol,
            n,
            dcol,
            {
                "validate": "list",
                "source": labels,
                "ignore_blank": True,
                "input_title": "Quyết định",
                "input_message": "Chọn một quyết định trong danh sách",
                "error_title": "Quyết định không hợp lệ",
                "error_message": "Chỉ chọn một giá trị trong danh sách.",
            },
        )
        for i, mx in enumerate(part["max_points"].tolist() if len(part) else [], start=1):
            hi = 1.0 if mx is None or pd.isna(mx) or mx == 0 else float(mx)
            ws.data_validation(
                i,
                acol,
                i,
                acol,
                {
                    "validate": "decimal",
                    "criteria": "between",
                    "minimum": 0,
                    "maximum": hi,
                    "error_title": "Điểm không hợp lệ",
                    "error_message": f"Điểm điều chỉnh phải từ 0 đến {hi:g}.",
                },
            )
    stale = data.states[data.states["state"] == "stale"].copy() if len(data.states) else pd.DataFrame()
    if len(stale):
        stale["decision_label"] = stale["decision"].map(dec.DECISION_LABELS)
        stale["state_label"] = stale["state"].map(dec.STATE_LABELS)
    _write_frame(wb, wb.add_worksheet("Cần xem lại"), stale, STALE_HEADERS, fmts)
    _write_frame(wb, wb.add_worksheet("QĐ không hợp lệ"), data.rejects, REJECT_HEADERS, fmts)
    _write_frame(wb, wb.add_worksheet(COUNTED_SHEET), counted, COUNTED_HEADERS, fmts)
    wb.close()
    return path


def findings_csv(findings: pd.DataFrame) -> pd.DataFrame:
    """`out/findings_<year>.csv` columns, queue order: the codes in their own columns (`finding`,
    `severity`) and, beside each, its Vietnamese name for the person who opens the file."""
    from indicator_sets.reconcile import FINDING_COLUMNS

    out = sort_queue(findings).reindex(columns=FINDING_COLUMNS)
    out.insert(list(out.columns).index("finding") + 1, "finding_label", out["finding"].map(FINDING_LABELS))
    out.insert(
        list(out.columns).index("severity") + 1, "severity_label", out["severity"].map(SEVERITY_LABELS)
    )
    return out
