"""Dagster resources: the DuckDB warehouse and the run configuration (inbox, outputs, keys), both built
from `Settings` when the definitions load."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from connectors import raw_store


class WarehouseResource(dg.ConfigurableResource):
    """The embedded DuckDB file (created on first use).

    During a Dagster run the database is opened once (`setup_for_execution`) and every step gets its
    own cursor on it: opening the file, checking the schema and closing (with its checkpoint) once per
    run instead of once per step. Outside a run, `connect()` opens and closes the file each time."""

    path: str
    threads: int = 2
    memory_limit: str = "3GB"
    _shared: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def open_shared(self) -> None:
        """Open the database for the rest of the run (idempotent)."""
        if self._shared is None:
            con = raw_store.connect(self.path, self.threads, self.memory_limit)
            try:
                raw_store.ensure_schema(con)
            except Exception:
                con.close()
                raise
            self._shared = con

    def close_shared(self) -> None:
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.open_shared()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close_shared()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._shared is not None:
            cur = self._shared.cursor()
            try:
                yield cur
            finally:
                cur.close()
            return
        con = raw_store.connect(self.path, self.threads, self.memory_limit)
        try:
            raw_store.ensure_schema(con)
            yield con
        finally:
            con.close()


class PipelineConfig(dg.ConfigurableResource):
    """Paths and keys of a run (secrets are never logged)."""

    inbox: str
    out: str
    indicator_set: str
    hash_key: str
    api_base_url: str = ""
    api_key: str = ""
    mode: str = ""  # development | production; empty = from the environment (CDS_MODE) at run start
    province_name: str = ""  # printed titles; empty = the province code of the school registry

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Refuse to start a production run with the default hash key (before any step runs)."""
        from pipelines.settings import check_hash_key, get_settings

        check_hash_key(self.mode or get_settings().mode, self.hash_key)

    @property
    def inbox_path(self) -> Path:
        return Path(self.inbox)

    @property
    def out_path(self) -> Path:
        return Path(self.out)
