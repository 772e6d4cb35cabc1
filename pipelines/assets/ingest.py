"""Ingest stage: the file-drop connector loads new or changed inbox files into the raw tables (one
asset per canonical entity, all filled by one pass over the inbox)."""

import time
from collections.abc import Callable

import dagster as dg
import duckdb

from connectors.entities import load_entities
from connectors.filedrop import ingest_inbox
from connectors.workers import Limits
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource


def pull_api(con, pipeline: PipelineConfig, school_year: str, log) -> dict:
    """Pull the LMS metrics API when configured; a failing API is reported, not fatal for the files.

    The limits (`CDS_API_MAX_BODY_BYTES`, `CDS_API_REQUEST_DEADLINE_SECONDS`,
    `CDS_API_PULL_DEADLINE_SECONDS`) are read from the settings when the step runs. Every pull is
    recorded by the connector in `api_pulls`; the metadata returned here shows it on the asset, a failure
    with its code and its Vietnamese message."""
    if not pipeline.api_base_url:
        return {"lms_api": "off (CDS_API_BASE_URL not set)"}
    from connectors.http_client import RetryPolicy
    from connectors.http_lms import PullError, pull_lms_metrics
    from pipelines.settings import get_settings

    settings = get_settings()
    try:
        summary = pull_lms_metrics(
            con,
            pipeline.api_base_url,
            school_year,
            api_key=pipeline.api_key or None,
            hash_key=pipeline.hash_key,
            policy=RetryPolicy(total_budget_s=settings.api_request_deadline_seconds),
            pull_budget_s=settings.api_pull_deadline_seconds,
            max_body_bytes=settings.api_max_body_bytes,
        )
    except PullError as exc:
        log.warning(f"LMS API pull failed ({exc.code}): {exc}")
        return {"lms_api": "failed", "lms_api_error_code": exc.code, "lms_api_message": exc.message_vi}
    return {"lms_api": "ok", **{f"lms_api_{k}": v for k, v in summary.as_metadata().items()}}


def parse_limits() -> Limits:
    """The parse workers' limits from the settings (`CDS_INGEST_WORKER_MEMORY_MB`,
    `CDS_INGEST_WORKER_CPU_SECONDS`, `CDS_INGEST_MAX_SHEET_CELLS`), read when the step runs."""
    from pipelines.settings import get_settings

    s = get_settings()
    return Limits(
        memory_bytes=s.ingest_worker_memory_mb * 1024 * 1024,
        cpu_seconds=s.ingest_worker_cpu_seconds,
        max_cells=s.ingest_max_sheet_cells,
    )


def settle_seconds() -> int:
    """`CDS_INGEST_SETTLE_SECONDS`: files modified more recently are left for the next run."""
    from pipelines.settings import get_settings

    return get_settings().ingest_settle_seconds


PROGRESS_EVERY_S = 10.0  # at most one progress line per this many seconds (each is a stored Dagster event)


def throttled_progress(
    log: Callable[[str], None], every_s: float = PROGRESS_EVERY_S, clock: Callable[[], float] = time.monotonic
) -> Callable[[str], None]:
    """A progress callback for `ingest_inbox` that logs the file count and the current file at most once
    per `every_s` (the first file included): a log line per file made a province's cold run store tens of
    thousands of Dagster events."""
    n = 0
    last: float | None = None

    def progress(rel: str) -> None:
        nonlocal n, last
        n += 1
        now = clock()
        if last is None or now - last >= every_s:
            last = now
            log(f"ingesting file {n} of the changed ones: {rel}")

    return progress


def _rows_of_year(con: duckdb.DuckDBPyConnection, table: str, school_year: str) -> int:
    """The number of rows a raw table holds for a school year (the ingest step's metadata)."""
    (n,) = con.execute(f"SELECT count(*) FROM {table} WHERE school_year = ?", [school_year]).fetchone() or (
        0,
    )
    return int(n)


def raw_asset_keys() -> list[str]:
    return [e.table for e in load_entities().values()]


def build_ingest_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    specs = [
        dg.AssetSpec(
            e.table,
            description=e.description,
            group_name="ingest",
            partitions_def=partitions,
            kinds={"duckdb"},
        )
        for e in load_entities().values()
    ]
    specs.append(
        dg.AssetSpec(
            "ingest_manifest",
            group_name="ingest",
            partitions_def=partitions,
            kinds={"duckdb"},
            description="One row per inbox file: hash, layout, source rows read/kept/rejected "
            "(read = kept + rejected), records written to the raw tables, status "
            "and the reason when quarantined.",
        )
    )

    @dg.multi_asset(name="ingest_inbox", specs=specs, partitions_def=partitions, can_subset=False)
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig):
        school_year = year_of(context)
        with warehouse.connect() as con:
            summary = ingest_inbox(
                con,
                pipeline.inbox_path,
                school_year,
                hash_key=pipeline.hash_key,
                progress=throttled_progress(context.log.info),
                limits=parse_limits(),
                settle_s=settle_seconds(),
            )
            api_meta = pull_api(con, pipeline, school_year, context.log)
            counts = {e.table: _rows_of_year(con, e.table, school_year) for e in load_entities().values()}
        context.log.info(
            f"ingest {school_year}: seen={summary.files_seen} new={summary.ingested} "
            f"replaced={summary.replaced} "
            f"skipped={summary.skipped} quarantined={summary.quarantined} retired={summary.retired}"
        )
        for rel in summary.deferred:
            context.log.warning(
                f"deferred to the next run (modified in the last {settle_seconds()} s): {rel}"
            )
        for table, (dead, live) in summary.compacted.items():
            context.log.info(f"compacted {table}: {dead} deleted rows reclaimed, {live} rows kept")
        for e in load_entities().values():
            yield dg.MaterializeResult(
                asset_key=e.table,
                metadata={
                    "rows_in_year": dg.MetadataValue.int(int(counts[e.table])),
                    "rows_loaded_this_run": dg.MetadataValue.int(summary.rows_by_entity.get(e.name, 0)),
                    "files_seen": summary.files_seen,
                    "files_changed": len(summary.changed_files),
                    "files_quarantined": summary.quarantined,
                    "rows_rejected_this_run": summary.rows_rejected,
                    **(api_meta if e.name == "lms_activity" else {}),
                },
            )

        yield dg.MaterializeResult(
            asset_key="ingest_manifest",
            metadata={
                "files_seen": summary.files_seen,
                "files_ingested": summary.ingested,
                "files_replaced": summary.replaced,
                "files_skipped": summary.skipped,
                "files_quarantined": summary.quarantined,
                "files_retired": summary.retired,
                "files_deferred": len(summary.deferred),
            },
        )

    return [_ingest]
