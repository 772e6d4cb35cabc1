"""Dagster resources: the DuckDB warehouse and the run configuration (inbox, outputs, keys), both built
from `Settings` when the definitions load."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from connectors import raw_store


class WarehouseResource(dg.ConfigurableResource):
    """The embedded DuckDB file (created on first use)."""

    path: str
    threads: int = 2
    memory_limit: str = "4GB"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
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
