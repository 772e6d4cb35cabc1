"""The lakehouse catalog: its settings, how to open it, and the definition of every published table.

Every published table carries `province_code` and `school_year` and is partitioned by both (identity),
so that one province's year is one partition, replaced on its own. The `publications` table logs each
completed publication with the snapshot of every table it wrote: readers take a province's year from
its latest publication, so a publication that died half-way is never read (see `lakehouse.publish`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from pydantic import BaseModel

if TYPE_CHECKING:  # pyiceberg (and SQLAlchemy under it) is imported where a catalog is opened: this
    # module is imported when the Dagster definitions load, in every run's new process (~0.7 s)
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.table import Table

NAMESPACE = "cds"
PARTITION_COLUMNS = ("province_code", "school_year")

_KEYS = [pa.field("province_code", pa.string()), pa.field("school_year", pa.string())]

#: Published table → its Arrow schema (the Iceberg schema is derived from it). Kept unformatted: a field
#: list per table reads better than one field per line.
TABLES: dict[str, pa.Schema] = {
    "indicator_values": pa.schema(
        [
            *_KEYS,
            ("school_code", pa.string()),
            ("criterion_code", pa.string()),
            ("group_code", pa.string()),
            ("kind", pa.string()),
            ("status", pa.string()),
            ("numerator", pa.float64()),
            ("denominator", pa.float64()),
            ("value", pa.float64()),
            ("points", pa.float64()),
            ("max_points", pa.float64()),
            ("self_points", pa.float64()),
            ("is_declared", pa.bool_()),
            ("has_evidence", pa.bool_()),
        ]
    ),
    "findings": pa.schema(
        [
            *_KEYS,
            ("finding_id", pa.string()),
            ("school_code", pa.string()),
            ("criterion_code", pa.string()),
            ("finding", pa.string()),
            ("severity", pa.string()),
            ("self_points", pa.float64()),
            ("computed_points", pa.float64()),
            ("points_at_stake", pa.float64()),
        ]
    ),
    "school_scores": pa.schema(
        [
            *_KEYS,
            ("school_code", pa.string()),
            ("side", pa.string()),
            ("managing_unit", pa.string()),
            ("school_level", pa.string()),
            ("group_dh_points", pa.float64()),
            ("group_dh_level", pa.int64()),
            ("group_qt_points", pa.float64()),
            ("group_qt_level", pa.int64()),
            ("level", pa.int64()),
        ]
    ),
    "verification_factors": pa.schema(
        [
            *_KEYS,
            ("criterion_code", pa.string()),
            ("n_criteria", pa.int64()),
            ("self_points", pa.float64()),
            ("computed_points", pa.float64()),
            ("factor", pa.float64()),
        ]
    ),
    "data_quality_counts": pa.schema(
        [*_KEYS, ("measure", pa.string()), ("code", pa.string()), ("n", pa.int64())]
    ),
}

PUBLICATIONS = "publications"
PUBLICATIONS_SCHEMA = pa.schema(
    [
        *_KEYS,
        ("run_id", pa.string()),
        ("published_at", pa.timestamp("us")),
        ("table_name", pa.string()),
        ("snapshot_id", pa.int64()),
        ("n_rows", pa.int64()),
    ]
)


class LakeSettings(BaseModel):
    """Where the catalog and the data files are.

    `catalog_uri` is a SQLAlchemy URI: `sqlite:///<folder>/catalog.db` (embedded, the default) or
    `postgresql+psycopg2://user:password@host:port/database`. `warehouse` is where data files are
    written (a `file://` folder here; object storage in a larger deployment)."""

    catalog_uri: str
    warehouse: str
    namespace: str = NAMESPACE

    @classmethod
    def embedded(cls, folder: Path) -> LakeSettings:
        """The default: a SQLite catalog and the data files in one local folder."""
        folder = Path(folder).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "warehouse").mkdir(exist_ok=True)
        return cls(
            catalog_uri=f"sqlite:///{folder / 'catalog.db'}", warehouse=(folder / "warehouse").as_uri()
        )


def open_catalog(settings: LakeSettings) -> SqlCatalog:
    """The catalog, with the namespace and every table (and its partition spec) created on first use,
    before any write: a writer must never race a spec change (pyiceberg's commit retry cannot rebase
    data files written for the previous spec)."""
    from pyiceberg.catalog.sql import SqlCatalog  # see the note at the imports

    catalog = SqlCatalog("cds", uri=settings.catalog_uri, warehouse=settings.warehouse)
    catalog.create_namespace_if_not_exists(settings.namespace)
    for name in (*TABLES, PUBLICATIONS):
        load_table(catalog, settings.namespace, name)
    return catalog


def load_table(catalog: SqlCatalog, namespace: str, name: str) -> Table:
    """A published table (or the publications log), created on first use with its partition spec."""
    from pyiceberg.exceptions import CommitFailedException  # see the note at the imports

    schema = PUBLICATIONS_SCHEMA if name == PUBLICATIONS else TABLES[name]
    ident = f"{namespace}.{name}"
    if catalog.table_exists(ident):
        return catalog.load_table(ident)
    try:
        table = catalog.create_table(ident, schema=schema)
    except Exception:  # another writer created it first
        if catalog.table_exists(ident):
            return catalog.load_table(ident)
        raise
    for _ in range(5):  # the spec change is a commit like any other: retried on a concurrent one
        try:
            with table.update_spec() as spec:
                for column in PARTITION_COLUMNS:
                    spec.add_identity(column)
            break
        except CommitFailedException:
            table = catalog.load_table(ident)
            if len(table.spec().fields) == len(PARTITION_COLUMNS):
                break
    return catalog.load_table(ident)
