"""The nightly schedule fires at 01:00 Vietnam time and asks for the school year of that day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from pipelines.schedules import NIGHTLY_CRON, TIMEZONE, build_nightly_schedule, school_year_for

pytestmark = pytest.mark.unit
ICT = ZoneInfo(TIMEZONE)
KEYS = ["2023-2024", "2024-2025", "2025-2026"]


def _next_fires(start: dt.datetime, n: int) -> list[dt.datetime]:
    it = cron_string_iterator(start.timestamp(), NIGHTLY_CRON, TIMEZONE)
    return [next(it) for _ in range(n)]


def test_next_fire_times_are_01_00_ict_every_day() -> None:
    fires = _next_fires(dt.datetime(2025, 3, 10, 12, 0, tzinfo=ICT), 3)
    assert [f.astimezone(ICT).replace(tzinfo=None) for f in fires] == [
        dt.datetime(2025, 3, 11, 1, 0),
        dt.datetime(2025, 3, 12, 1, 0),
        dt.datetime(2025, 3, 13, 1, 0),
    ]
    # 01:00 ICT is 18:00 UTC the day before (Vietnam has no daylight saving time).
    assert fires[0].astimezone(dt.UTC) == dt.datetime(2025, 3, 10, 18, 0, tzinfo=dt.UTC)


def test_schedule_definition_carries_cron_and_timezone() -> None:
    schedule = build_nightly_schedule("job", KEYS)
    assert schedule.cron_schedule == NIGHTLY_CRON
    assert schedule.execution_timezone == TIMEZONE
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_year_boundary_is_read_in_vietnam_time() -> None:
    # 1 August 01:00 ICT is still 31 July in UTC, but it is already the new school year.
    first_of_august = dt.datetime(2025, 8, 1, 1, 0, tzinfo=ICT)
    assert school_year_for(first_of_august.astimezone(dt.UTC)) == "2025-2026"
    assert school_year_for(dt.datetime(2025, 7, 31, 1, 0, tzinfo=ICT)) == "2024-2025"


@pytest.mark.parametrize(
    ("when", "school_year"),
    [
        (dt.datetime(2025, 7, 31, 1, 0, tzinfo=ICT), "2024-2025"),
        (dt.datetime(2025, 8, 1, 1, 0, tzinfo=ICT), "2025-2026"),
    ],
)
def test_evaluating_the_schedule_requests_that_years_partition(when: dt.datetime, school_year: str) -> None:
    schedule = build_nightly_schedule("job", KEYS)
    request = schedule(build_schedule_context(when))  # direct invocation runs the schedule function
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == school_year
    assert request.tags["cds/trigger"] == "schedule"


def test_schedule_skips_a_year_that_is_not_a_partition() -> None:
    schedule = build_nightly_schedule("job", KEYS)
    result = schedule(build_schedule_context(dt.datetime(2030, 9, 1, 1, 0, tzinfo=ICT)))
    assert isinstance(result, dg.SkipReason)
    assert "2030-2031" in (result.skip_message or "")


def build_schedule_context(when: dt.datetime) -> dg.ScheduleEvaluationContext:
    return dg.build_schedule_context(scheduled_execution_time=when)
