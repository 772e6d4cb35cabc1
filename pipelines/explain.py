"""`cds explain`: for one school × criterion × school year, the rule, the figures and the source rows the
rule counted (numerator and denominator), read from the warehouse without SQL from the reviewer.

What belongs here: reading those three things (pure functions over a read-only DuckDB connection and the
indicator set) and formatting them as Vietnamese lines. The counted rows come from the `int_counted__*`
models of `dbt_like_sql/` (one per family of criteria, where each rule lives); a criterion whose family
has no such model yet says so and lists the files behind its value instead. No personal data: codes,
file/sheet/row and the values the rule read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from indicator_sets.model import IndicatorSet

ROLE_VI = {"numerator": "tử số", "denominator": "mẫu số"}
STATUS_VI = {"ok": "tính được", "no_data": "thiếu dữ liệu", "not_applicable": "không áp dụng",
             "self_declared": "theo tự khai"}  # fmt: skip


@dataclass
class Explanation:
    """What `cds explain` prints for one school × criterion × year."""

    school: str
    criterion: str
    year: str
    rule: str
    figures: dict[str, object] = field(default_factory=dict)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    has_row_model: bool = False


def _num(v: object) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "—"
    f = float(v)  # type: ignore[arg-type]
    return (f"{f:.6f}".rstrip("0").rstrip(".") if not f.is_integer() else str(int(f))).replace(".", ",")


def counted_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The `int_counted__*` views/tables present in the warehouse."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'int_counted\\_\\_%' ESCAPE '\\'"
    ).fetchall()
    return sorted(r[0] for r in rows)


def explain(
    con: duckdb.DuckDBPyConnection, iset: IndicatorSet, school: str, criterion: str, year: str
) -> Explanation:
    crit = iset.by_code().get(criterion)
    if crit is None:
        raise KeyError(f"Không có tiêu chí {criterion} trong bộ chỉ số {iset.id}")
    rule = crit.rule
    rule_text = f"Tiêu chí {crit.code} – {crit.name} (tối đa {_num(crit.max_points)} điểm"
    rule_text += ", điều kiện bắt buộc)" if crit.mandatory else ")"
    if rule is not None:
        detail = {"ratio": f"tỉ lệ tử số/mẫu số, đủ điểm khi đạt {_num(rule.target)}",
                  "presence": f"đủ điểm khi đếm được ít nhất {rule.min_count}",
                  "composite": "kết hợp " + ", ".join(f"{k} × {_num(w)}" for k, w in rule.parts.items()),
                  "document": "theo tự khai có mã minh chứng", "mandatory": "đạt/chưa đạt theo tự khai có minh chứng",
                  }[rule.type]  # fmt: skip
        params = "; ".join(f"{k} = {v}" for k, v in rule.params.items())
        rule_text += f"; quy tắc: {detail}" + (f" ({params})" if params else "")
    out = Explanation(school, criterion, year, rule_text)
    fig = con.execute(
        "SELECT numerator, denominator, value, points, status, self_points, source_files FROM final_indicator_values "
        "WHERE school_code = ? AND school_year = ? AND criterion_code = ?", [school, year, criterion]).df()  # fmt: skip
    if len(fig):
        out.figures = fig.iloc[0].to_dict()
    for model in counted_models(con):
        rows = con.execute(
            f"SELECT role, entity, source_file, source_sheet, source_row, item_code, amount, fields_read FROM {model} "
            "WHERE school_code = ? AND school_year = ? AND criterion_code = ? "
            "ORDER BY role DESC, source_file, source_sheet, source_row", [school, year, criterion]).df()  # fmt: skip
        model_crit = con.execute(
            f"SELECT count(*) FROM {model} WHERE criterion_code = ?", [criterion]
        ).fetchone()
        if len(rows) or (model_crit and model_crit[0]):
            out.rows = pd.concat([out.rows, rows], ignore_index=True) if len(out.rows) else rows
            out.has_row_model = True
    return out


def lines(e: Explanation) -> list[str]:
    """The explanation as Vietnamese lines for the terminal."""
    out = [f"Trường {e.school}, năm học {e.year}", e.rule]
    f = e.figures
    if not f:
        out.append("Chưa có giá trị cho trường và tiêu chí này trong kho dữ liệu (hãy chạy `cds run`).")
        return out
    out.append(f"Kết quả: tử số {_num(f.get('numerator'))}, mẫu số {_num(f.get('denominator'))}, giá trị "
               f"{_num(f.get('value'))}, điểm {_num(f.get('points'))} "
               f"({STATUS_VI.get(str(f.get('status')), f.get('status'))}); trường tự chấm {_num(f.get('self_points'))}")  # fmt: skip
    if not e.has_row_model:
        files = f.get("source_files")
        listed = "; ".join(map(str, files)) if files is not None and len(files) else "—"  # type: ignore[arg-type]
        out.append(f"Chưa có danh sách dòng được đếm cho tiêu chí này; tệp nguồn: {listed}")
        return out
    for role in ("numerator", "denominator"):
        part = e.rows[e.rows["role"] == role]
        if not len(part):
            continue
        out.append(f"Dòng tính vào {ROLE_VI[role]} ({len(part)}):")
        for r in part.itertuples(index=False):
            where = f"{r.source_file}" + (f", trang {r.source_sheet}" if r.source_sheet else "")
            where += f", dòng {int(r.source_row)}" if not pd.isna(r.source_row) else ""
            out.append(f"  - {where}: {r.fields_read}")
    return out
