"""Publish one province's school year to the lakehouse, and read back what was published.

- `extract`: the published tables of one school year, read from a province's DuckDB warehouse with the
  SQL of `dbt_like_sql/publish/` (codes and figures only) and the verification factors of
  `indicator_sets.reconcile` (one home for that rule), each with the province code added;
- `publish`: each table's (province, year) partition replaced in one Iceberg commit (retried when another
  province committed to the same table in between), then one row per table appended to the
  `publications` log in a single commit, naming the snapshot that holds the new partition;
- `read_published`: a table's rows for a school year, each province's taken from the snapshot its latest
  publication names. A publication that died before its log commit is therefore never read: readers
  keep seeing that province's previous version, however many of its tables were already replaced.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import And, EqualTo

from indicator_sets.reconcile import verification_factors
from lakehouse.catalog import NAMESPACE, PUBLICATIONS, PUBLICATIONS_SCHEMA, TABLES, load_table

SQL_DIR = Path(__file__).resolve().parents[1] / "dbt_like_sql" / "publish"
COMMIT_ATTEMPTS = 8


def registry_province(con: duckdb.DuckDBPyConnection, school_year: str) -> str:
    """The province this warehouse publishes as: the code most schools of the year's registry carry."""
    (code,) = con.execute(_sql("province"), {"school_year": school_year}).fetchone() or (None,)
    return str(code)


def _sql(name: str) -> str:
    return (SQL_DIR / f"pub_{name}.sql").read_text(encoding="utf-8")


def conform(frame: pd.DataFrame | pa.Table, schema: pa.Schema) -> pa.Table:
    """A frame as a table of exactly `schema` (columns selected in order and cast; a missing column or a
    value that does not cast raises)."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ValueError(f"published table lacks columns {missing}")
    return pa.table([table[f.name].cast(f.type) for f in schema], schema=schema)


def extract(con: duckdb.DuckDBPyConnection, province_code: str, school_year: str) -> dict[str, pa.Table]:
    """The published tables of one school year of a province warehouse."""
    params = {"school_year": school_year}
    frames = {name: con.execute(_sql(name), params).df() for name in TABLES if name != "verification_factors"}
    final = con.execute("SELECT * FROM score_indicators__final WHERE school_year = $school_year", params).df()
    frames["verification_factors"] = verification_factors(final)["criterion"]
    out: dict[str, pa.Table] = {}
    for name, frame in frames.items():
        frame = frame.copy()
        frame["province_code"] = province_code
        frame["school_year"] = school_year
        out[name] = conform(frame, TABLES[name])
    return out


@dataclass
class Publication:
    """What one publication wrote: the snapshot holding each table's new partition and its row count."""

    province_code: str
    school_year: str
    run_id: str
    snapshots: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def _eq(column: str, value: str) -> EqualTo:
    """`column = value` as a pyiceberg row filter."""
    # pyiceberg 0.12's EqualTo takes (term, literal) in a hand-written __init__; its pydantic base types the
    # synthesised field constructor (term, type, value) instead, which is what mypy sees
    return EqualTo(column, value)  # type: ignore[call-arg, arg-type]


def _partition(province_code: str, school_year: str) -> And:
    return And(_eq("province_code", province_code), _eq("school_year", school_year))


def _commit(catalog: SqlCatalog, namespace: str, name: str, data: pa.Table, where: And | None) -> int:
    """Replace the rows matching `where` by `data` (append when `where` is None) in one commit, retried
    on a concurrent commit; returns the snapshot id of the commit."""
    for attempt in range(COMMIT_ATTEMPTS):
        table = load_table(catalog, namespace, name)
        try:
            with warnings.catch_warnings():  # a partition's first publication replaces nothing
                warnings.filterwarnings("ignore", "Delete operation did not match any records")
                if where is None:
                    table.append(data)
                elif data.num_rows:
                    table.overwrite(data, overwrite_filter=where)
                else:
                    table.delete(delete_filter=where)
        except CommitFailedException:
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
            continue
        snapshot = table.current_snapshot()
        return snapshot.snapshot_id if snapshot is not None else 0
    raise AssertionError("unreachable")


def publish(
    catalog: SqlCatalog,
    tables: dict[str, pa.Table],
    province_code: str,
    school_year: str,
    run_id: str | None = None,
    namespace: str = NAMESPACE,
) -> Publication:
    """Replace the (province, year) partition of every published table, then log the publication."""
    pub = Publication(province_code, school_year, run_id or uuid.uuid4().hex[:12])
    where = _partition(province_code, school_year)
    for name, schema in TABLES.items():
        data = conform(tables[name], schema)
        if any(v != province_code for v in data["province_code"].unique().to_pylist()) or any(
            v != school_year for v in data["school_year"].unique().to_pylist()
        ):
            raise ValueError(f"{name}: rows of another province or school year")
        pub.snapshots[name] = _commit(catalog, namespace, name, data, where)
        pub.rows[name] = data.num_rows
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    log = pa.table(
        {
            "province_code": [province_code] * len(TABLES),
            "school_year": [school_year] * len(TABLES),
            "run_id": [pub.run_id] * len(TABLES),
            "published_at": [now] * len(TABLES),
            "table_name": list(TABLES),
            "snapshot_id": [pub.snapshots[n] for n in TABLES],
            "n_rows": [pub.rows[n] for n in TABLES],
        },
        schema=PUBLICATIONS_SCHEMA,
    )
    _commit(catalog, namespace, PUBLICATIONS, log, None)
    return pub


def latest_publications(catalog: SqlCatalog, school_year: str, namespace: str = NAMESPACE) -> pd.DataFrame:
    """The latest publication of each province for a school year: one row per province × table."""
    log = load_table(catalog, namespace, PUBLICATIONS).scan(row_filter=_eq("school_year", school_year))
    frame = log.to_arrow().to_pandas()
    if frame.empty:
        return frame
    last = frame.groupby("province_code")["published_at"].transform("max")
    return frame[frame["published_at"] == last].reset_index(drop=True)


def read_published(catalog: SqlCatalog, name: str, school_year: str, namespace: str = NAMESPACE) -> pa.Table:
    """A published table's rows for a school year, each province's from its latest publication."""
    pubs = latest_publications(catalog, school_year, namespace)
    parts = [TABLES[name].empty_table()]
    if not pubs.empty:
        table = load_table(catalog, namespace, name)
        mine = pubs[pubs["table_name"] == name]
        for province, snapshot in zip(
            mine["province_code"].tolist(), mine["snapshot_id"].tolist(), strict=True
        ):
            if int(snapshot) == 0:  # published empty into a table with no commit yet: no rows
                continue
            scan = table.scan(row_filter=_partition(str(province), school_year), snapshot_id=int(snapshot))
            parts.append(conform(scan.to_arrow(), TABLES[name]))
    return pa.concat_tables(parts)
