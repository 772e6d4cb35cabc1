"""Steps 5 and 6 of an ingest run: files gone from the inbox retired (their rows leave, each in its own
transaction), the files deferred as still being written recorded, and the cross-file work finalised."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from connectors import raw_store
from connectors.filedrop.files import (
    delivery_of,
)
from connectors.filedrop.plan import (
    IngestSummary,
    ManifestEntry,
)


def _retires(rel: str, entry: ManifestEntry, seen: set[str], school_year: str | None) -> bool:
    """A file the manifest holds that `retire_missing` retires in this run (gone from the inbox)."""
    fy, _ = delivery_of(Path(rel))
    return rel not in seen and entry.status != "retired" and not (school_year and fy and fy != school_year)


def retire_missing(
    con: duckdb.DuckDBPyConnection,
    known: dict[str, ManifestEntry],
    seen: set[str],
    school_year: str | None,
    summary: IngestSummary,
) -> None:
    """Files the manifest holds that are no longer in the inbox (of this year): their rows leave, each in
    its own transaction, and the manifest marks them retired."""
    for rel, entry in known.items():
        if not _retires(rel, entry, seen, school_year):
            continue
        con.execute("BEGIN TRANSACTION")
        keep_entries_listed_twice(con, rel)
        raw_store.delete_file_rows(con, rel)
        con.execute(
            "UPDATE ingest_manifest SET status = 'retired', rows_kept = 0, records_written = 0, run_id = ?, "
            "ingested_at = ? WHERE source_file = ?",
            [summary.run_id, dt.datetime.now(), rel],
        )
        raw_store.log_event(con, summary.run_id, rel, entry.sha256, "retired")
        con.execute("COMMIT")
        summary.retired += 1
        summary.changed_files.append(rel)


def keep_entries_listed_twice(con: duckdb.DuckDBPyConnection, rel: str) -> None:
    """Before a retired file's rows leave: its registry entries for a (school code, year) that another
    registry file now lists twice (`duplicate_school_code`) and that no other file holds pass to that
    file (the first by name), as they were, so the school keeps its previous entry until the registry is
    corrected, as when the previous entry came from the same file (`previous_entries`): the registry
    renamed (`DanhSachTruong.xlsx` → `DanhSachTruong_2025.xlsx`) with a code listed twice must not drop
    the school. The entry then lives and goes with that file's rows (replaced once it is corrected)."""
    con.execute(
        """
        UPDATE raw_school AS r SET source_file = q.source_file
        FROM (SELECT value AS school_code, school_year, min(source_file) AS source_file
              FROM dq_quarantine_rows
              WHERE reason_code = 'duplicate_school_code' AND source_file <> $rel GROUP BY ALL) AS q
        WHERE r.source_file = $rel AND r.school_code = q.school_code
          AND (q.school_year IS NULL OR q.school_year = r.school_year)
          AND NOT EXISTS (SELECT 1 FROM raw_school o WHERE o.school_code = r.school_code
                          AND o.school_year = r.school_year AND o.source_file <> $rel)
        """,
        {"rel": rel},
    )


def finalise(con: duckdb.DuckDBPyConnection, summary: IngestSummary) -> None:
    """After any change, or when a run stopped before finishing it (`ingest_pending`): cross-file
    references resolved again, raw tables compacted once their deleted rows pile up; then the pending
    mark goes."""
    if summary.changed or raw_store.is_pending(con, "finalise"):
        from connectors import references

        references.resolve_all(con)
        summary.compacted = raw_store.compact_raw_tables(con)
    raw_store.clear_pending(con, "finalise")


DEFERRED = "deferred:"  # `ingest_pending` step of a file deferred because it was still being written


def mark_deferred(con: duckdb.DuckDBPyConnection, school_year: str | None, files: list[str]) -> None:
    """Record the files this run deferred in `ingest_pending` (`DEFERRED` + file key, since when), in place
    of those of the last run of the same year(s): the no-change check of the next `cds run` sees them
    (`pipelines.inbox_state`) and the data-quality report lists them."""
    prefix = DEFERRED + (f"{school_year}/" if school_year else "")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "DELETE FROM ingest_pending WHERE starts_with(step, ?) AND NOT list_contains(?::VARCHAR[], step)",
            [prefix, [DEFERRED + f for f in files]],
        )
        for f in files:
            con.execute(
                "INSERT INTO ingest_pending VALUES (?, ?) ON CONFLICT DO NOTHING",
                [DEFERRED + f, dt.datetime.now()],
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
