"""The season's calendar with a fixed "today": the deadline settings (defaults, per-year entries,
validation), the status rule per school × expected source (on time, late, missing, at risk, days left),
the run summary's lines, and the deadline sensor's one report after a deadline (a real sensor tick)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from pydantic import ValidationError

from pipelines.run_summary import season_lines
from pipelines.season import build_season_sensor, deadline_report
from pipelines.settings import SeasonDeadlines, get_settings
from quality.coverage import Coverage, delivery_matrix
from reports.season import render_section, season_status, write_csv

pytestmark = pytest.mark.unit
YEAR = "2024-2025"
D = SeasonDeadlines(self_assessment=dt.date(2025, 5, 25), external_review=dt.date(2025, 6, 15))


def test_default_deadlines_are_25_may_and_15_june_of_the_second_year() -> None:
    s = get_settings()
    assert s.season(YEAR) == D
    assert s.season("2023-2024").self_assessment == dt.date(2024, 5, 25)


def test_a_year_of_its_own_and_validation() -> None:
    own = {YEAR: {"self_assessment": "2025-05-20", "external_review": "2025-06-10"}}
    s = get_settings(season_deadlines=own)
    assert s.season(YEAR).self_assessment == dt.date(2025, 5, 20)
    assert s.season("2025-2026").self_assessment == dt.date(2026, 5, 25)
    with pytest.raises(ValidationError):
        get_settings(season_self_assessment="02-30")
    with pytest.raises(ValidationError):
        get_settings(season_self_assessment="06-20", season_external_review="06-15")
    with pytest.raises(ValidationError):
        get_settings(
            season_deadlines={YEAR: {"self_assessment": "2025-06-20", "external_review": "2025-06-15"}}
        )
    with pytest.raises(ValidationError):
        get_settings(
            season_deadlines={"2024": {"self_assessment": "2025-05-20", "external_review": "2025-06-10"}}
        )


def _coverage() -> Coverage:
    """Three schools: A sent everything on 10/5, B sent its room list on 28/5 (late), C never sent its
    health records; C's staff file was quarantined."""
    schools = pd.DataFrame(
        {"school_code": ["A", "B", "C"], "school_name": ["Trường A", "Trường B", "Trường C"]}
    )
    on_time, late = pd.Timestamp("2025-05-10 09:00"), pd.Timestamp("2025-05-28 15:00")
    files, by_source = [], []
    from quality.coverage import EXPECTED_SOURCES

    for code in ("A", "B", "C"):
        for e in EXPECTED_SOURCES:
            if code == "C" and e == "health_record":
                continue
            when = late if (code, e) == ("B", "facility") else on_time
            files.append(
                {
                    "source_file": f"{YEAR}/{code}/{e}.xlsx",
                    "school_code": code,
                    "entities": e,
                    "status": "loaded",
                    "reason_code": None,
                    "rows_read": 10,
                    "rows_kept": 9,
                    "rows_rejected": 1,
                    "ingested_at": when,
                }
            )
            by_source.append(
                {"school_code": code, "entity": e, "n_files": 1, "n_rows": 9, "newest_ingest": when}
            )
    files.append(
        {
            "source_file": f"{YEAR}/C/x.xlsx",
            "school_code": "C",
            "entities": None,
            "status": "quarantined",
            "reason_code": "unknown_layout",
            "rows_read": 0,
            "rows_kept": 0,
            "rows_rejected": 0,
            "ingested_at": on_time,
        }
    )
    bs = pd.DataFrame(by_source)
    return Coverage(
        YEAR, schools, bs, pd.DataFrame(files), delivery_matrix(None, YEAR, school_list=schools, by_source=bs)
    )  # type: ignore[arg-type]


def test_status_per_school_and_source_with_a_fixed_today(tmp_path: Path) -> None:
    entities, schools = season_status(_coverage(), D, dt.date(2025, 5, 20), warn_days=7)
    st = {(r["school_code"], r["entity"]): r["status"] for r in entities.to_dict("records")}
    assert st[("A", "facility")] == "on_time"
    assert st[("B", "facility")] == "late"
    assert st[("C", "health_record")] == "missing"
    by = schools.set_index("school_code")
    assert by.loc["C", "at_risk"] and not by.loc["A", "at_risk"] and not by.loc["B", "at_risk"]
    assert by.loc["C", "days_left"] == 5 and by.loc["C", "quarantined_files"] == 1
    assert (
        by.loc["C", "status_label"]
        == "Thiếu 1 nguồn dữ liệu (Khám sức khỏe học sinh) — còn 5 ngày đến hạn tự đánh giá"
    )
    assert by.loc["B", "status_label"] == "Đủ dữ liệu, 1 nguồn nhận sau hạn (Phòng học, phòng chức năng)"
    assert by.loc["A", "status_label"] == "Đủ dữ liệu, đúng hạn"
    assert by.loc["A", "rows_rejected"] == 10
    assert schools["school_code"].iloc[0] == "C", "schools at risk first"
    # 20 days before: not yet at risk; after the self-assessment deadline: days left to the external review
    _e, early = season_status(_coverage(), D, dt.date(2025, 5, 5), warn_days=7)
    assert not early["at_risk"].any()
    _e, after = season_status(_coverage(), D, dt.date(2025, 6, 1), warn_days=7)
    assert after.set_index("school_code").loc["C", "days_left"] == 14
    assert "quá hạn tự đánh giá 7 ngày" in after.set_index("school_code").loc["C", "status_label"]
    html = render_section(YEAR, after, D, dt.date(2025, 6, 1))
    assert "Trường có nguy cơ không kịp hạn (còn thiếu dữ liệu): C." in html and "còn 14 ngày" in html
    csv = write_csv(tmp_path / "s.csv", entities, schools)
    back = pd.read_csv(csv, dtype=str)
    assert len(back) == 3 * 10 and set(back["status"]) == {"on_time", "late", "missing"}


