"""The warehouse resource as Dagster runs see it: the same DuckDB file, plus the run-level lock.

The school-year job uses the in-process executor, so resources are set up once per run: the lock is
taken before the first step and released after the last one (or when the process dies). Under
`cds run` the CLI already holds the lock and the re-entrant lock lets the in-process job through.
The database is opened once for the run (after the lock is taken) and closed before the lock is
released; steps work on cursors of it (see `WarehouseResource`). Starting a run also forgets the "last
successful run" state of its year, so that a run which fails or is killed half-way never lets the next
`cds run` take the no-change path. In a multi-province deployment the lock is the run's province's
(`<province warehouse>.lock`): runs of different provinces never wait for each other.
"""

from __future__ import annotations

import contextlib

import dagster as dg
from pydantic import PrivateAttr

from pipelines import inbox_state
from pipelines.lock import warehouse_lock
from pipelines.partitions import split_key
from pipelines.resources import WarehouseResource, run_province


class LockedWarehouseResource(WarehouseResource):
    """`WarehouseResource` that holds `<warehouse>.lock` for the whole run."""

    lock_wait_seconds: int = 0
    _stack: contextlib.ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.bind_province(run_province(context))
        stack = contextlib.ExitStack()
        run_id = context.run_id or "?"
        stack.enter_context(warehouse_lock(self.file, self.lock_wait_seconds, owner=f"dagster-run:{run_id}"))
        self._stack = stack
        key = context.dagster_run.tags.get("dagster/partition") if context.dagster_run else None
        school_year = split_key(key)[1] if key else None
        try:
            self.open_shared()
            with self.connect() as con:
                inbox_state.invalidate_state(con, school_year)
        except Exception:
            self.close_shared()
            stack.close()
            self._stack = None
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close_shared()  # before the lock is released
        if self._stack is not None:
            self._stack.close()
            self._stack = None
