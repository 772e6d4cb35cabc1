"""A year with nothing to read on a brand-new warehouse (the first run of a season, or a first run whose
every file is still being written and so deferred) completes with empty outputs instead of failing in
the export steps (the score tables are written empty)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import openpyxl
import pytest
from rich.console import Console

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings

pytestmark = pytest.mark.integration
YEAR = "2024-2025"


@pytest.mark.parametrize("inbox_kind", ["empty", "all_deferred"])
def test_first_run_of_an_empty_year_completes(
    tmp_path: Path, inbox_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / YEAR).mkdir(parents=True)
    if inbox_kind == "all_deferred":  # a file copied in a second ago waits for the settle time
        monkeypatch.setenv("CDS_INGEST_SETTLE_SECONDS", "3600")
        (inbox / YEAR / "08000001").mkdir()
        wb = openpyxl.Workbook()
        wb.active.append(["STT", "Mã phòng", "Tên phòng"])
        wb.save(inbox / YEAR / "08000001" / "PhongHoc.xlsx")
    settings = get_settings(
        inbox=inbox, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", school_year=YEAR
    )
    outcome = run_pipeline(settings, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    assert outcome.ok, outcome.summary
    for name in (
        f"thi_dua_{YEAR}.xlsx",
        f"reviewer_{YEAR}.xlsx",
        f"reviewer_{YEAR}.html",
        f"findings_{YEAR}.csv",
        f"data_quality_{YEAR}.html",
    ):
        assert (tmp_path / "out" / name).is_file(), name
    if inbox_kind == "all_deferred":
        con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
        try:
            actions = con.execute("SELECT action FROM ingest_events").fetchall()
        finally:
            con.close()
        assert actions == [("deferred",)]


@pytest.mark.slow
def test_the_run_after_an_all_deferred_first_run_loads_and_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run of a season found every file still being written (all deferred), so it wrote the
    score tables empty; the next run, with the files settled, must load and score them. The empty tables
    used to be created with column types guessed from an empty frame (DuckDB's NULL type, or DOUBLE for a text
    column pandas left as NaN), and the next run then failed in scoring ("Unimplemented type for cast
    (VARCHAR -> NULL)", "Could not convert string 'Trên 20 điểm' to DOUBLE") — `cds-bench` met it on a
    freshly generated inbox."""
    import shutil

    inbox = tmp_path / "inbox"
    for part in ("province", "08000001", "08000002"):
        shutil.copytree(Path("sample_exports/inbox") / YEAR / part, inbox / YEAR / part)
    for f in inbox.rglob("*"):
        if f.is_file():
            os.utime(f)  # copied just now: still "being written" for a 1-hour settle time
    settings = get_settings(
        inbox=inbox, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", school_year=YEAR
    )
    monkeypatch.setenv("CDS_INGEST_SETTLE_SECONDS", "3600")
    first = run_pipeline(settings, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    assert first.ok, first.summary
    monkeypatch.setenv("CDS_INGEST_SETTLE_SECONDS", "0")
    with (tmp_path / "second.log").open("w", encoding="utf-8") as fh:
        second = run_pipeline(settings, Console(file=fh, width=200))
    assert second.ok, (tmp_path / "second.log").read_text(encoding="utf-8")[-3000:]
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    try:
        n_first = con.execute("SELECT count(*) FROM ingest_events WHERE action = 'deferred'").fetchone()
        scored = {
            c for (c,) in con.execute("SELECT DISTINCT school_code FROM score_schools__scored").fetchall()
        }
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'score_schools__scored'"
            ).fetchall()
        )
    finally:
        con.close()
    assert n_first is not None and n_first[0] > 0, "the first run deferred the files"
    assert {"08000001", "08000002"} <= scored, scored
    assert types["school_code"] == "VARCHAR" and "NULL" not in types.values(), types
