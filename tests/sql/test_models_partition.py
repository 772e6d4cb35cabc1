"""Models built for one school year (`-- partition: school_year`, `warehouse.sql_models.build_models`):
on a warehouse holding two years (every fixture case's input rows, copied into a second year), a build
of one year after its rows changed leaves every model's rows of the other year exactly as they were,
and gives the year the rows a whole build gives it; and a partitioned model's rows of a year are the
same whether the other year is loaded or not (the header's claim)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from warehouse.sql_models import PARTITION_COLUMN, build_models, discover, load_model

pytestmark = pytest.mark.sql

CASES_ROOT = Path(__file__).parent
BUILT, OTHER = "2024-2025", "2025-2026"  # the year a run builds, the year it must leave alone


def _source_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'main' AND column_name = ? "
        "AND (table_name LIKE 'raw_%' OR table_name = 'dq_quarantine_rows')",
        [PARTITION_COLUMN],
    ).fetchall()
    return sorted(r[0] for r in rows)


@pytest.fixture()
def two_years(template_db: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Every case's input rows (cfg overrides left out) in the year they name, and a copy of the rows of
    BUILT in OTHER."""
    db = tmp_path / "two_years.duckdb"
    shutil.copyfile(template_db, db)
    con = duckdb.connect(str(db), config={"threads": 1})
    for csv in sorted(CASES_ROOT.glob("*/*/*.csv")):
        if csv.name == "expect.csv" or csv.stem.startswith("cfg_"):
            continue
        con.execute(
            f"INSERT {'OR IGNORE ' if csv.stem == 'ingest_manifest' else ''}INTO {csv.stem} BY NAME "
            f"SELECT * FROM read_csv('{csv.as_posix()}', all_varchar = true)"
        )
    for table in _source_tables(con):
        con.execute(
            f"INSERT INTO {table} SELECT * REPLACE ('{OTHER}' AS {PARTITION_COLUMN}) FROM {table} "
            f"WHERE {PARTITION_COLUMN} = '{BUILT}'"
        )
    con.execute(  # the files' manifest rows: their year is the delivery folder's
        f"INSERT INTO ingest_manifest SELECT * REPLACE ('{OTHER}' AS delivery_year, "
        f"'{OTHER}/' || source_file AS source_file) FROM ingest_manifest WHERE delivery_year = '{BUILT}'"
    )
    yield con
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, name: str, school_year: str) -> list[str]:
    """A model's rows of a year, as sorted text (a multiset)."""
    return sorted(
        map(repr, con.execute(f"SELECT * FROM {name} WHERE {PARTITION_COLUMN} = ?", [school_year]).fetchall())
    )


def _change_year(con: duckdb.DuckDBPyConnection, school_year: str) -> None:
    """Drop every third source row of the year and move every fifth mark: a year's run with changed files."""
    for table in _source_tables(con):
        con.execute(f"DELETE FROM {table} WHERE {PARTITION_COLUMN} = ? AND source_row % 3 = 0", [school_year])
    con.execute(
        "DELETE FROM ingest_manifest WHERE delivery_year = ? AND hash(source_file) % 3 = 0", [school_year]
    )
    con.execute(
        "UPDATE raw_grade_entry SET value_num = value_num / 2 WHERE school_year = ? AND source_row % 5 = 1",
        [school_year],
    )


def test_a_run_of_one_year_leaves_the_other_years_rows_as_they_were(
    two_years: duckdb.DuckDBPyConnection,
) -> None:
    con, models = two_years, discover()
    build_models(con, models, None, OTHER)  # nothing recorded: every table built whole
    assert all(
        _rows(con, n, OTHER) for n in ("int_counted__gradebook", "mart_indicator_values")
    )  # not a vacuum
    before = {n: _rows(con, n, OTHER) for n in models}
    _change_year(con, BUILT)
    built = {b.name: b.how for b in build_models(con, models, None, BUILT)}
    assert built["mart_indicator_values"] == "year" and built["int_counted__gradebook"] == "year"
    assert {n for n, how in built.items() if how == "table"} == {
        n for n, m in models.items() if m.materialization == "table" and not m.partition
    }
    changed = [n for n in models if _rows(con, n, OTHER) != before[n]]
    assert not changed, f"a run of {BUILT} changed rows of {OTHER} in {changed}"
    tables = [n for n, m in models.items() if m.materialization == "table"]
    of_year = {n: _rows(con, n, BUILT) for n in tables}
    build_models(con, models, None, None)  # whole
    differ = [n for n in tables if _rows(con, n, BUILT) != of_year[n]]
    assert not differ, f"the year's rows differ from a whole build in {differ}"


def test_a_partitioned_models_year_does_not_depend_on_other_years(
    two_years: duckdb.DuckDBPyConnection,
) -> None:
    con, models = two_years, discover()
    _change_year(con, OTHER)  # the years differ
    build_models(con, models, None, None)
    both = {n: _rows(con, n, BUILT) for n, m in models.items() if m.partition}
    for table in _source_tables(con):
        con.execute(f"DELETE FROM {table} WHERE {PARTITION_COLUMN} = ?", [OTHER])
    con.execute("DELETE FROM ingest_manifest WHERE delivery_year = ?", [OTHER])
    build_models(con, models, None, None)
    differ = [n for n in both if _rows(con, n, BUILT) != both[n]]
    assert not differ, f"'-- partition: {PARTITION_COLUMN}' but rows depend on another year in {differ}"


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("-- partition: school_code\n", "only 'school_year'"),
        (
            "-- partition: school_year\n-- grain: school_code (one row per school)\n",
            "grain keys do not hold it",
        ),
    ],
)
def test_the_partition_header_is_validated(header: str, error: str, tmp_path: Path) -> None:
    path = tmp_path / "int_bad.sql"
    grain = "" if "grain" in header else "-- grain: school_code, school_year (one row per school × year)\n"
    path.write_text(f"-- purpose: a test model\n{grain}{header}select 1 as school_code\n", encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_model(path, "intermediate")
