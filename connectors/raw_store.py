"""The raw layer in DuckDB: raw_<entity> tables, the ingest manifest, its event log and quarantine.

Every write for one file happens in one transaction: its previous rows are removed and its new rows,
rejects and manifest row are written together, so a crash never leaves half a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import pandas as pd
import pyarrow as pa

from connectors.entities import load_entities
from warehouse.connection import connect  # noqa: F401  (the warehouse connection, re-exported for the ingest callers)

MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS ingest_manifest (
  source_file VARCHAR PRIMARY KEY,
  file_sha256 VARCHAR,
  size_bytes BIGINT,
  delivery_year VARCHAR,
  delivery_school VARCHAR,
  layout_ids VARCHAR,
  entities VARCHAR,
  status VARCHAR,          -- loaded | partly_loaded | quarantined | retired
  reason_code VARCHAR,
  reason VARCHAR,
  rows_read BIGINT,
  rows_kept BIGINT,
  rows_rejected BIGINT,
  rows_skipped BIGINT,
  duplicates_dropped BIGINT,
  ingested_at TIMESTAMP,
  run_id VARCHAR
)
"""

EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS ingest_events (
  run_id VARCHAR,
  source_file VARCHAR,
  file_sha256 VARCHAR,
  action VARCHAR,          -- ingested | replaced | skipped | retired | quarantined
  event_at TIMESTAMP
)
"""

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS dq_quarantine_rows (
  stage VARCHAR,           -- ingest | validate
  entity VARCHAR,
  layout_id VARCHAR,
  school_code VARCHAR,
  school_year VARCHAR,
  source_file VARCHAR,
  file_sha256 VARCHAR,
  source_sheet VARCHAR,
  source_row BIGINT,
  column_letter VARCHAR,
  header VARCHAR,
  canonical_column VARCHAR,
  value VARCHAR,
  reason_code VARCHAR,
  check_name VARCHAR,
  message VARCHAR,
  recorded_at TIMESTAMP
)
"""

WARNINGS_DDL = """
CREATE TABLE IF NOT EXISTS ingest_warnings (
  source_file VARCHAR,
  file_sha256 VARCHAR,
  source_sheet VARCHAR,
  source_row BIGINT,
  reason_code VARCHAR,
  detail VARCHAR
)
"""


COMPACT_DEAD_FRACTION = 0.25  # see warehouse.connection.VACUUM_SETTING: dead rows are reclaimed here
COMPACT_MIN_DEAD_ROWS = 100_000  # small tables are not worth a rewrite