def test_run_summary_lines_name_the_schools() -> None:
    season = {
        "self_assessment_deadline": "2025-05-25",
        "external_review_deadline": "2025-06-15",
        "today": "2025-06-01",
        "days_left": 14,
        "schools_at_risk": [{"school_code": "C", "missing": "Khám sức khỏe học sinh"}],
        "schools_late": [{"school_code": "B", "n_late": 1, "late": "Phòng học, phòng chức năng"}],
    }
    assert season_lines(season) == [
        "Lịch đánh giá: hạn đánh giá ngoài 15/06/2025, còn 14 ngày",
        "Trường có nguy cơ không kịp hạn: C (thiếu Khám sức khỏe học sinh)",
        "Trường nộp dữ liệu sau hạn: B (1 nguồn)",
    ]
    assert season_lines(None) == []


def test_deadline_report_before_and_after() -> None:
    rows = [
        {"school_code": "C", "entity_label": "Khám sức khỏe học sinh", "status": "missing"},
        {"school_code": "B", "entity_label": "Phòng học, phòng chức năng", "status": "late"},
        {"school_code": "A", "entity_label": "Danh sách lớp", "status": "on_time"},
    ]
    assert deadline_report(YEAR, D, dt.date(2025, 5, 25), rows) is None, "the deadline day itself is not late"
    key, msg = deadline_report(YEAR, D, dt.date(2025, 5, 26), rows)  # type: ignore[misc]
    assert key == f"{YEAR}:self_assessment"
    assert msg.startswith("Năm học 2024-2025: đã qua hạn tự đánh giá 25/05/2025 (1 ngày).")
    assert "Trường còn thiếu dữ liệu: C (Khám sức khỏe học sinh)." in msg
    assert "Trường gửi dữ liệu sau hạn tự đánh giá: B (1 nguồn)." in msg
    key, _msg = deadline_report(YEAR, D, dt.date(2025, 6, 16), rows)  # type: ignore[misc]
    assert key == f"{YEAR}:external_review"


def test_the_sensor_reports_once_after_the_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entities, schools = season_status(_coverage(), D, dt.date(2025, 5, 27), warn_days=7)
    write_csv(tmp_path / f"season_status_{YEAR}.csv", entities, schools)
    sensor = build_season_sensor(tmp_path)
    monkeypatch.setenv("CDS_SEASON_TODAY", "2025-05-20")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance)
        res = sensor(ctx)
        assert isinstance(res, dg.SkipReason) and "chưa đến hạn" in (res.skip_message or "")
        assert not (tmp_path / f"season_alert_{YEAR}.txt").exists()
        monkeypatch.setenv("CDS_SEASON_TODAY", "2025-05-27")
        ctx = dg.build_sensor_context(instance=instance)
        res = sensor(ctx)
        alert = (tmp_path / f"season_alert_{YEAR}.txt").read_text(encoding="utf-8")
        assert "C (Khám sức khỏe học sinh)" in alert and "B (1 nguồn)" in alert
        assert json.loads(ctx.cursor or "[]") == [f"{YEAR}:self_assessment"]
        again = sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor))
        assert "đã báo" in (again.skip_message or "")


def test_the_sensor_reports_each_province_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A multi-province deployment: each province's status file (`out/<province>/`) is read, each province
    is reported once per deadline in its own alert file, and a province with no run yet is said so."""
    entities, schools = season_status(_coverage(), D, dt.date(2025, 5, 27), warn_days=7)
    write_csv(tmp_path / "08" / f"season_status_{YEAR}.csv", entities, schools)
    sensor = build_season_sensor(tmp_path, ["08", "14"])
    monkeypatch.setenv("CDS_SEASON_TODAY", "2025-05-27")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance)
        res = sensor(ctx)
        assert isinstance(res, dg.SkipReason)
        a08 = (tmp_path / "08" / f"season_alert_{YEAR}.txt").read_text(encoding="utf-8")
        a14 = (tmp_path / "14" / f"season_alert_{YEAR}.txt").read_text(encoding="utf-8")
        assert a08.startswith("Tỉnh/thành phố 08: Năm học 2024-2025: đã qua hạn tự đánh giá")
        assert "C (Khám sức khỏe học sinh)" in a08 and "C (" not in a14
        assert "Chưa có lượt chạy nào" in a14
        assert json.loads(ctx.cursor or "[]") == [f"08|{YEAR}:self_assessment", f"14|{YEAR}:self_assessment"]
        again = sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor))
        assert "đã báo" in (again.skip_message or "")
