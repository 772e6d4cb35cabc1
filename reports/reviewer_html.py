"""The static reviewer report (`out/reviewer_<year>.html`): one self-contained file, no server, no CDN.

Province overview (level distribution per managing unit, self vs computed totals, the criteria most
often over-claimed, the verification factor), a searchable findings table (a small inline script), and
one section per school with its criteria, findings and the year-over-year analysis (which criteria lost
or gained points against last year's final values, and the numerator/denominator changes behind it).
Charts are inline SVG built here; every value reaches the page through Jinja2 autoescaping.
"""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
import pandas as pd

from indicator_sets.model import IndicatorSet
from indicator_sets.reconcile import VKEYS, round_half_up
from reports.cells import as_float
from reports.reviewer_workbook import (
    FINDING_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    ReviewData,
    _fmt,
    review_rows,
)
from reports.thi_dua import ORIGIN_LABELS

TEMPLATES = Path(__file__).parent / "templates"
LEVEL_COLORS = {1: "#e06666", 2: "#f6b26b", 3: "#93c47d"}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    )
    env.filters["pts"] = _fmt
    return env


# ------------------------------------------------------------------------------------------ charts
def level_bars(table: pd.DataFrame) -> dict:
    """Level distribution per managing unit, self-declared vs proposed: rows of stacked-bar segments."""
    rows = []
    for unit, part in sorted(table.groupby("managing_unit"), key=lambda x: str(x[0])):
        n = max(len(part), 1)
        for kind, col in (("Tự đánh giá", "self_level"), ("Đề xuất", "prop_level")):
            if col not in part.columns:
                continue
            segs, x = [], 0.0
            for lv in (1, 2, 3):
                k = int((part[col] == lv).sum())
                w = 300.0 * k / n
                segs.append(
                    {"x": round(x, 1), "w": round(w, 1), "n": k, "level": lv, "color": LEVEL_COLORS[lv]}
                )
                x += w
            rows.append({"unit": str(unit), "kind": kind, "segs": segs, "n": len(part)})
    for i, r in enumerate(rows):
        r["y"] = 10 + i * 22
    return {"rows": rows, "height": 20 + 22 * len(rows)}


def mixed_totals(final: pd.DataFrame, iset: IndicatorSet) -> dict[object, float]:
    """Per school: the total of both groups with computed points where the data gives them (status ok)
    and self points elsewhere — the figure LEVEL_CHANGE compares with the self-declared total, so the
    chart and the finding text show the same number."""
    if final.empty:
        return {}
    from indicator_sets.reconcile import mixed_scores

    m = mixed_scores(final, iset)
    total = sum((m[f"group_{g.code.lower()}_points"] for g in iset.groups), pd.Series(0.0, index=m.index))
    return dict(zip(m["school_code"].tolist(), total.round(2).tolist(), strict=True))


SCATTER_TICKS = (0, 50, 100, 150, 200)


def scatter(table: pd.DataFrame, mixed: dict[object, float] | None = None, size: int = 340) -> dict:
    """Self-declared total (x) vs the total with computed points where the data gives them (y) per
    school, both on 0–200, with tick numbers on both axes."""
    left, bottom, span = 40, size - 30, size - 50
    pts = []
    if "self_dh_points" in table.columns:
        for r in table.itertuples(index=False):
            s = (as_float(r.self_dh_points) or 0) + (as_float(r.self_qt_points) or 0)
            c = (mixed or {}).get(r.school_code)
            if c is None:
                continue
            pts.append(
                {
                    "cx": round(left + s / 200 * span, 1),
                    "cy": round(bottom - c / 200 * span, 1),
                    "code": r.school_code,
                    "label": f"{r.school_code}: tự đánh giá {_fmt(s)}; thay điểm tính từ dữ liệu (nơi có số "
                    f"liệu) {_fmt(c)}",
                    "color": "#cc0000" if c < s - 1e-9 else "#3c78d8",
                }
            )
    ticks = [
        {"v": t, "x": round(left + t / 200 * span, 1), "y": round(bottom - t / 200 * span, 1)}
        for t in SCATTER_TICKS
    ]
    return {
        "points": pts,
        "size": size,
        "left": left,
        "lo": bottom,
        "hi": bottom - span,
        "right": left + span,
        "ticks": ticks,
    }


