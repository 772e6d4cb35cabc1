"""File-drop connector: walk an inbox, identify each file's layout by header signature, parse it and
load it into the raw layer, a batch of files per transaction (each file atomic), with a manifest row and
quarantine reasons.

Unchanged files (same path and sha256) are skipped after the path checks and the hash, without the
content pre-flight checks (`connectors.safety.check_content`) or a parse; changed files replace their
previous rows; files that disappeared are retired. A bad file or row never stops the run.

What belongs here: `ingest_inbox`, the run in its steps, and the names other code imports from
`connectors.filedrop`. Each step has its module: `files` (delivery paths, hashes, path-only blocks),
`plan` (a decision per file), `registry` (the school registry first, then its snapshot), `parse` and
`verdicts` (a batch of files parsed, each file's verdict), `pool` (parsed files from worker processes),
`store` and `writer` (a batch of files per transaction), `retire` (files gone, deferred, finalise).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb

from connectors import raw_store
from connectors.filedrop.files import (
    MAX_FILE_BYTES,
    MAX_JSON_BYTES,
    delivery_of,
    iter_inbox,
    json_too_large,
    parse_order,
    relative,
    sha256_of,
)
from connectors.filedrop.parse import (
    FileResult,
    ParseJob,
    choose,
    cut_last_line,
    locate_sheets,
    native,
    parse_file,
    parse_files,
    parse_grids,
)
from connectors.filedrop.plan import (
    FileDecision,
    IngestSummary,
    ManifestEntry,
    Plan,
    manifest_state,
    plan_files,
)
from connectors.filedrop.pool import INGEST_WORKERS, PARSE_BATCH_BYTES, PARSE_BATCH_FILES, ParsedFiles
from connectors.filedrop.registry import Registry, school_names, school_platforms, split_registry
from connectors.filedrop.retire import DEFERRED, _retires, finalise, mark_deferred, retire_missing
from connectors.filedrop.store import Part, StoreItem, ensure_manifest_columns, pack, store_file, store_files
from connectors.filedrop.writer import _block_unknown_school, take_files
from connectors.workers import Limits, warm_up

__all__ = [
    "DEFERRED",
    "INGEST_WORKERS",
    "MAX_FILE_BYTES",
    "MAX_JSON_BYTES",
    "PARSE_BATCH_BYTES",
    "PARSE_BATCH_FILES",
    "FileDecision",
    "FileResult",
    "IngestSummary",
    "ManifestEntry",
    "ParseJob",
    "ParsedFiles",
    "Part",
    "Plan",
    "Registry",
    "StoreItem",
    "choose",
    "cut_last_line",
    "delivery_of",
    "ensure_manifest_columns",
    "finalise",
    "ingest_inbox",
    "iter_inbox",
    "json_too_large",
    "locate_sheets",
    "manifest_state",
    "mark_deferred",
    "native",
    "pack",
    "parse_file",
    "parse_files",
    "parse_grids",
    "parse_order",
    "plan_files",
    "relative",
    "retire_missing",
    "school_names",
    "school_platforms",
    "sha256_of",
    "split_registry",
    "store_file",
    "store_files",
    "take_files",
]


def ingest_inbox(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    school_year: str | None = None,
    hash_key: str = "",
    run_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
    settle_s: float = 0.0,
) -> IngestSummary:
    """Ingest every new or changed file of the inbox (for one delivery year when given), in steps: plan
    (a decision per file; files modified less than `settle_s` seconds ago are deferred to the next run,
    `plan_files`); the school registry (the province folder's registry files parsed and stored
    first, then one snapshot every other file is parsed with); parsed files (in worker processes under
    `limits`, `workers` at once, default INGEST_WORKERS; 0 parses in this process, uncontained) and the
    batch writer (plan order, a batch of files per transaction); retire; finalise."""
    if workers != 0:
        warm_up()  # the workers' forkserver imports its modules while the files are planned
    raw_store.ensure_schema(con)
    ensure_manifest_columns(con)
    summary = IngestSummary(run_id or uuid.uuid4().hex[:12])
    known = manifest_state(con)
    plan = plan_files(Path(inbox), school_year, known, summary, settle_s)
    summary.deferred = plan.deferred
    raw_store.log_events(
        con, summary.run_id, [*plan.skipped, *((rel, "", "deferred") for rel in plan.deferred)]
    )
    mark_deferred(con, school_year, plan.deferred)
    if plan.todo or any(_retires(rel, e, plan.seen, school_year) for rel, e in known.items()):
        raw_store.mark_pending(con, "finalise")  # committed before any file is: a kill leaves it set
    first, rest = split_registry(plan.todo, limits, workers)
    take_files(
        con, first, Registry.load(con), hash_key, 1 if workers != 0 else 0, progress, summary, limits
    )  # registry 1st
    registry = Registry.load(con)
    unchanged: list[tuple[str, str, str]] = []
    rest = [d for d in rest if not _block_unknown_school(d, registry, summary, unchanged)]
    raw_store.log_events(con, summary.run_id, unchanged)
    take_files(con, rest, registry, hash_key, workers, progress, summary, limits)
    retire_missing(con, known, plan.seen, school_year, summary)
    finalise(con, summary)
    return summary
