"""The national marts of one school year, built by reading every province's publication through the
lakehouse catalog (never by listing data files): levels per province, the verification factor per
province and criterion, and the national thi đua summary. The SQL is in `dbt_like_sql/national/`; the
published tables it reads are registered in an in-memory DuckDB as `lake_<table>`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pyiceberg.catalog.sql import SqlCatalog

from lakehouse.catalog import NAMESPACE, TABLES
from lakehouse.publish import read_published
from warehouse.connection import connect

SQL_DIR = Path(__file__).resolve().parents[1] / "dbt_like_sql" / "national"


def national_sql() -> dict[str, str]:
    """Mart name → its SQL (one file per mart)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SQL_DIR.glob("nat_*.sql"))}


def national_marts(
    catalog: SqlCatalog, school_year: str, namespace: str = NAMESPACE
) -> dict[str, pd.DataFrame]:
    """Every national mart of a school year."""
    con = connect(":memory:", None, None)
    try:
        for name in TABLES:
            con.register(f"lake_{name}", read_published(catalog, name, school_year, namespace))
        return {name: con.execute(sql).df() for name, sql in national_sql().items()}
    finally:
        con.close()