def over_claim_bars(findings: pd.DataFrame, top: int = 10) -> dict:
    f = findings[findings["finding"] == "OVER_CLAIM"] if len(findings) else findings
    counts = (
        f.groupby("criterion_code").size().sort_values(ascending=False).head(top) if len(f) else pd.Series()
    )
    mx = max([int(v) for v in counts.to_numpy()] or [1])
    rows = [
        {"code": str(k), "n": int(v), "w": round(260 * int(v) / mx, 1), "y": 10 + i * 20}
        for i, (k, v) in enumerate(counts.items())
    ]
    return {"rows": rows, "height": 20 + 20 * len(rows)}


# ----------------------------------------------------------------------------------- year over year
def year_over_year(final: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Criteria whose points changed against last year's final values, with the reason in data terms."""
    cols = [*VKEYS, "points", "numerator", "denominator", "status", "value"]
    if previous is None or previous.empty or final.empty:
        return pd.DataFrame(
            columns=["school_code", "criterion_code", "prev_points", "points", "delta", "reason"]
        )
    cur = final[final["kind"] != "mandatory"].reindex(columns=cols)
    prev = previous[previous.get("kind", pd.Series("", index=previous.index)) != "mandatory"].reindex(
        columns=cols
    )
    m = cur.merge(
        prev.drop(columns="school_year"),
        on=["school_code", "criterion_code"],
        how="left",
        suffixes=("", "_prev"),
    )
    out = []
    for r in m.to_dict("records"):
        a, b = as_float(r["points_prev"]), as_float(r["points"])
        if a is None and b is None:
            continue
        d = round_half_up((b or 0.0) - (a or 0.0)) or 0.0
        if abs(d) < 0.005 and r["status"] == r["status_prev"]:
            continue
        reasons = []
        if r["status"] != r["status_prev"]:
            reasons.append(
                f"trạng thái: {STATUS_LABELS.get(str(r['status_prev']), 'không có')} → "
                f"{STATUS_LABELS.get(str(r['status']), str(r['status']))}"
            )
        for label, x, y in (
            ("tử số", r["numerator_prev"], r["numerator"]),
            ("mẫu số", r["denominator_prev"], r["denominator"]),
        ):
            if as_float(x) != as_float(y) and not (as_float(x) is None and as_float(y) is None):
                reasons.append(f"{label} {_fmt(as_float(x))} → {_fmt(as_float(y))}")
        if not reasons and r["status"] == "self_declared":
            reasons.append("điểm tự khai/minh chứng thay đổi")
        out.append(
            {
                "school_code": r["school_code"],
                "criterion_code": r["criterion_code"],
                "prev_points": a,
                "points": b,
                "delta": d,
                "reason": "; ".join(reasons) or "giá trị thay đổi",
            }
        )
    return pd.DataFrame(out)


# ------------------------------------------------------------------------------------------ render
ROLE_LABELS = {"numerator": "Tử số", "denominator": "Mẫu số", "other": "Không tính"}


def _counted_by_school(counted: pd.DataFrame) -> tuple[dict[tuple, list[dict]], dict[tuple, int]]:
    """(school, criterion) → the source rows its value counted (numerator first; as many as the export kept,
    see `pipelines.assets.exports.counted_rows`), and → how many rows it counted in all (every role)."""
    if counted is None or counted.empty:
        return {}, {}
    order = {"numerator": 0, "denominator": 1}
    c = counted.assign(_role=counted["role"].map(order).fillna(2))
    c = c.sort_values(
        ["school_code", "criterion_code", "_role", "source_file", "source_sheet", "source_row"],
        na_position="first",
        kind="stable",
    )
    out: dict[tuple, list[dict]] = {}
    totals: dict[tuple, int] = {}
    seen: set[tuple] = set()
    has_n = "n_role" in c.columns
    names = [
        "school_code",
        "criterion_code",
        "role",
        "source_file",
        "source_sheet",
        "source_row",
        "fields_read",
    ]
    columns = [c[n].tolist() for n in names]  # one pass per column, not a dict per row
    n_role = c["n_role"].tolist() if has_n else [0] * len(c)
    for school, criterion, role, file, sheet, row, fields, n in zip(*columns, n_role, strict=True):
        key = (school, criterion)
        no_file = file is None or (isinstance(file, float) and pd.isna(file))
        out.setdefault(key, []).append(
            {
                "role": ROLE_LABELS.get(role, role),
                "file": "(yêu cầu của bộ chỉ số)" if no_file else file,
                "sheet": sheet or "",
                "row": "" if row is None or pd.isna(row) else int(row),
                "fields": fields or "",
            }
        )
        if (key, role) not in seen:
            seen.add((key, role))
            totals[key] = totals.get(key, 0) + int(n)
    if not has_n:
        totals = {k: len(v) for k, v in out.items()}
    return out, totals


def _by_school(records: list[dict]) -> dict[object, list[dict]]:
    """Records grouped by their school code, in order (what `groupby("school_code")` + `to_dict` per
    group gave, without a frame per school)."""
    out: dict[object, list[dict]] = {}
    for r in records:
        code = r["school_code"]
        if not (isinstance(code, float) and code != code):  # a group per code; no group for a missing one
            out.setdefault(code, []).append(r)
    return out


def _criterion_rows(data: ReviewData) -> dict[tuple[str, str], list[dict]]:
    """Per (school, year), the rows of its criteria table, from the final and proposed values (one pass
    over columns instead of one lookup per criterion)."""
    crit = data.iset.by_code()
    prop: dict[tuple, tuple] = {}
    if len(data.proposed):
        p = data.proposed
        for key, met, pts, origin in zip(
            zip(
                p["school_code"].tolist(),
                p["school_year"].tolist(),
                p["criterion_code"].tolist(),
                strict=True,
            ),
            p["proposed_met"].tolist(),
            p["proposed_points"].tolist(),
            p["origin"].tolist(),
            strict=True,
        ):
            prop.setdefault(key, (met, pts, origin))
    f = data.final
    cols = [
        "school_code",
        "school_year",
        "criterion_code",
        "kind",
        "max_points",
        "self_met",
        "self_points",
        "value",
        "points",
        "status",
        "numerator",
        "denominator",
        "has_evidence",
        "evidence_known",
    ]
    out: dict[tuple[str, str], list[dict]] = {}
    if "evidence_known" not in f.columns:
        f = f.assign(evidence_known=True)
    for (
        code,
        school_year,
        cc,
        kind,
        mx,
        self_met,
        self_points,
        value,
        points,
        status,
        num,
        den,
        evidence,
        known,
    ) in zip(*(f[c].tolist() for c in cols), strict=True):
        if (isinstance(code, float) and code != code) or (
            isinstance(school_year, float) and school_year != school_year
        ):
            continue  # groupby(KEYS) drops rows without a key
        pr = prop.get((code, school_year, cc))
        mand = kind == "mandatory"
        out.setdefault((code, school_year), []).append(
            {
                "code": cc,
                "name": crit[cc].name if cc in crit else "",
                "max": "ĐKBB" if mand else _fmt(mx),
                "self": ("Đạt" if self_met else "Chưa đạt") if mand else _fmt(self_points),
                "computed": ("Đạt" if as_float(value) == 1 else "Chưa đạt")
                if mand
                else _fmt(as_float(points)),
                "status": STATUS_LABELS.get(status, status),
                "numerator": _fmt(as_float(num)),
                "denominator": _fmt(as_float(den)),
                "value": "—"
                if mand or as_float(value) is None
                else f"{as_float(value):.4f}".rstrip("0").rstrip("."),
                "proposed": ""
                if pr is None
                else (("Đạt" if as_float(pr[0]) == 1 else "Chưa đạt") if mand else _fmt(as_float(pr[1]))),
                "origin": "" if pr is None else ORIGIN_LABELS.get(str(pr[2]), ""),
                "evidence": "có"
                if evidence
                else ("không" if known is not False else "không rõ (mẫu dạng ngang)"),
            }
        )
    return out


def render(data: ReviewData, table: pd.DataFrame, factors: dict[str, pd.DataFrame]) -> str:
    """The report as one HTML string."""
    crit = data.iset.by_code()
    rows = review_rows(data)
    units = data.units()
    yoy = year_over_year(data.final, data.previous)
    findings = rows.to_dict("records")
    by_school_findings = _by_school(findings)
    by_school_yoy = _by_school(yoy.to_dict("records")) if len(yoy) else {}
    unit_of: dict[object, tuple[object, object]] = {}
    for code, name, unit in zip(
        units["school_code"].tolist(),
        units["school_name"].tolist(),
        units["managing_unit"].tolist(),
        strict=True,
    ):
        unit_of.setdefault(code, (name, unit))
    trow = table.set_index("school_code") if len(table) else pd.DataFrame()
    mixed = mixed_totals(data.final, data.iset)
    counted, counted_total = _counted_by_school(data.counted)
    schools = []
    for (code, _year), crit_rows in sorted(_criterion_rows(data).items()):
        t = trow.loc[code] if code in trow.index else None
        name, unit = unit_of.get(code, ("", ""))
        factor = None if t is None else as_float(t.get("verification_factor"))
        schools.append(
            {
                "code": code,
                "name": name,
                "unit": unit,
                "self_level": None if t is None else t.get("self_level"),
                "level": None if t is None else t.get("level"),
                "prop_level": None if t is None else t.get("prop_level"),
                "self_total": None
                if t is None
                else _fmt(
                    (as_float(t.get("self_dh_points")) or 0) + (as_float(t.get("self_qt_points")) or 0)
                ),
                "total": None
                if t is None
                else _fmt(
                    (as_float(t.get("group_dh_points")) or 0) + (as_float(t.get("group_qt_points")) or 0)
                ),
                "mixed": _fmt(mixed.get(code)),
                "factor": None if factor is None else f"{factor:.2f}".replace(".", ","),
                "criteria": [
                    {
                        **c,
                        "counted": counted.get((code, c["code"]), []),
                        "counted_total": counted_total.get((code, c["code"]), 0),
                    }
                    for c in crit_rows
                ],
                "findings": by_school_findings.get(code, []),
                "yoy": by_school_yoy.get(code, []),
            }
        )
    fac = {k: v.to_dict("records") for k, v in factors.items()} if factors else {}
    for r in fac.get("criterion", []):
        r["name"] = crit[r["criterion_code"]].name if r["criterion_code"] in crit else ""
    province = fac.get("province", [{}])
    prov_factor = province[0].get("factor") if province else None
    if prov_factor is not None and not math.isfinite(float(prov_factor)):
        prov_factor = None  # no self-declared points to compare with: shown as "—"
    missing = [
        f"Nhóm {g.roman}: tổng điểm tối đa các tiêu chí là {data.iset.group_max_sum(g.code):g}, không phải "
        f"{g.max_points:g} (phần còn thiếu chưa xác định)"
        for g in data.iset.groups
        if abs(data.iset.group_max_sum(g.code) - g.max_points) > 1e-9
    ]
    return (
        _env()
        .get_template("reviewer_report.html.j2")
        .render(
            school_year=data.school_year,
            iset=data.iset,
            n_schools=len(schools),
            findings=findings,
            n_findings=len(rows),
            severity_labels=SEVERITY_LABELS,
            finding_labels=FINDING_LABELS,
            levels=level_bars(table) if len(table) else {"rows": [], "height": 20},
            scatter=scatter(table, mixed),
            over=over_claim_bars(data.findings),
            factors=fac,
            province_factor=prov_factor,
            schools=schools,
            level_colors=LEVEL_COLORS,
            has_previous=len(data.previous) > 0,
            warnings=missing,
            n_rejects=len(data.rejects),
            n_stale=int((data.states["state"] == "stale").sum()) if len(data.states) else 0,
        )
    )


def write_reviewer_html(
    path: Path, data: ReviewData, table: pd.DataFrame, factors: dict[str, pd.DataFrame]
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(data, table, factors), encoding="utf-8")
    return path
