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
    for name in (f"thi_dua_{YEAR}.xlsx", f"reviewer_{YEAR}.xlsx", f"reviewer_{YEAR}.html", f"findings_{YEAR}.csv",
                 f"data_quality_{YEAR}.html"):  # fmt: skip
        assert (tmp_path / "out" / name).is_file(), name
    if inbox_kind == "all_deferred":
        con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
        try:
            actions = con.execute("SELECT action FROM ingest_events").fetchall()
        finally:
            con.close()
        assert actions == [("deferred",)]
