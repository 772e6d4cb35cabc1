"""The models' inputs fingerprint (`warehouse.sql_models.inputs_fingerprint`): it changes with any row
or model SQL the models can see, not with per-file bookkeeping columns, and a full build records it so
that `models_current` can tell a later run that nothing needs rebuilding."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from connectors import raw_store
from indicator_sets.config import load_config_tables
from warehouse.sql_models import build_models, discover, inputs_fingerprint, models_current

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


def test_bookkeeping_columns_do_not_change_it(con: duckdb.DuckDBPyConnection) -> None:
    before = inputs_fingerprint(con)
    con.execute("UPDATE raw_grade_entry SET file_sha256 = 'h2'")
    assert inputs_fingerprint(con) == before


def test_rows_change_it_even_when_column_sums_stay(con: duckdb.DuckDBPyConnection) -> None:
    before = inputs_fingerprint(con)
    # swap the marks of the two students: every column holds the same values as before
    con.execute("UPDATE raw_grade_entry SET value_num = CASE WHEN value_num = 7 THEN 8 ELSE 7 END")
    assert inputs_fingerprint(con) != before


def test_quarantine_and_model_sql_change_it(con: duckdb.DuckDBPyConnection) -> None:
    models = discover()
    before = inputs_fingerprint(con, models)
    name = "stg_school__grade_entries"
    edited = {**models, name: dataclasses.replace(models[name], sql=models[name].sql + "\n-- edited\n")}
    assert inputs_fingerprint(con, edited) != before
    con.execute(
        "INSERT INTO quarantine_rows (stage, entity, source_file, source_sheet, source_row) "
        "VALUES ('validate', 'grade_entry', 'a.xlsx', 'Sheet1', 3)"
    )
    assert inputs_fingerprint(con, models) != before


def test_full_build_records_it_and_a_change_or_partial_build_forgets_it(
    con: duckdb.DuckDBPyConnection,
) -> None:
    models = discover()
    fp = inputs_fingerprint(con, models)
    assert not models_current(con, fp, models)
    build_models(con, models, None, fp)
    assert models_current(con, fp, models)
    assert con.execute("SELECT count(*) FROM stg_school__grade_entries").fetchone()[0] == 2
    con.execute("DELETE FROM raw_grade_entry WHERE student_key = 'k2'")
    assert not models_current(con, inputs_fingerprint(con, models), models)
    build_models(con, models, ["stg_school__grade_entries"], fp)  # a subset never records a fingerprint
    assert not models_current(con, fp, models)
    con.execute("DROP TABLE mart_indicator_values")
    build_models(con, models, None, fp)
    con.execute("DROP TABLE mart_indicator_values")  # a model gone: not current whatever the fingerprint
    assert not models_current(con, fp, models)
