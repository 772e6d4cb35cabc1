"""Fixtures shared by the SQL model tests (the DuckDB run and the opt-in Spark run of the same cases)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from connectors import raw_store
from indicator_sets.config import load_config_tables

YAML = Path(__file__).resolve().parents[2] / "indicator_sets" / "qd4725_2022.yaml"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse file with every raw table, the quarantine table and the cfg tables, built once."""
    path = tmp_path_factory.mktemp("sql_models") / "template.duckdb"
    con = duckdb.connect(str(path))
    raw_store.ensure_schema(con)
    load_config_tables(con, YAML)
    con.close()
    return path
