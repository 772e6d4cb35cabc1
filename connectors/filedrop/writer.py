"""Step 4 of an ingest run: the batch writer. Parsed files are taken in order from the pool and stored a
batch per transaction (`connectors.filedrop.store`), and counted in the run's summary."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from connectors.filedrop.files import (
    _blocked_sha,
)
from connectors.filedrop.parse import (
    FileResult,
)
from connectors.filedrop.plan import (
    FileDecision,
    IngestSummary,
)
from connectors.filedrop.pool import (
    ParsedFiles,
)
from connectors.filedrop.registry import (
    Registry,
)
from connectors.filedrop.store import (
    StoreItem,
    store_files,
)
from connectors.workers import Limits

STORE_BATCH_FILES = 64  # parsed files stored per transaction (each file stays atomic)
STORE_BATCH_ROWS = 200_000  # ... or fewer files when they hold this many rows


class BatchWriter:
    """Collects parsed files and stores them together (`store_files`: one transaction) once
    STORE_BATCH_FILES files or STORE_BATCH_ROWS rows are waiting, or when asked to flush."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str) -> None:
        self.con, self.run_id = con, run_id
        self.items: list[StoreItem] = []
        self.rows = 0

    def add(self, d: FileDecision, res: FileResult) -> None:
        """Queue one file (stored now when the batch is full)."""
        fy, fs = d.delivery
        self.items.append(
            StoreItem(
                res, fy, fs, replaced=d.prev is not None, prev_entities=d.prev_entities, fresh=d.prev is None
            )
        )
        self.rows += sum(s.records for s in res.sheets) + len(res.sheets)
        if len(self.items) >= STORE_BATCH_FILES or self.rows >= STORE_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        store_files(self.con, self.items, self.run_id)
        self.items, self.rows = [], 0


def _block_unknown_school(
    d: FileDecision, registry: Registry, summary: IngestSummary, unchanged: list[tuple[str, str, str]]
) -> bool:
    """Quarantine a file of a school folder the registry does not know (`unknown_school`): its rows would
    make a phantom school in every output. True when it is already quarantined so (nothing to take)."""
    blocked = None if d.blocked else registry.unknown_school(d)
    if blocked is None:
        return False
    sha = _blocked_sha(blocked, d.path)
    if d.prev is not None and d.prev.sha256 == sha:  # quarantined so last time, still so: unchanged
        summary.skipped += 1
        unchanged.append((d.rel, sha, "skipped"))
        return True
    d.blocked, d.sha256, d.data = blocked, sha, None
    return False


def take_files(
    con: duckdb.DuckDBPyConnection,
    todo: list[FileDecision],
    registry: Registry,
    hash_key: str,
    workers: int | None,
    progress: Callable[[str], None] | None,
    summary: IngestSummary,
    limits: Limits | None = None,
) -> None:
    """Parse the files with one registry snapshot (in workers under `limits`) and store them in order,
    a batch per transaction."""
    if not todo:
        return
    writer = BatchWriter(con, summary.run_id)
    with ParsedFiles(todo, registry, hash_key, workers, progress, limits) as parsed:
        for d, res in parsed:
            writer.add(d, res)
            _count(summary, d, res)
        writer.flush()


def _count(summary: IngestSummary, d: FileDecision, res: FileResult) -> None:
    """A taken file in the run's counts."""
    summary.changed_files.append(d.rel)
    if res.status == "quarantined":
        summary.quarantined += 1
    elif d.prev is not None:
        summary.replaced += 1
    else:
        summary.ingested += 1
    summary.rows_kept += res.rows_kept
    summary.rows_rejected += res.rows_rejected
    summary.records_written += res.records_written
    if res.status != "quarantined":
        for s in res.sheets:
            summary.rows_by_entity[s.layout.entity] = (
                summary.rows_by_entity.get(s.layout.entity, 0) + s.records
            )
