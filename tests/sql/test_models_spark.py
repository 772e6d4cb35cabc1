"""The SQL fixture cases run on Spark (opt-in: `pytest -m spark`; needs `pip install -e '.[spark]'` and
Java 17).

Issue 22: the models are DuckDB SQL but must give the same rows on Spark SQL, so a national deployment
can run them there. For each case of `tests/sql/<model>/<case>/` this test builds the case's inputs in
DuckDB exactly as `test_models.py` does (same typed raw, quarantine and cfg tables), copies every table to
a local Spark session (ANSI mode on: a division by zero raises, as it would in production), transpiles
the model and the models it reads with sqlglot (strict) and runs them in dependency order as temporary
views, then compares the rows with `expect.csv` by the same rules as the DuckDB test.
"""

from __future__ import annotations

import datetime as dt
import decimal
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.sql.test_models import _cases, _load_inputs, _upstream, compare_rows
from warehouse.sql_models import discover, model_deps, source_tables, transpile

pyspark = pytest.importorskip("pyspark", reason="the spark test needs pyspark: pip install -e '.[spark]'")

pytestmark = [pytest.mark.sql, pytest.mark.spark]

_SPARK_TYPES = {
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "HUGEINT": "decimal(38,0)",
    "UBIGINT": "decimal(20,0)",
    "UINTEGER": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "DATE": "date",
    "TIMESTAMP": "timestamp_ntz",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "BLOB": "binary",
    "JSON": "string",
}


def spark_type(duck_type: str) -> str:
    """The Spark SQL type of a DuckDB column type."""
    t = duck_type.upper()
    if t.endswith("[]"):
        return f"array<{spark_type(t[:-2])}>"
    if t.startswith("DECIMAL"):
        return t.lower()
    if t in _SPARK_TYPES:
        return _SPARK_TYPES[t]
    raise AssertionError(f"no Spark type for DuckDB type {duck_type}")


def _value(v: object) -> object:
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dt.datetime | dt.date | decimal.Decimal | str | int | float | bool | bytes) or v is None:
        return v
    return str(v)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("cds-sql-fixtures")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.maxPlanStringLength", "100000")  # plans are logged, never read whole
        .config("spark.sql.constraintPropagation.enabled", "false")  # Spark 4.0: 'key not found' in Union
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _copy_tables(con: duckdb.DuckDBPyConnection, spark: object, tables: set[str]) -> None:
    """The case's tables the models read become Spark temporary views with the same types and rows."""
    present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for table in sorted(tables & present):
        cols = con.execute(f'DESCRIBE "{table}"').fetchall()
        schema = ", ".join(f"`{c[0]}` {spark_type(c[1])}" for c in cols)
        rows = [tuple(_value(v) for v in r) for r in con.execute(f'SELECT * FROM "{table}"').fetchall()]
        spark.createDataFrame(rows, schema=schema).createOrReplaceTempView(table)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("model", "case"), _cases(), ids=[f"{m}/{c.name}" for m, c in _cases()])
def test_model_case_on_spark(
    model: str, case: Path, template_db: Path, tmp_path: Path, spark: object
) -> None:
    models = discover()
    db = tmp_path / "case.duckdb"
    shutil.copyfile(template_db, db)
    con = duckdb.connect(str(db), config={"threads": 1})
    _load_inputs(con, case)
    chain = _upstream(model, model_deps(models))
    _copy_tables(con, spark, source_tables({n: models[n] for n in chain}))
    for name in chain:
        frame = spark.sql(transpile(models[name].sql, "spark"))  # type: ignore[attr-defined]
        if models[name].materialization == "table":  # as in DuckDB: computed once, read by the models after
            frame = frame.localCheckpoint(eager=True)  # (a view chain inlines the whole graph into one plan)
        frame.createOrReplaceTempView(name)
    got: pd.DataFrame = spark.sql(f"SELECT * FROM {model}").toPandas()  # type: ignore[attr-defined]
    grain = discover()[model].grain_keys
    compare_rows(got, pd.read_csv(case / "expect.csv", dtype=str, keep_default_na=False), grain)
