"""Raw tables without checkpoint vacuum: warehouse connections turn it off, and `compact_raw_tables`
rewrites a table once its deleted rows pass the threshold (same rows, views on it still work)."""

from pathlib import Path

import duckdb
import pytest

from connectors import raw_store

pytestmark = pytest.mark.unit


def _warehouse(tmp_path: Path, rows: int) -> duckdb.DuckDBPyConnection:
    con = raw_store.connect(tmp_path / "w.duckdb")
    raw_store.ensure_schema(con)
    con.execute(
        "INSERT INTO raw_grade_entry (school_code, school_year, source_file, source_row, student_key, slot, "
        "value_num) SELECT 'S' || (i % 7), '2024-2025', 'f' || (i // 1000) || '.xlsx', i, 'K' || i, i % 5, "
        "i / 10 FROM range(?) t(i)",
        [rows],
    )
    con.execute(
        "INSERT INTO raw_student (school_code, school_year, source_file, moet_id) "
        "SELECT 'S1', '2024-2025', 'hs.xlsx', 'M' || i FROM range(200000) t(i)"
    )
    con.execute("CREATE VIEW v_marks AS SELECT school_code, count(*) AS n FROM raw_grade_entry GROUP BY 1")
    con.execute("FORCE CHECKPOINT")
    return con


def test_warehouse_connections_do_not_vacuum(tmp_path: Path) -> None:
    con = raw_store.connect(tmp_path / "w.duckdb")
    assert con.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0] == 0


def test_compaction_rewrites_only_tables_past_the_threshold(tmp_path: Path) -> None:
    con = _warehouse(tmp_path, 400_000)
    # 30% of the marks go (every file loses some rows, as replaced files do), 10% of the students
    con.execute("DELETE FROM raw_grade_entry WHERE source_row % 10 < 3")
    con.execute("DELETE FROM raw_student WHERE moet_id LIKE '%7'")
    con.execute("FORCE CHECKPOINT")
    before = con.execute("SELECT * FROM raw_grade_entry").df()
    stored, live = raw_store.stored_rows(con, "raw_grade_entry")
    assert live == 280_000 and stored > live  # deleted rows are still stored: no vacuum
    students = raw_store.stored_rows(con, "raw_student")

    done = raw_store.compact_raw_tables(con)

    assert done == {"raw_grade_entry": (stored - live, live)}
    assert raw_store.stored_rows(con, "raw_grade_entry") == (live, live)
    assert raw_store.stored_rows(con, "raw_student") == students  # 10% dead: left alone
    after = con.execute("SELECT * FROM raw_grade_entry").df()
    assert list(after.columns) == list(before.columns)
    assert list(after.dtypes) == list(before.dtypes)
    con.register("b", before)
    con.register("a", after)
    assert con.execute("SELECT count(*) FROM (FROM b EXCEPT ALL FROM a)").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM (FROM a EXCEPT ALL FROM b)").fetchone()[0] == 0
    assert con.execute("SELECT sum(n) FROM v_marks").fetchone()[0] == live  # the view still binds
    assert raw_store.compact_raw_tables(con) == {}  # nothing left to reclaim


def test_compaction_skips_small_tables(tmp_path: Path) -> None:
    con = _warehouse(tmp_path, 50_000)
    con.execute("DELETE FROM raw_grade_entry WHERE source_row % 2 = 0")  # 50% dead but only 25k rows
    assert raw_store.compact_raw_tables(con) == {}
