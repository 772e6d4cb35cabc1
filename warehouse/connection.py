"""Opening the DuckDB warehouse: the one place the project calls `duckdb.connect` (a structure test
holds it to that), so every connection gets the same settings.

What belongs here: `connect`, the settings every warehouse connection carries, and where a province's
warehouse file lives in a multi-province deployment (`province_warehouse`). Nothing that reads or
writes a table (the raw tables live in `connectors.raw_store`, the models in `warehouse.sql_models`,
the table names and their renames in `warehouse.tables`, whose `migrate_names` every writable
connection to a file runs).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

#: DuckDB's checkpoint vacuum is turned off on warehouse connections.
#: Replacing 5% of a province's files deletes rows from most row groups of raw_grade_entry; every
#: checkpoint then merged row groups, rewriting most of the 15 M-row table: 8–10 s of a 35 s nightly
#: run, and it still left ~5% of the rows dead. Deleted rows are reclaimed by
#: `connectors.raw_store.compact_raw_tables` instead, once a table carries enough of them.
VACUUM_SETTING = "SET max_vacuum_tasks = 0"


def province_warehouse(base: Path | str, province: str) -> Path:
    """The warehouse file of one province of a multi-province deployment, beside `base`:
    `data/warehouse.duckdb` → `data/warehouse_08.duckdb` (all the province's school years; its lock is
    `<file>.lock`). `province` may be the `{province}` placeholder of a run's template."""
    base = Path(base)
    return base.with_name(f"{base.stem}_{province}{base.suffix}")


def connect(
    path: Path | str = ":memory:",
    threads: int | None = 2,
    memory_limit: str | None = "3GB",
    *,
    read_only: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file at `path` (created with its folder when missing, unless `read_only`),
    or an in-memory database for ":memory:". `threads` and `memory_limit` are DuckDB's settings (None
    keeps DuckDB's default: every core, 80 % of the memory); a writable connection never vacuums at
    checkpoints (`VACUUM_SETTING`) and renames the tables an older warehouse holds under names older
    than the grammar (`warehouse.tables.migrate_names`: one catalog query when there is nothing to do)."""
    if str(path) != ":memory:" and not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        con.execute("SET memory_limit = ?", [memory_limit])
    if not read_only:
        con.execute(VACUUM_SETTING)
        if str(path) != ":memory:":
            from warehouse.tables import migrate_names

            migrate_names(con)
    return con
