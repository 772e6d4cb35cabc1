"""The warehouse's table names (docs/conventions.md, "Table names"): after a sample run every table and
view follows the grammar of `warehouse.tables.NAME_RULES`, and a warehouse written under the names older
than the grammar keeps working: its tables are renamed (rows kept) when the next run opens it, and the
run succeeds."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from pipelines.runner import run_pipeline
from pipelines.settings import Settings, get_settings
from warehouse.tables import RENAMED, name_layer

pytestmark = pytest.mark.integration
YEAR = "2024-2025"
OLD_YEAR = "1999-2000"  # rows only the old tables hold: they reach the new names by the rename alone


def _names(warehouse: Path) -> dict[str, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall()
    finally:
        con.close()
    return dict(rows)


def _run(settings: Settings, log: Path) -> None:
    with log.open("w", encoding="utf-8") as fh:
        outcome = run_pipeline(settings, Console(file=fh, width=200), force=True)
    assert outcome.ok, log.read_text(encoding="utf-8")[-3000:]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One run of the sample inbox's province files and two schools (all the stages write their tables)."""
    root = tmp_path_factory.mktemp("names")
    for part in ("province", "08000001", "08000002"):
        shutil.copytree(Path("sample_exports/inbox") / YEAR / part, root / "inbox" / YEAR / part)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDS_INGEST_SETTLE_SECONDS", "0")  # the copies are complete: no settle time
        settings = get_settings(
            inbox=root / "inbox", warehouse=root / "wh.duckdb", out=root / "out", school_year=YEAR
        )
        _run(settings, root / "first.log")
        yield settings


def test_every_table_and_view_follows_the_grammar(sample_run: Settings) -> None:
    names = _names(Path(sample_run.warehouse))
    assert len(names) > 50, names  # the run wrote the warehouse
    misnamed = sorted(f"{n} ({t})" for n, t in names.items() if name_layer(n) is None)
    assert not misnamed, (
        f"tables or views outside the naming grammar of warehouse.tables.NAME_RULES: {misnamed}"
    )


@pytest.mark.slow
def test_a_warehouse_with_the_old_names_is_renamed_and_runs(sample_run: Settings, tmp_path: Path) -> None:
    """Turn the sample run's warehouse into one written before the grammar (the renamed tables back
    under their old names, each with a row of another school year only it holds), run again: the old
    names are gone, the rows are under the new names, and the run succeeded."""
    warehouse = tmp_path / "old.duckdb"
    shutil.copy(sample_run.warehouse, warehouse)
    settings = sample_run.model_copy(update={"warehouse": warehouse})
    con = duckdb.connect(str(warehouse))
    kept: dict[str, int] = {}
    try:
        schools = con.execute(
            "SELECT count(*) FROM score_schools__final WHERE school_year = ?", [YEAR]
        ).fetchone()
        for old, new in RENAMED.items():
            con.execute(f"ALTER TABLE {new} RENAME TO {old}")
            cols = [r[0] for r in con.execute(f"DESCRIBE {old}").fetchall()]
            if "school_year" in cols:
                con.execute(
                    f"INSERT INTO {old} SELECT * REPLACE (? AS school_year) FROM {old} "
                    "WHERE school_year = ? LIMIT 2",
                    [OLD_YEAR, YEAR],
                )
                kept[new] = con.execute(
                    f"SELECT count(*) FROM {old} WHERE school_year = ?", [OLD_YEAR]
                ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    assert sum(kept.values()) > 10, kept  # most tables had rows to copy

    _run(settings, tmp_path / "second.log")

    names = _names(warehouse)
    assert not set(RENAMED) & set(names), "old names left"
    assert set(RENAMED.values()) <= set(names)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for new, n in kept.items():
            got = con.execute(f"SELECT count(*) FROM {new} WHERE school_year = ?", [OLD_YEAR]).fetchone()
            assert got == (n,), (new, got, n)
        scored = con.execute(
            "SELECT count(*) FROM score_schools__final WHERE school_year = ?", [YEAR]
        ).fetchone()
        assert scored == schools, (scored, schools)  # this run's scores, written under the new name
    finally:
        con.close()
