"""Assembles the Dagster definitions (assets by stage, job, resources); nothing else lives here.

`dagster dev` loads `defs` (resolved when the code location loads, not at import); `cds run` calls
`build_definitions` with its own settings and runs the same job in-process.

Every way of launching a school year runs like `cds_school_year_job`: the in-process executor is the
code location's default (DuckDB has one writer), and the UI's default asset job ("Materialize all" →
a partition, which Dagster names `__ASSET_JOB`) is defined here as the same selection with the same
`cds/warehouse` tag, so the run queue's one-run-at-a-time limit and the run-summary sensor see it too.

A multi-province deployment (`CDS_PROVINCES`) builds the same graph partitioned by province × school
year: the resources' paths are templates resolved per run (`pipelines.resources`), the sensor starts one
run per changed (province, year), the schedule one run per province, and the jobs carry no
`cds/warehouse` tag: the run queue limits runs per province on Dagster's own partition tag
(`dagster/partition/province`, README "Many provinces"), so different provinces run at the same time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from pipelines.assets.checks import build_checks  # data quality: audits + GX suites
from pipelines.assets.exports import build_export_assets
from pipelines.assets.ingest import build_ingest_assets
from pipelines.assets.models import build_model_assets
from pipelines.assets.publish import build_publish_assets
from pipelines.assets.quality_report import build_quality_report_assets
from pipelines.assets.reconcile import build_reconcile_assets
from pipelines.assets.schools import build_school_assets
from pipelines.assets.scoring import build_scoring_assets
from pipelines.assets.validate import build_validate_assets
from pipelines.lake_resource import LakeResource
from pipelines.lock_resource import LockedWarehouseResource
from pipelines.partitions import province_year_partitions, school_year_partitions, school_years
from pipelines.resources import PROVINCE, PipelineConfig
from pipelines.schedules import build_nightly_schedule
from pipelines.season import build_season_sensor
from pipelines.sensors import build_inbox_sensor, build_summary_sensor, step_groups
from pipelines.settings import Settings, get_settings
from warehouse.connection import province_warehouse

if TYPE_CHECKING:  # what dg.define_asset_job returns (not exported at the top level)
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

YEAR_JOB = "cds_school_year_job"
#: The name Dagster gives the asset graph's own job ("Materialize all" / "Materialize" in the UI).
UI_ASSET_JOB = "__ASSET_JOB"
RUN_TAGS = {"cds/warehouse": "exclusive"}
#: The tags of a multi-province deployment's jobs: no exclusive tag (the queue limits runs per province).
PROVINCE_RUN_TAGS = {"cds/deployment": "multi-province"}


def build_assets(parts: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every asset of the project, stage by stage."""
    return [
        *build_ingest_assets(parts),
        *build_validate_assets(parts),
        *build_model_assets(parts),
        *build_scoring_assets(parts),
        *build_reconcile_assets(parts),
        *build_export_assets(parts),
        *build_school_assets(parts),
        *build_quality_report_assets(parts),
        *build_publish_assets(parts),
    ]


def build_jobs(tags: dict[str, str]) -> list[UnresolvedAssetJobDefinition]:
    """The school-year job and the UI's default asset job, both in-process and tagged alike."""
    # In-process executor: one DuckDB writer at a time, and the warehouse lock is held once per run.
    job = dg.define_asset_job(
        YEAR_JOB,
        selection=dg.AssetSelection.all(),
        description="Chạy mọi giai đoạn cho một năm học.",
        executor_def=dg.in_process_executor,
        tags=tags,
    )
    # The UI's default asset job, as Dagster would build it but tagged like the school-year job (Dagster
    # gives its own no tags; a job of this name replaces it, see tests/integration/test_ui_launch.py).
    ui_job = dg.define_asset_job(
        UI_ASSET_JOB, selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor, tags=tags
    )
    return [job, ui_job]


def build_resources(settings: Settings) -> dict[str, object]:
    """The warehouse, pipeline and lake resources; with several provinces their paths are templates
    (`{province}` filled in when a run starts, pipelines.resources)."""
    inbox, warehouse, out = settings.inbox, settings.warehouse, settings.out
    lake_folder = settings.lake or settings.warehouse.parent / "lake"
    province_code = settings.province_code
    if settings.provinces:
        inbox, warehouse, out = inbox / PROVINCE, province_warehouse(warehouse, PROVINCE), out / PROVINCE
        province_code = PROVINCE
    return {
        "warehouse": LockedWarehouseResource(
            path=str(warehouse),
            threads=settings.duckdb_threads,
            memory_limit=settings.duckdb_memory_limit,
            lock_wait_seconds=settings.run_lock_wait_seconds,
        ),
        "pipeline": PipelineConfig(
            inbox=str(inbox),
            out=str(out),
            indicator_set=str(settings.indicator_set),
            hash_key=settings.hash_key.get_secret_value(),
            api_base_url=settings.api_base_url,
            api_key=settings.api_key.get_secret_value(),
            mode=settings.mode,
            province_name=settings.province_name,
        ),
        "lake": LakeResource(
            folder=str(lake_folder),
            catalog_uri=settings.lake_catalog_uri.get_secret_value(),
            warehouse_uri=settings.lake_warehouse_uri,
            province_code=province_code,
        ),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    provinces = settings.provinces
    parts: dg.PartitionsDefinition = (
        province_year_partitions(provinces) if provinces else school_year_partitions()
    )
    assets = build_assets(parts)
    jobs = build_jobs(PROVINCE_RUN_TAGS if provinces else RUN_TAGS)
    # the summary sensor reads the run's warehouse and writes its summary beside the outputs
    warehouse = province_warehouse(settings.warehouse, PROVINCE) if provinces else settings.warehouse
    out = settings.out / PROVINCE if provinces else settings.out
    keys = school_years()
    checks = build_checks(parts, {k.to_user_string() for a in assets for k in a.keys})
    schedules = [build_nightly_schedule(YEAR_JOB, keys, provinces)]
    sensors = [
        build_inbox_sensor(
            settings.inbox,
            YEAR_JOB,
            keys,
            settings.sensor_debounce_seconds,
            settings.sensor_interval_seconds,
            provinces=provinces,
        ),
        build_summary_sensor(
            [*jobs], warehouse, out, step_groups(assets, checks), settings.run_lock_wait_seconds
        ),
    ]
    sensors.append(build_season_sensor(settings.out, provinces))  # each province's status files
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=jobs,
        resources=build_resources(settings),
        schedules=schedules,
        sensors=sensors,
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(get_settings())
