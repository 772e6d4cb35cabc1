"""Dagster resources: the DuckDB warehouse and the run configuration (inbox, outputs, keys), both built
from `Settings` when the definitions load.

In a multi-province deployment the paths are templates holding `{province}`: each run resolves them
for the province of its partition when it starts (`bind_province`), so one code location serves every
province and each run touches only its province's files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from pipelines.partitions import province_of_tags

#: The placeholder of a multi-province deployment's paths (resolved per run).
PROVINCE = "{province}"


def resolve_province(template: str, province: str | None) -> str:
    """`template` with `{province}` replaced by the run's province (unchanged when it has none)."""
    if PROVINCE not in template:
        return template
    if not province:
        raise ValueError(f"{template!r} needs a province: run a (province, school year) partition")
    return template.replace(PROVINCE, province)


def run_province(context: dg.InitResourceContext) -> str | None:
    """The province of the run a resource is set up for (None outside a run or in a one-province one)."""
    run = context.dagster_run
    return province_of_tags(run.tags) if run is not None else None


class WarehouseResource(dg.ConfigurableResource):
    """The embedded DuckDB file (created on first use).

    During a Dagster run the database is opened once (`setup_for_execution`) and every step gets its
    own cursor on it: opening the file, checking the schema and closing (with its checkpoint) once per
    run instead of once per step. Outside a run, `connect()` opens and closes the file each time."""

    path: str
    threads: int = 2
    memory_limit: str = "3GB"
    _shared: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _province: str | None = PrivateAttr(default=None)

    def bind_province(self, province: str | None) -> None:
        """Resolve `{province}` in `path` for the rest of the run."""
        self._province = province

    @property
    def file(self) -> str:
        """The warehouse file of this run (the path, its province filled in)."""
        return resolve_province(self.path, self._province)

    def open_shared(self) -> None:
        """Open the database for the rest of the run (idempotent)."""
        if self._shared is None:
            from connectors import raw_store  # pandas: imported by a run, not by loading the definitions

            con = raw_store.connect(self.file, self.threads, self.memory_limit)
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
        self.bind_province(run_province(context))
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
        from connectors import raw_store  # see `open_shared`

        con = raw_store.connect(self.file, self.threads, self.memory_limit)
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
    _province: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Refuse to start a production run with the default hash key (before any step runs)."""
        from pipelines.settings import check_hash_key, get_settings

        check_hash_key(self.mode or get_settings().mode, self.hash_key)
        self._province = run_province(context)

    @property
    def inbox_path(self) -> Path:
        return Path(resolve_province(self.inbox, self._province))

    @property
    def out_path(self) -> Path:
        return Path(resolve_province(self.out, self._province))
