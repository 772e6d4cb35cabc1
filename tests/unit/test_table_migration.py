"""The table-name grammar and the rename of the tables an older warehouse holds (`warehouse.tables`):
a writable connection to a warehouse file renames each old table whose new name is free, rows kept,
and forgets the run and model state so the next run rebuilds the views that read the old names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse.connection import connect
from warehouse.tables import NAME_RULES, RENAMED, migrate_names, name_layer

pytestmark = pytest.mark.unit


def _tables(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def test_the_new_names_follow_the_grammar_and_the_old_ones_do_not() -> None:
    for old, new in RENAMED.items():
        assert name_layer(new) is not None, new
        assert name_layer(old) is None, old
    assert name_layer("score_indicators") is None  # a score table says which step
    assert name_layer("stg_rooms") is None  # a staging model says its source
    assert name_layer("raw_student") == "raw" and name_layer("stg_csdl__rooms") == "stg"
    assert set(NAME_RULES) >= {"raw", "ingest", "api", "dq", "score", "rec", "review", "ops", "stg", "mart"}


def test_an_old_warehouse_is_renamed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE findings (school_year VARCHAR, finding_id VARCHAR)")
    con.execute("INSERT INTO findings VALUES ('2023-2024', 'F1'), ('2023-2024', 'F2')")
    con.execute("CREATE TABLE quarantine_rows (school_year VARCHAR, source_file VARCHAR)")
    con.execute("INSERT INTO quarantine_rows VALUES ('2023-2024', 'a.xlsx')")
    con.execute("CREATE VIEW stg_csdl__rooms AS SELECT * FROM quarantine_rows")  # a view on an old name
    con.execute("CREATE TABLE ops_run_state (school_year VARCHAR, config_sha256 VARCHAR)")
    con.execute("INSERT INTO ops_run_state VALUES ('2023-2024', 'abc')")
    con.execute("CREATE TABLE ops_models_state (fingerprint VARCHAR, built_at TIMESTAMP)")
    con.execute("INSERT INTO ops_models_state VALUES ('f', now())")
    con.execute("CREATE TABLE ops_model_partitions (model VARCHAR, school_year VARCHAR, fingerprint VARCHAR)")
    con.execute("INSERT INTO ops_model_partitions VALUES ('int_criteria__lms', '2023-2024', 'f')")
    con.close()

    con = connect(path)
    try:
        assert con.execute("SELECT finding_id FROM rec_findings ORDER BY 1").fetchall() == [("F1",), ("F2",)]
        assert con.execute("SELECT source_file FROM dq_quarantine_rows").fetchall() == [("a.xlsx",)]
        assert con.execute("SELECT count(*) FROM ops_run_state").fetchone() == (0,)  # next run: a full one
        assert con.execute("SELECT count(*) FROM ops_models_state").fetchone() == (0,)  # models rebuilt
        assert con.execute("SELECT count(*) FROM ops_model_partitions").fetchone() == (0,)
        assert migrate_names(con) == []  # once: nothing left to rename
    finally:
        con.close()
    assert not {"findings", "quarantine_rows"} & _tables(path)


def test_a_new_name_already_there_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "both.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE validated_files (entity VARCHAR)")
    con.execute("INSERT INTO validated_files VALUES ('old')")
    con.execute("CREATE TABLE dq_validated_files (entity VARCHAR)")
    con.execute("INSERT INTO dq_validated_files VALUES ('live')")
    con.execute("CREATE TABLE ops_run_state (school_year VARCHAR)")
    con.execute("INSERT INTO ops_run_state VALUES ('2024-2025')")
    con.close()
    con = connect(path)
    try:
        assert con.execute("SELECT entity FROM dq_validated_files").fetchall() == [("live",)]
        assert con.execute("SELECT entity FROM validated_files").fetchall() == [("old",)]
        assert con.execute("SELECT count(*) FROM ops_run_state").fetchone() == (1,)  # nothing renamed
    finally:
        con.close()


def test_read_only_and_in_memory_connections_rename_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ro.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE school_scores (school_year VARCHAR)")
    con.close()
    connect(path, read_only=True).close()
    assert "school_scores" in _tables(path)
    connect(":memory:").close()


def test_opening_a_connection_still_loads_duckdb_alone(tmp_path: Path) -> None:
    """The runner's pre-flight opens the warehouse before anything else: no pandas for the migration."""
    code = (
        "import sys; from warehouse.connection import connect; connect(sys.argv[1]).close(); "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.strip() == "False"
