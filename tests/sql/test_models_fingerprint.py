"""The models' per-year fingerprints (`warehouse.sql_models.Fingerprints`): a year's fingerprint of a
model changes with any row of that year or model SQL the model can see, not with per-file bookkeeping
columns nor with another year's rows, and a build of the year records it so that the next build of the
same year skips the model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from connectors import raw_store
from indicator_sets.config import load_config_tables
from warehouse.sql_models import Fingerprints, SqlModel, build_models, discover

pytestmark = pytest.mark.sql

YAML = Path(__file__).resolve().parents[2] / "indicator_sets" / "qd4725_2022.yaml"
GRADES = """
INSERT INTO raw_grade_entry (school_code, school_year, scheme, class_name, student_key, moet_id, subject_code,
    semester, component, slot, value_num, source_file, file_sha256, source_sheet, source_row)
VALUES
    ('S1', '2024-2025', 'TT22', '6A', 'k1', '0000000001', 'TOAN', 'HK1', 'tx', 1, 7.0,
        'a.xlsx', 'h1', 'Sheet1', 2),
    ('S1', '2024-2025', 'TT22', '6A', 'k2', '0000000002', 'TOAN', 'HK1', 'tx', 1, 8.0,
        'a.xlsx', 'h1', 'Sheet1', 3)
"""


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect(":memory:")
    raw_store.ensure_schema(c)
    load_config_tables(c, YAML)
    c.execute(GRADES)
    yield c
    c.close()


YEAR = "2024-2025"
MART = "mart_indicator_values"


def fingerprint(con: duckdb.DuckDBPyConnection, models: dict[str, SqlModel] | None = None) -> str:
    return Fingerprints(con, models or discover(), YEAR).of(MART)


def test_bookkeeping_columns_do_not_change_it(con: duckdb.DuckDBPyConnection) -> None:
    before = fingerprint(con)
    con.execute("UPDATE raw_grade_entry SET file_sha256 = 'h2'")
    assert fingerprint(con) == before


def test_rows_change_it_even_when_column_sums_stay(con: duckdb.DuckDBPyConnection) -> None:
    before = fingerprint(con)
    # swap the marks of the two students: every column holds the same values as before
    con.execute("UPDATE raw_grade_entry SET value_num = CASE WHEN value_num = 7 THEN 8 ELSE 7 END")
    assert fingerprint(con) != before


def test_another_years_rows_do_not_change_it(con: duckdb.DuckDBPyConnection) -> None:
    before = fingerprint(con)
    con.execute(
        "INSERT INTO raw_grade_entry SELECT * REPLACE ('2023-2024' AS school_year) FROM raw_grade_entry"
    )
    assert fingerprint(con) == before
    con.execute("UPDATE raw_grade_entry SET school_year = NULL WHERE school_year = '2023-2024'")
    assert fingerprint(con) != before  # a row without a year may be any year's


def test_quarantine_and_model_sql_change_it(con: duckdb.DuckDBPyConnection) -> None:
    models = discover()
    before = fingerprint(con, models)
    name = "stg_school__grade_entries"
    edited = {**models, name: dataclasses.replace(models[name], sql=models[name].sql + "\n-- edited\n")}
    assert fingerprint(con, edited) != before
    con.execute(
        "INSERT INTO dq_quarantine_rows (stage, entity, source_file, source_sheet, source_row, school_year) "
        "VALUES ('validate', 'grade_entry', 'a.xlsx', 'Sheet1', 3, '2024-2025')"
    )
    assert fingerprint(con, models) != before


def _how(
    con: duckdb.DuckDBPyConnection,
    models: dict[str, SqlModel],
    selected: list[str] | None = None,
    school_year: str | None = YEAR,
) -> dict[str, str]:
    return {b.name: b.how for b in build_models(con, models, selected, school_year)}


def test_a_build_of_the_year_records_it_and_a_change_rebuilds_the_year(
    con: duckdb.DuckDBPyConnection,
) -> None:
    models = discover()
    first = _how(con, models)
    assert first[MART] == "table"  # nothing recorded yet: built whole
    assert first["int_schools__universe"] == "table" and first["stg_school__grade_entries"] == "view"
    again = _how(con, models)
    assert again[MART] == "skipped" and again["int_counted__gradebook"] == "skipped"
    assert again["int_schools__universe"] == "table"  # reads across years: always whole
    con.execute("DELETE FROM raw_grade_entry WHERE student_key = 'k2'")
    changed = _how(con, models)
    assert changed["int_counted__gradebook"] == "year" and changed[MART] == "year"
    assert _how(con, models, school_year="2023-2024")[MART] == "year"  # a year never built here
    assert _how(con, models, school_year="2023-2024")[MART] == "skipped"
    edited = {**models, MART: dataclasses.replace(models[MART], sql=models[MART].sql + "\n-- edited\n")}
    assert _how(con, edited)[MART] == "table"  # other SQL: its other years were built with the old one
    assert _how(con, edited, school_year="2023-2024")[MART] == "year"
    _how(con, models, school_year=None)  # a build without a year forgets every recorded fingerprint
    assert _how(con, models)[MART] == "table"
    con.execute(f"DROP TABLE {MART}")  # a model gone: built whole whatever the fingerprint
    assert _how(con, models)[MART] == "table"
