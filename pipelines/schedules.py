"""The nightly schedule: every day at 01:00 Vietnam time, run the school-year job for the school year
that contains the scheduled day (in a multi-province deployment: for every province). It ships
STOPPED; an operator turns it on in the Dagster UI.

What belongs here: schedule definitions and the pure function that maps a fire time to a partition.
"""

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.partitions import partition_key
from pipelines.settings import current_school_year

NIGHTLY_SCHEDULE = "cds_nightly_schedule"
NIGHTLY_CRON = "0 1 * * *"
TIMEZONE = "Asia/Ho_Chi_Minh"


def school_year_for(scheduled: dt.datetime | None) -> str:
    """The school year of the scheduled day, read in Vietnam time (a fire at 01:00 ICT on 1 August
    is already the new year even though it is still 31 July in UTC)."""
    when = scheduled or dt.datetime.now(tz=ZoneInfo(TIMEZONE))
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(TIMEZONE))
    return current_school_year(when.astimezone(ZoneInfo(TIMEZONE)).date())


def build_nightly_schedule(
    job_name: str, partition_keys: list[str], provinces: Sequence[str] = ()
) -> dg.ScheduleDefinition:
    """The 01:00 schedule for `job_name`; it skips (with a reason) when the year is not a partition.
    `partition_keys`: the school years; with `provinces` (a multi-province deployment) it requests one
    run per province of that year."""

    @dg.schedule(
        name=NIGHTLY_SCHEDULE,
        cron_schedule=NIGHTLY_CRON,
        execution_timezone=TIMEZONE,
        job_name=job_name,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Chạy hằng đêm lúc 01:00 (giờ Việt Nam) cho năm học hiện tại.",
    )
    def _nightly(
        context: dg.ScheduleEvaluationContext,
    ) -> dg.RunRequest | dg.SkipReason | list[dg.RunRequest]:
        school_year = school_year_for(context.scheduled_execution_time)
        if school_year not in partition_keys:
            return dg.SkipReason(f"school year {school_year} is not a partition (reload the code location)")
        if provinces:
            return [
                dg.RunRequest(
                    partition_key=partition_key(p, school_year),
                    run_key=f"{p}|{school_year}",
                    tags={"cds/trigger": "schedule"},
                )
                for p in provinces
            ]
        return dg.RunRequest(partition_key=school_year, tags={"cds/trigger": "schedule"})

    return _nightly
