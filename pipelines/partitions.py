"""The school-year partitions: one per school year from 2022-2023 (Decision 4725) to next year."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pipelines.settings import current_school_year

FIRST_START_YEAR = 2022


def school_years(today: dt.date | None = None) -> list[str]:
    last = int(current_school_year(today)[:4]) + 1
    return [f"{y}-{y + 1}" for y in range(FIRST_START_YEAR, last + 1)]


def school_year_partitions(today: dt.date | None = None) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(school_years(today))
