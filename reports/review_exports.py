"""The warehouse reads behind the reviewer exports of one school year, and the flat CSVs written beside
the thi đua workbook.

What belongs here: reading the tables the thi đua workbook, the reviewer workbook, the reviewer HTML
report and the school packs show (`load_review`, once per run: the pipeline's `review_data` asset hands
the result to the four writers), building the thi đua frames from them, and the rows each criterion
counted (`counted_rows`, also read by `cds explain`). Codes, names, points and file references only:
everything read here is what those outputs print (no personal data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from indicator_sets import decisions as dec
from indicator_sets import reconcile as rc
from indicator_sets.code_mapping import across_reform
from indicator_sets.model import IndicatorSet
from reports.reviewer_workbook import ReviewData
from reports.thi_dua import DEFAULT_GROUPS, build_summary, build_table

PROVENANCE = "mart_indicator_provenance"
#: rows counted kept per school × criterion × role in the reviewer outputs (the rest: `cds explain`)
COUNTED_ROWS_SHOWN = 20
#: the columns of the counted rows (`counted_rows`)
COUNTED_COLUMNS = [
    "school_code",
    "criterion_code",
    "role",
    "entity",
    "item_code",
    "source_file",
    "source_sheet",
    "source_row",
    "amount",
    "fields_read",
    "n_role",
    "amount_role",
]
#: the columns of out/indicator_values_<year>.csv
VALUE_COLUMNS = [
    "school_code",
    "school_year",
    "criterion_code",
    "numerator",
    "denominator",
    "value",
    "points",
    "status",
]


def previous_year(school_year: str) -> str:
    """ "2024-2025" → "2023-2024"."""
    a, b = (int(x) for x in school_year.split("-"))
    return f"{a - 1}-{b - 1}"


def year_rows(con: duckdb.DuckDBPyConnection, table: str, school_year: str) -> pd.DataFrame:
    """Every row of `table` for `year` (an empty frame when the table does not exist yet)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchone()
    if not exists or not exists[0]:
        return pd.DataFrame()
    return con.execute(f"SELECT * FROM {table} WHERE school_year = ?", [school_year]).df()


def counted_rows(
    con: duckdb.DuckDBPyConnection,
    school_year: str,
    school: str | None = None,
    criterion: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The rows counted for `year` (one school and criterion when given) from `mart_indicator_provenance`,
    numerator first, in file, sheet and row order, with `n_role` = how many rows the school × criterion ×
    role has; with `limit`, at most that many per school × criterion × role (the reviewer outputs: a
    criterion counting every student of a school would otherwise put thousands of rows in them)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [PROVENANCE]
    ).fetchone()
    if not exists or not exists[0]:
        return pd.DataFrame(columns=COUNTED_COLUMNS)
    where, params = ["school_year = ?"], [school_year]
    for col, v in (("school_code", school), ("criterion_code", criterion)):
        if v is not None:
            where.append(f"{col} = ?")
            params.append(v)
    keep = f"WHERE rn <= {int(limit)}" if limit is not None else ""
    role_order = "CASE role WHEN 'numerator' THEN 0 WHEN 'denominator' THEN 1 ELSE 2 END"
    sql = (
        f"SELECT {', '.join(COUNTED_COLUMNS)} FROM ("
        "  SELECT *, count(*) OVER w AS n_role, sum(amount) OVER w AS amount_role, "
        "    row_number() OVER (w ORDER BY "
        "    source_file NULLS FIRST, source_sheet, source_row, item_code, fields_read) AS rn "
        f"  FROM {PROVENANCE} WHERE {' AND '.join(where)} "
        "  WINDOW w AS (PARTITION BY school_code, criterion_code, role)"
        f") {keep} "
        f"ORDER BY school_code, criterion_code, {role_order}, rn"
    )
    return con.execute(sql, params).df()


def school_registry(con: duckdb.DuckDBPyConnection, school_year: str) -> pd.DataFrame:
    """One row per school of the year's registry: code, name, managing unit, commune and level."""
    return con.execute(
        "SELECT school_code, school_year, any_value(name) AS school_name, "
        "any_value(managing_unit) AS managing_unit, any_value(commune_code) AS commune_code, "
        "any_value(commune_name) AS commune_name, any_value(level) AS level_code "
        "FROM raw_school WHERE school_year = ? GROUP BY ALL",
        [school_year],
    ).df()


