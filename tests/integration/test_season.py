"""The season's calendar through the whole pipeline with a fixed "today" (1 June 2025, after the
self-assessment deadline of 25 May): a copy of the sample's 2024-2025 inbox where 08000003 never sent its
health records (missing) and 08000005's room list arrived on 28 May (late, planted in the manifest); the
CSV, the data-quality report and the run summary name them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # two whole runs; the unit tests cover the rule
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
YEAR = "2024-2025"


def test_planted_late_and_missing_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(INBOX / YEAR, inbox / YEAR)
    (inbox / YEAR / "08000003" / "KhamSucKhoe.xlsx").unlink()
    monkeypatch.setenv("CDS_SEASON_TODAY", "2025-06-01")
    settings = get_settings(
        inbox=inbox, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", school_year=YEAR
    )
    assert run_pipeline(settings, force=True)
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:  # every file arrived on 10 May, but 08000005's room list on 28 May
        con.execute("UPDATE ingest_manifest SET ingested_at = TIMESTAMP '2025-05-10 09:00:00'")
        con.execute(
            "UPDATE ingest_manifest SET ingested_at = TIMESTAMP '2025-05-28 15:00:00' WHERE source_file = ?",
            [f"{YEAR}/08000005/DanhSachPhong.xlsx"],
        )
    finally:
        con.close()
    assert run_pipeline(settings, force=True)

    status = pd.read_csv(tmp_path / "out" / f"season_status_{YEAR}.csv", dtype=str)
    st = {(r["school_code"], r["entity"]): r["status"] for r in status.to_dict("records")}
    assert st[("08000003", "health_record")] == "missing"
    assert st[("08000005", "facility")] == "late"
    assert st[("08000001", "facility")] == "on_time"
    late = status[status["status"] == "late"]
    assert set(late["school_code"] + "/" + late["entity"]) == {"08000005/facility"}
    at_risk = set(status.loc[status["at_risk"] == "True", "school_code"])
    # 08000004 of the sample never sends health records nor its sync log
    assert at_risk == {"08000003", "08000004"}
    assert set(status["days_left"]) == {"14"}

    summary = json.loads((tmp_path / "out" / f"run_summary_{YEAR}.json").read_text(encoding="utf-8"))
    season = summary["season"]
    assert [r["school_code"] for r in season["schools_at_risk"]] == ["08000003", "08000004"]
    assert season["schools_at_risk"][0]["missing"] == "Khám sức khỏe học sinh"
    assert [r["school_code"] for r in season["schools_late"]] == ["08000005"]
    from pipelines.run_summary import summary_lines

    lines = summary_lines(summary)
    assert "Trường có nguy cơ không kịp hạn: 08000003 (thiếu Khám sức khỏe học sinh); 08000004" in "\n".join(
        lines
    )
    assert "Trường nộp dữ liệu sau hạn: 08000005 (1 nguồn)" in lines

    report = (tmp_path / "out" / f"data_quality_{YEAR}.html").read_text(encoding="utf-8")
    assert "Lịch đánh giá năm học 2024-2025" in report
    assert "Trường có nguy cơ không kịp hạn (còn thiếu dữ liệu): 08000003, 08000004." in report
    assert "Đủ dữ liệu, 1 nguồn nhận sau hạn (Phòng học, phòng chức năng)" in report
