"""Canonical entity metadata (loaded from `entities.yaml`) and the DuckDB DDL generated from it.

This is the single source of column names, types, descriptions and privacy flags for raw tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

ENTITIES_FILE = Path(__file__).with_name("entities.yaml")
#: libyaml's safe loader when PyYAML was built with it (same result as yaml.SafeLoader, several times faster)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DUCKDB_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

PROVENANCE_COLUMNS: dict[str, str] = {
    "school_code": "VARCHAR",
    "school_year": "VARCHAR",
    "source_system": "VARCHAR",
    "layout_id": "VARCHAR",
    "source_file": "VARCHAR",
    "source_sheet": "VARCHAR",
    "source_row": "BIGINT",
    "file_sha256": "VARCHAR",
    "ingested_at": "TIMESTAMP",
    "src_extra": "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    """One canonical column of an entity."""

    name: str
    type: str
    description: str
    pii: bool = False
    allowed: tuple = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Entity:
    """A canonical entity: its raw table, grain and columns."""

    name: str
    description: str
    grain: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def table(self) -> str:
        return f"raw_{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    def ddl(self) -> str:
        """CREATE TABLE statement for the raw table (provenance first, then canonical columns)."""
        cols = dict(PROVENANCE_COLUMNS)
        for c in self.columns:
            cols.setdefault(c.name, c.duckdb_type)
        body = ",\n  ".join(f'"{n}" {t}' for n, t in cols.items())
        return f"CREATE TABLE IF NOT EXISTS {self.table} (\n  {body}\n)"

    def all_columns(self) -> dict[str, str]:
        cols = dict(PROVENANCE_COLUMNS)
        for c in self.columns:
            cols.setdefault(c.name, c.duckdb_type)
        return cols


@cache
def load_entities() -> dict[str, Entity]:
    """All canonical entities keyed by name."""
    raw = yaml.load(ENTITIES_FILE.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    out: dict[str, Entity] = {}
    for name, spec in raw.items():
        cols = []
        for cname, c in (spec.get("columns") or {}).items():
            cols.append(
                Column(
                    name=cname,
                    type=c["type"],
                    description=c.get("description", ""),
                    pii=bool(c.get("pii", False)),
                    allowed=tuple(c.get("allowed", ()) or ()),
                    min=c.get("min"),
                    max=c.get("max"),
                    pattern=c.get("pattern"),
                )
            )
        out[name] = Entity(name, spec.get("description", ""), tuple(spec.get("grain", ())), tuple(cols))
    return out


def pii_columns_by_table() -> dict[str, list[str]]:
    """Personal-data columns per raw table (for privacy scans)."""
    return {e.table: e.pii_columns for e in load_entities().values()}