def load_review_data(
    con: duckdb.DuckDBPyConnection, school_year: str, iset: IndicatorSet, code_mapping: Path | None = None
) -> ReviewData:
    """Read every table the reviewer outputs need for `year` (and last year's final values, under this
    year's school codes when a code mapping is set: indicator_sets/code_mapping.py)."""
    schools = school_registry(con, school_year)
    findings = year_rows(con, "rec_findings", school_year)
    if findings.empty:
        findings = pd.DataFrame(columns=rc.FINDING_COLUMNS)
    stored = year_rows(con, "review_decisions", school_year)
    before = previous_year(school_year)
    previous = year_rows(con, "score_indicators__final", before)
    return ReviewData(
        school_year=school_year,
        iset=iset,
        schools=schools,
        final=year_rows(con, "score_indicators__final", school_year),
        findings=findings,
        states=dec.decision_states(stored, findings),
        rejects=year_rows(con, "review_decisions__rejected", school_year),
        self_scores=year_rows(con, "score_schools__self", school_year),
        final_scores=year_rows(con, "score_schools__final", school_year),
        proposed=year_rows(con, "score_indicators__proposed", school_year),
        proposed_scores=year_rows(con, "score_schools__proposed", school_year),
        # last year's values under this year's codes
        previous=across_reform(con, before, previous, schools["school_code"], code_mapping),
        counted=counted_rows(con, school_year, limit=COUNTED_ROWS_SHOWN),
    )


def thi_dua_frames(
    data: ReviewData, groups: Sequence[str] = DEFAULT_GROUPS
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """(main table, summary per unit, verification factors) of the thi đua workbook."""
    units = data.units()
    factors = rc.verification_factors(data.final, units) if len(data.final) else {}
    table = build_table(
        data.final_scores,
        units.drop_duplicates(rc.KEYS),
        data.final,
        self_scores=data.self_scores,
        proposed_scores=data.proposed_scores,
        proposed=data.proposed,
        findings=data.findings,
        states=data.states,
        factors=factors.get("school"),
        groups=groups,
    )
    prov = factors.get("province")
    pf = (
        None
        if prov is None or prov.empty or pd.isna(prov["factor"].iloc[0])
        else float(prov["factor"].iloc[0])
    )
    summary = build_summary(table, factors.get("managing_unit"), pf, data.iset)
    return table, summary, factors


@dataclass
class Review:
    """What the reviewer exports of one school year show, read and built once per run."""

    data: ReviewData
    table: pd.DataFrame  # the thi đua main table
    summary: pd.DataFrame  # the thi đua summary per managing unit
    factors: dict[str, pd.DataFrame] = field(default_factory=dict)  # verification factors by level
    values: pd.DataFrame = field(default_factory=pd.DataFrame)  # out/indicator_values_<year>.csv
    province_code: str = ""  # from the school registry, named when no province name is set

    @property
    def province_label(self) -> str:
        """ "(mã tỉnh NN)", or "" when the registry names no province."""
        return f"(mã tỉnh {self.province_code})" if self.province_code else ""


def load_review(
    con: duckdb.DuckDBPyConnection,
    school_year: str,
    iset: IndicatorSet,
    code_mapping: Path | None = None,
    groups: Sequence[str] = DEFAULT_GROUPS,
) -> Review:
    """The year's review data, its thi đua frames, the values of the indicator-values CSV (the final
    values, document and mandatory points filled; the scoring stage's before reconciliation) and the
    registry's province code."""
    data = load_review_data(con, school_year, iset, code_mapping)
    table, summary, factors = thi_dua_frames(data, groups)
    values = data.final if not data.final.empty else year_rows(con, "score_indicators__scored", school_year)
    row = con.execute(
        "SELECT any_value(province_code) FROM raw_school WHERE school_year = ?", [school_year]
    ).fetchone()
    province = str(row[0]) if row and row[0] else ""
    return Review(data, table, summary, factors, values, province)


def write_value_csvs(out: Path, school_year: str, review: Review) -> tuple[Path, Path]:
    """out/indicator_values_<year>.csv and out/school_scores_<year>.csv (the computed side after
    reconciliation; the scores file only when the final scores exist)."""
    csv_path = out / f"indicator_values_{school_year}.csv"
    values = review.values.reindex(columns=VALUE_COLUMNS)
    values.sort_values(["school_code", "criterion_code"]).to_csv(csv_path, index=False)
    scores_path = out / f"school_scores_{school_year}.csv"
    final_scores = review.data.final_scores
    if not final_scores.empty:  # computed side after reconciliation (mandatory cap from evidence)
        prefixes = ("school_", "group_", "level", "criterion_1_3")
        score_cols = [c for c in final_scores.columns if c.startswith(prefixes)]
        final_scores[score_cols].sort_values("school_code").to_csv(scores_path, index=False)
    return csv_path, scores_path