def stored_rows(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """(rows stored, rows live) of a table: deleted rows stay stored until the table is rewritten."""
    stored = con.execute(
        "SELECT coalesce(sum(count), 0) FROM pragma_storage_info(?) "
        "WHERE column_id = 0 AND segment_type <> 'VALIDITY'",
        [table],
    ).fetchone()
    live = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(stored[0] if stored else 0), int(live[0] if live else 0)


def compact_raw_tables(
    con: duckdb.DuckDBPyConnection,
    dead_fraction: float = COMPACT_DEAD_FRACTION,
    min_dead_rows: int = COMPACT_MIN_DEAD_ROWS,
) -> dict[str, tuple[int, int]]:
    """Rewrite each raw table whose deleted rows exceed `dead_fraction` of its live rows (and
    `min_dead_rows`): a copy of its live rows replaces it in one transaction (the raw tables have no
    constraints or defaults, see `Entity.ddl`; views on them bind by name). Returns {table: (dead rows
    before, live rows)} of the tables rewritten."""
    done: dict[str, tuple[int, int]] = {}
    for ent in load_entities().values():
        stored, live = stored_rows(con, ent.table)
        dead = stored - live
        if dead < min_dead_rows or dead <= dead_fraction * live:
            continue
        tmp = f"{ent.table}__compact"
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE TABLE {tmp} AS SELECT * FROM {ent.table}")
            con.execute(f"DROP TABLE {ent.table}")
            con.execute(f"ALTER TABLE {tmp} RENAME TO {ent.table}")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        done[ent.table] = (dead, live)
    return done


PENDING_DDL = """
CREATE TABLE IF NOT EXISTS ingest_pending (
  step VARCHAR PRIMARY KEY,  -- post-commit work a run owes: 'finalise' (references, compaction)
  since TIMESTAMP
)"""


def mark_pending(con: duckdb.DuckDBPyConnection, step: str) -> None:
    """Record (committed now, before the work it guards commits anything) that `step` must run."""
    con.execute("INSERT OR REPLACE INTO ingest_pending VALUES (?, ?)", [step, dt.datetime.now()])


def is_pending(con: duckdb.DuckDBPyConnection, step: str) -> bool:
    return con.execute("SELECT count(*) FROM ingest_pending WHERE step = ?", [step]).fetchone()[0] > 0  # type: ignore[index]


def clear_pending(con: duckdb.DuckDBPyConnection, step: str) -> None:
    con.execute("DELETE FROM ingest_pending WHERE step = ?", [step])


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables, manifest, events, quarantine, warnings and pending-work tables when
    missing."""
    for ddl in (MANIFEST_DDL, EVENTS_DDL, QUARANTINE_DDL, WARNINGS_DDL, PENDING_DDL):
        con.execute(ddl)
    for ent in load_entities().values():
        con.execute(ent.ddl())


def manifest(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT * FROM ingest_manifest ORDER BY source_file").df()


def delete_file_rows(
    con: duckdb.DuckDBPyConnection, source_file: str, entities: list[str] | None = None
) -> None:
    """Remove every row a file contributed (raw tables, rejects, warnings). `entities` narrows the raw
    tables to those the file had rows in (from its manifest row); None means every raw table."""
    ents = load_entities()
    names = list(ents) if entities is None else [e for e in entities if e in ents]
    for name in names:
        con.execute(f"DELETE FROM {ents[name].table} WHERE source_file = ?", [source_file])
    con.execute("DELETE FROM dq_quarantine_rows WHERE source_file = ?", [source_file])
    con.execute("DELETE FROM ingest_warnings WHERE source_file = ?", [source_file])


def delete_files_rows(con: duckdb.DuckDBPyConnection, files: list[tuple[str, list[str] | None]]) -> None:
    """`delete_file_rows` of several files (name, entities or None for every raw table) with one
    statement per table."""
    ents = load_entities()
    per_table: dict[str, list[str]] = {}
    for source_file, entities in files:
        names = list(ents) if entities is None else [e for e in entities if e in ents]
        for name in [*[ents[n].table for n in names], "dq_quarantine_rows", "ingest_warnings"]:
            per_table.setdefault(name, []).append(source_file)
    for table, names in per_table.items():
        if len(names) == 1:
            con.execute(f"DELETE FROM {table} WHERE source_file = ?", names)
        else:
            con.execute(f"DELETE FROM {table} WHERE list_contains(?::VARCHAR[], source_file)", [names])


def insert_rows(con: duckdb.DuckDBPyConnection, entity: str, frame: pd.DataFrame) -> int:
    """Insert canonical rows by column name (missing columns become NULL)."""
    return insert_many(con, entity, [frame])


def insert_many(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    frames: list[pd.DataFrame | pa.Table],
    ingested_at: dt.datetime | None = None,
) -> int:
    """Insert several parts (DataFrames or Arrow tables) of one entity in one statement; each part is
    cast to the table types on its own (as separate inserts would), then the parts are unioned by
    name. Arrow tables of one schema are concatenated first (casting their union equals casting each).
    `ingested_at` fills that column where a part has none."""
    parts: list[pd.DataFrame | pa.Table] = [f for f in frames if isinstance(f, pd.DataFrame) and not f.empty]
    same: dict[pa.Schema, list[pa.Table]] = {}
    for f in frames:
        if isinstance(f, pa.Table) and f.num_rows:
            same.setdefault(f.schema, []).append(f)
    parts += [ts[0] if len(ts) == 1 else pa.concat_tables(ts) for ts in same.values()]
    if not parts:
        return 0
    ent = load_entities()[entity]
    cols = ent.all_columns()
    selects: list[str] = []
    params: list[object] = []
    names: list[str] = []
    n = 0
    try:
        for i, part in enumerate(parts):
            present = list(part.columns) if isinstance(part, pd.DataFrame) else part.column_names
            keep = [c for c in present if c in cols]
            name = f"_incoming_{i}"
            con.register(name, part[keep] if isinstance(part, pd.DataFrame) else part.select(keep))
            names.append(name)
            n += len(part)
            select = ", ".join(f'CAST("{c}" AS {cols[c]}) AS "{c}"' for c in keep)
            if ingested_at is not None and "ingested_at" not in keep:
                select += ', CAST(? AS TIMESTAMP) AS "ingested_at"'
                params.append(ingested_at)
            selects.append(f"SELECT {select} FROM {name}")
        con.execute(f"INSERT INTO {ent.table} BY NAME " + " UNION ALL BY NAME ".join(selects), params)
    finally:
        for name in names:
            con.unregister(name)
    return n


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    con.register("_incoming", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def _table_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def insert_frames(con: duckdb.DuckDBPyConnection, table: str, frames: list[pd.DataFrame]) -> None:
    """`insert_frame` of several frames in one statement: each frame is cast to the table's column
    types on its own (as its own INSERT would), then the parts are unioned by name."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return
    if len(frames) == 1:
        insert_frame(con, table, frames[0])
        return
    types = _table_types(con, table)
    names: list[str] = []
    selects: list[str] = []
    try:
        for i, frame in enumerate(frames):
            name = f"_incoming_{i}"
            con.register(name, frame)
            names.append(name)
            select = ", ".join(
                f'CAST("{c}" AS {types[c]}) AS "{c}"' if c in types else f'"{c}"' for c in frame.columns
            )
            selects.append(f"SELECT {select} FROM {name}")
        con.execute(f"INSERT INTO {table} BY NAME " + " UNION ALL BY NAME ".join(selects))
    finally:
        for name in names:
            con.unregister(name)


def upsert_manifest_rows(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """`upsert_manifest` of several rows (one DELETE, one multi-row INSERT; no DataFrame)."""
    if not rows:
        return
    if len(rows) == 1:
        upsert_manifest(con, rows[0])
        return
    con.execute(
        "DELETE FROM ingest_manifest WHERE list_contains(?::VARCHAR[], source_file)",
        [[r["source_file"] for r in rows]],
    )
    cols = list(rows[0])
    names = ", ".join(f'"{c}"' for c in cols)
    marks = "(" + ", ".join("?" for _ in cols) + ")"
    con.execute(
        f"INSERT INTO ingest_manifest ({names}) VALUES " + ", ".join(marks for _ in rows),
        [r[c] for r in rows for c in cols],
    )


def log_events(
    con: duckdb.DuckDBPyConnection, run_id: str, events: Sequence[tuple[str, str | None, str]]
) -> None:
    """`log_event` of several (source_file, sha, action) in one INSERT."""
    if not events:
        return
    con.execute(  # three lists, one statement: a VALUES list binds five parameters per event
        "INSERT INTO ingest_events "
        "SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?",
        [
            run_id,
            [f for f, _, _ in events],
            [sha for _, sha, _ in events],
            [a for _, _, a in events],
            dt.datetime.now(),
        ],
    )


def upsert_manifest(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Replace a file's manifest row (one parameterised INSERT: no DataFrame to register)."""
    con.execute("DELETE FROM ingest_manifest WHERE source_file = ?", [row["source_file"]])
    cols = list(row)
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" for _ in cols)
    con.execute(f"INSERT INTO ingest_manifest ({names}) VALUES ({marks})", [row[c] for c in cols])


def log_event(
    con: duckdb.DuckDBPyConnection, run_id: str, source_file: str, sha: str | None, action: str
) -> None:
    con.execute(
        "INSERT INTO ingest_events VALUES (?, ?, ?, ?, ?)",
        [run_id, source_file, sha, action, dt.datetime.now()],
    )
