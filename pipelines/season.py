"""The season's deadline sensor: once the current school year's self-assessment deadline (then the
external-review deadline) has passed, it says so once — which schools still miss exports and which sent
them late, read from the latest `out/season_status_<year>.csv` (reports/season.py) — in the sensor's
log and tick, and in `out/season_alert_<year>.txt`. It starts no run, so it runs by default.

The decision is the pure function `deadline_report`, which the tests drive with a fixed "today".
"""

import csv
import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from pipelines.settings import SeasonDeadlines, current_school_year, get_settings
from reports.season import SeasonClock

SEASON_SENSOR = "cds_season_deadline_sensor"
_WHAT = {"self_assessment": "tự đánh giá", "external_review": "đánh giá ngoài"}


def season_clock(school_year: str) -> SeasonClock:
    """The calendar of `year` from the settings (`CDS_SEASON_*`), for the reports."""
    s = get_settings()
    return SeasonClock(s.season(school_year), s.season_today or dt.date.today(), s.season_warn_days)


def read_status(out: Path, school_year: str) -> list[dict[str, str]]:
    """The rows of `out/season_status_<year>.csv` (empty when no run wrote it yet)."""
    path = Path(out) / f"season_status_{school_year}.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def deadline_report(
    school_year: str, deadlines: SeasonDeadlines, today: dt.date, rows: list[dict[str, str]]
) -> tuple[str, str] | None:
    """(key, Vietnamese message) when a deadline of `year` has passed (the later one when both have),
    None before. `rows`: the season-status CSV rows (one per school × expected source)."""
    passed = [
        (k, d)
        for k, d in (
            ("self_assessment", deadlines.self_assessment),
            ("external_review", deadlines.external_review),
        )
        if today > d
    ]
    if not passed:
        return None
    which, day = passed[-1]
    missing: dict[str, list[str]] = {}
    late: dict[str, int] = {}
    for r in rows:
        if r.get("status") == "missing":
            missing.setdefault(r["school_code"], []).append(r["entity_label"])
        elif r.get("status") == "late":
            late[r["school_code"]] = late.get(r["school_code"], 0) + 1
    head = (
        f"Năm học {school_year}: đã qua hạn {_WHAT[which]} {day.strftime('%d/%m/%Y')} "
        f"({(today - day).days} ngày)."
    )
    if not rows:
        return (
            f"{school_year}:{which}",
            head + " Chưa có lượt chạy nào ghi tình trạng nộp dữ liệu của các trường.",
        )
    parts = [head]
    if missing:
        parts.append(
            "Trường còn thiếu dữ liệu: "
            + "; ".join(f"{c} ({', '.join(m)})" for c, m in sorted(missing.items()))
            + "."
        )
    else:
        parts.append("Mọi trường đã gửi đủ các nguồn dữ liệu bắt buộc.")
    if late:
        parts.append(
            "Trường gửi dữ liệu sau hạn tự đánh giá: "
            + "; ".join(f"{c} ({n} nguồn)" for c, n in sorted(late.items()))
            + "."
        )
    return f"{school_year}:{which}", " ".join(parts)


def build_season_sensor(
    out: Path, provinces: Iterable[str] = (), interval_seconds: int = 3600
) -> dg.SensorDefinition:
    """The deadline sensor over one province's `out` folder, or over `out/<province>/` of each province of
    a multi-province deployment (each province reported once per deadline, its alert in its own folder)."""
    folders = {p: Path(out) / p for p in provinces} or {"": Path(out)}

    @dg.sensor(
        name=SEASON_SENSOR,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Sau hạn tự đánh giá / đánh giá ngoài của năm học hiện tại: báo (một lần) các trường "
        "còn thiếu hoặc gửi dữ liệu sau hạn (out/season_alert_<năm học>.txt; nhiều tỉnh: "
        "out/<mã tỉnh>/season_alert_<năm học>.txt).",
    )
    def _season(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        settings = get_settings()
        today = settings.season_today or dt.date.today()
        school_year = current_school_year(today)
        reported = set(json.loads(context.cursor or "[]"))
        said: list[str] = []
        due = False
        for province, folder in folders.items():
            found = deadline_report(
                school_year, settings.season(school_year), today, read_status(folder, school_year)
            )
            if found is None:
                continue
            due = True
            key, message = found
            key = f"{province}|{key}" if province else key
            if key in reported:
                continue
            message = f"Tỉnh/thành phố {province}: {message}" if province else message
            path = folder / f"season_alert_{school_year}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(message + "\n", encoding="utf-8")
            context.log.warning(message)
            reported.add(key)
            said.append(message)
        if not due:
            return dg.SkipReason(f"{school_year}: chưa đến hạn")
        if not said:
            return dg.SkipReason(f"{school_year}: đã báo")
        context.update_cursor(json.dumps(sorted(reported)))
        return dg.SkipReason("\n".join(said))

    return _season
