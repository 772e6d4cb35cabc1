"""The partitions of the pipeline, and reading them back in a step or from a run's tags.

A one-province deployment (the default) is partitioned by school year only: one partition per school
year from 2022-2023 (Decision 4725) to next year. A multi-province deployment (`CDS_PROVINCES`) is
partitioned by province × school year (`MultiPartitionsDefinition`, dimensions `province` and
`school_year`): a province's year runs, re-runs and backfills alone. The steps never read the partition
key directly: `year_of` / `province_of` work for both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import dagster as dg

from pipelines.settings import current_school_year

FIRST_START_YEAR = 2022
PROVINCE_DIM = "province"
YEAR_DIM = "school_year"
#: The run tag Dagster gives a run of one province (a multi-partitioned run carries one tag per dimension);
#: the run queue's per-province limit is set on it (README, "Many provinces").
PROVINCE_TAG = f"dagster/partition/{PROVINCE_DIM}"


def school_years(today: dt.date | None = None) -> list[str]:
    last = int(current_school_year(today)[:4]) + 1
    return [f"{y}-{y + 1}" for y in range(FIRST_START_YEAR, last + 1)]


def school_year_partitions(today: dt.date | None = None) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(school_years(today))


def province_year_partitions(
    provinces: Sequence[str], today: dt.date | None = None
) -> dg.MultiPartitionsDefinition:
    """Province × school year (a multi-province deployment)."""
    return dg.MultiPartitionsDefinition(
        {
            PROVINCE_DIM: dg.StaticPartitionsDefinition(sorted(provinces)),
            YEAR_DIM: school_year_partitions(today),
        }
    )


def partition_key(province: str | None, school_year: str) -> str | dg.MultiPartitionKey:
    """The partition key of a school year (one-province deployment: `province` None) or a province's year."""
    if province is None:
        return school_year
    return dg.MultiPartitionKey({PROVINCE_DIM: province, YEAR_DIM: school_year})


def split_key(key: str) -> tuple[str | None, str]:
    """(province, year) of a partition key: `2024-2025` → (None, year); `08|2024-2025` → ("08", year)."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return dims[PROVINCE_DIM], dims[YEAR_DIM]
    if "|" in key:  # the string form of a multi-partition key: dimensions in name order
        province, school_year = key.split("|", 1)
        return province, school_year
    return None, key


def year_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> str:
    """The school year a step works on, in either kind of deployment."""
    return split_key(context.partition_key)[1]


def province_of_tags(tags: Mapping[str, str]) -> str | None:
    """The province of a run from its tags (None in a one-province deployment)."""
    if PROVINCE_TAG in tags:
        return tags[PROVINCE_TAG]
    key = tags.get("dagster/partition")
    return split_key(key)[0] if key else None
