"""`cds explain`: for one school × criterion × school year, the rule, the figures and the source rows the
rule counted (numerator and denominator), read from the warehouse without SQL from the reviewer.

What belongs here: reading those three things (pure functions over a read-only DuckDB connection and the
indicator set) and formatting them as Vietnamese lines. The counted rows come from
`mart_indicator_provenance`, the union of the `int_counted__*` models of `dbt_like_sql/` (one per family
of criteria, each the one home of its rules; `int_criteria__*` only add them up), so the rows printed are
exactly those the value was computed from. A criterion the data does not compute (self-declared) says so
and lists the files behind its value instead. No personal data: codes, file/sheet/row and the values the
rule read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from indicator_sets.model import IndicatorSet
from reports.review_exports import counted_rows

ROLE_VI = {
    "numerator": "tử số",
    "denominator": "mẫu số",
    "other": "đọc nhưng không tính vào tử số hay mẫu số",
}
#: how a role's rows are named when they come from several entities (the parts of a composite rule)
ENTITY_VI = {
    "teaching_assignment": "cặp lớp × môn của sổ điểm (theo dòng phân công; các dòng điểm tóm tắt)",
    "student": "học sinh đang học",
    "transcript": "học bạ đã ký",
}
COMPUTED_RULES = ("presence", "ratio", "composite")
STATUS_VI = {
    "ok": "tính được",
    "no_data": "thiếu dữ liệu",
    "not_applicable": "không áp dụng",
    "self_declared": "theo tự khai",
}


@dataclass
class Explanation:
    """What `cds explain` prints for one school × criterion × year."""

    school: str
    criterion: str
    school_year: str
    rule: str
    figures: dict[str, object] = field(default_factory=dict)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    has_row_model: bool = False


def _num(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    f = float(str(v))  # a Python, NumPy or Decimal number (DuckDB returns each)
    return (f"{f:.6f}".rstrip("0").rstrip(".") if not f.is_integer() else str(int(f))).replace(".", ",")


def explain(
    con: duckdb.DuckDBPyConnection, iset: IndicatorSet, school: str, criterion: str, school_year: str
) -> Explanation:
    crit = iset.by_code().get(criterion)
    if crit is None:
        raise KeyError(f"Không có tiêu chí {criterion} trong bộ chỉ số {iset.id}")
    rule = crit.rule
    rule_text = f"Tiêu chí {crit.code} – {crit.name} (tối đa {_num(crit.max_points)} điểm"
    rule_text += ", điều kiện bắt buộc)" if crit.mandatory else ")"
    if rule is not None:
        detail = {
            "ratio": f"tỉ lệ tử số/mẫu số, đủ điểm khi đạt {_num(rule.target)}",
            "presence": f"đủ điểm khi đếm được ít nhất {rule.min_count}",
            "composite": "kết hợp " + ", ".join(f"{k} × {_num(w)}" for k, w in rule.parts.items()),
            "document": "theo tự khai có mã minh chứng",
            "mandatory": "đạt/chưa đạt theo tự khai có minh chứng",
        }[rule.type]
        params = "; ".join(f"{k} = {v}" for k, v in rule.params.items())
        rule_text += f"; quy tắc: {detail}" + (f" ({params})" if params else "")
    out = Explanation(school, criterion, school_year, rule_text)
    fig = con.execute(
        "SELECT numerator, denominator, value, points, status, self_points, source_files "
        "FROM score_indicators__final "
        "WHERE school_code = ? AND school_year = ? AND criterion_code = ?",
        [school, school_year, criterion],
    ).df()
    if len(fig):
        out.figures = {str(k): v for k, v in fig.iloc[0].to_dict().items()}
    out.has_row_model = rule is not None and rule.type in COMPUTED_RULES
    if out.has_row_model:
        out.rows = counted_rows(con, school_year, school=school, criterion=criterion)
    return out


def lines(e: Explanation) -> list[str]:
    """The explanation as Vietnamese lines for the terminal."""
    out = [f"Trường {e.school}, năm học {e.school_year}", e.rule]
    f = e.figures
    if not f:
        out.append("Chưa có giá trị cho trường và tiêu chí này trong kho dữ liệu (hãy chạy `cds run`).")
        return out
    out.append(
        f"Kết quả: tử số {_num(f.get('numerator'))}, mẫu số {_num(f.get('denominator'))}, giá trị "
        f"{_num(f.get('value'))}, điểm {_num(f.get('points'))} "
        f"({STATUS_VI.get(str(f.get('status')), f.get('status'))}); "
        f"trường tự chấm {_num(f.get('self_points'))}"
    )
    if not e.has_row_model:
        files = f.get("source_files")
        names = [str(x) for x in files] if isinstance(files, list | tuple | np.ndarray) else []
        listed = "; ".join(names) or "—"
        out.append(
            "Tiêu chí này theo tự khai của trường, không tính từ dữ liệu: không có dòng được đếm; "
            f"tệp nguồn: {listed}"
        )
        return out
    if not len(e.rows):
        out.append("Không có dòng nào được đếm cho trường, tiêu chí và năm học này.")
    for role in ("numerator", "denominator", "other"):
        part = e.rows[e.rows["role"] == role]
        if not len(part):
            continue
        head = (
            f"Dòng tính vào {ROLE_VI[role]} ({len(part)}"
            if role != "other"
            else f"Dòng {ROLE_VI[role]} ({len(part)}"
        )
        amounts = part["amount"].dropna()
        if role != "other" and len(amounts) and not (amounts == 1).all():
            head += f"; cộng lại {_num(amounts.sum())}"
        out.append(head + "):")
        order = list(ENTITY_VI)
        entities = sorted(
            dict.fromkeys(part["entity"].tolist()), key=lambda e: order.index(e) if e in order else 99
        )
        if len(entities) > 1:  # a composite rule: one block per part
            part = part.assign(_e=part["entity"].map({e: i for i, e in enumerate(entities)})).sort_values(
                "_e", kind="stable"
            )
        shown = None
        for r in part.to_dict("records"):  # Python values (None or NaN where a field is missing)
            if len(entities) > 1 and r["entity"] != shown:
                shown = r["entity"]
                n = int((part["entity"] == shown).sum())
                out.append(f"  {ENTITY_VI.get(str(shown), shown)} ({n}):")
            source_file, source_sheet, source_row = r["source_file"], r["source_sheet"], r["source_row"]
            if not isinstance(source_file, str):  # None or NaN: a counted unit with no source row
                where = "yêu cầu của bộ chỉ số (không có dòng nguồn)"
            else:
                where = source_file + (
                    f", trang {source_sheet}" if isinstance(source_sheet, str) and source_sheet else ""
                )
                if isinstance(source_row, int | float) and not math.isnan(source_row):
                    where += f", dòng {int(source_row)}"
            out.append(f"  - {where}: {r['fields_read']}")
    return out
