"""Column descriptions of the marts and the publish queries (issue 23): every column a `mart_*` model
materialises is described in its header (`-- column: name (type): description`), with the type DuckDB
gives it, and no description names a column the mart does not have. The materialised columns are those
of a fixture run: the mart's first fixture case under `tests/sql/<model>/`, built with the models it
reads. The `pub_*` queries are checked against the published Arrow schema and, where they read only raw
and bookkeeping tables, against a fixture run."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.catalog import TABLES
from tests.sql.test_models import _cases, _load_inputs, _upstream
from warehouse.sql_models import SQL_ROOT, build_model, column_docs, discover, load_model, model_deps

pytestmark = pytest.mark.sql

MARTS = sorted(n for n in discover() if n.startswith("mart_"))


def _materialised_columns(model: str, template_db: Path, tmp_path: Path) -> list[tuple[str, str]]:
    """(name, lower-case DuckDB type) of every column of `model` built on its first fixture case."""
    cases = [case for m, case in _cases() if m == model]
    assert cases, f"{model} has no fixture case to build it from"
    db = tmp_path / "mart.duckdb"
    shutil.copyfile(template_db, db)
    con = duckdb.connect(str(db), config={"threads": 1})
    try:
        _load_inputs(con, cases[0])
        models = discover()
        for name in _upstream(model, model_deps(models)):
            build_model(con, models[name])
        return [(str(r[0]), str(r[1]).lower()) for r in con.execute(f"DESCRIBE {model}").fetchall()]
    finally:
        con.close()


def test_there_are_marts() -> None:
    assert MARTS, "no mart_* model found: the description test below would check nothing"


@pytest.mark.parametrize("model", MARTS)
def test_every_mart_column_described(model: str, template_db: Path, tmp_path: Path) -> None:
    have = _materialised_columns(model, template_db, tmp_path)
    docs = {c.name: c for c in discover()[model].columns}
    undescribed = [n for n, _ in have if n not in docs]
    assert not undescribed, f"{model}: columns without a `-- column:` description: {undescribed}"
    unknown = sorted(set(docs) - {n for n, _ in have})
    assert not unknown, f"{model}: descriptions of columns the mart does not have: {unknown}"
    wrong_type = [(n, docs[n].type, t) for n, t in have if docs[n].type != t]
    assert not wrong_type, f"{model}: (column, described type, materialised type): {wrong_type}"
    empty = [n for n, c in docs.items() if len(c.description.split()) < 3]
    assert not empty, f"{model}: descriptions too short to say anything: {empty}"


@pytest.mark.parametrize("model", MARTS)
def test_mart_column_schema_metadata(model: str) -> None:
    """The asset spec's metadata carries the descriptions as a Dagster column schema, in file order."""
    meta = discover()[model].column_schema_metadata()
    schema = meta["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    assert [(c.name, c.type, c.description) for c in schema.columns] == [
        (c.name, c.type, c.description) for c in discover()[model].columns
    ]


def test_column_docs_read_from_the_header_only() -> None:
    text = (
        "-- purpose: p\n-- grain: a\n-- column: a (bigint): the key of the row\n"
        "-- column: b: a column without a type\nselect 1 as a, 2 as b\n-- column: c (varchar): not a header\n"
    )
    assert [(c.name, c.type, c.description) for c in column_docs(text)] == [
        ("a", "bigint", "the key of the row"),
        ("b", "", "a column without a type"),
    ]


def test_a_column_described_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="more than once"):
        column_docs("-- column: a (bigint): one\n-- column: a (bigint): two\nselect 1 as a\n")


# --- the publish queries (dbt_like_sql/publish/, run by lakehouse.publish, not models of the engine) ---

PUBLISH = sorted((SQL_ROOT / "publish").glob("pub_*.sql"))
_ARROW_AS_DUCKDB = {"string": "varchar", "double": "double", "int64": "bigint", "bool": "boolean"}


def test_there_are_publish_queries() -> None:
    assert PUBLISH, "no pub_*.sql found: the publish tests below would check nothing"


@pytest.mark.parametrize("path", PUBLISH, ids=[p.stem for p in PUBLISH])
def test_every_publish_query_describes_its_columns(path: Path) -> None:
    docs = load_model(path, "publish").columns
    assert docs, f"{path.stem}: no `-- column:` description"
    empty = [c.name for c in docs if len(c.description.split()) < 3]
    assert not empty, f"{path.stem}: descriptions too short to say anything: {empty}"


PUBLISHED = [p for p in PUBLISH if p.stem.removeprefix("pub_") in TABLES]


@pytest.mark.parametrize("path", PUBLISHED, ids=[p.stem for p in PUBLISHED])
def test_published_columns_described(path: Path) -> None:
    """A published table's columns are its Arrow schema in `lakehouse.catalog.TABLES` (what `extract`
    conforms the query's rows to; `province_code` is added by `extract`, not by the query)."""
    docs = {c.name: c for c in load_model(path, "publish").columns}
    schema = TABLES[path.stem.removeprefix("pub_")]
    published = [(f.name, _ARROW_AS_DUCKDB[str(f.type)]) for f in schema if f.name != "province_code"]
    assert sorted(docs) == sorted(n for n, _ in published), f"{path.stem}: described {sorted(docs)}"
    wrong_type = [(n, docs[n].type, t) for n, t in published if docs[n].type != t]
    assert not wrong_type, f"{path.stem}: (column, described type, published type): {wrong_type}"


@pytest.mark.parametrize("name", ["pub_province", "pub_data_quality_counts"])
def test_published_columns_of_a_fixture_run(name: str, template_db: Path, tmp_path: Path) -> None:
    """The publish queries that read only raw and bookkeeping tables, run on the fixture warehouse with
    a registry row and a quarantined row: the columns they return are the ones described."""
    db = tmp_path / "pub.duckdb"
    shutil.copyfile(template_db, db)
    con = duckdb.connect(str(db))
    try:
        case = next(case for m, case in _cases() if m == "stg_csdl__schools")
        _load_inputs(con, case)
        path = SQL_ROOT / "publish" / f"{name}.sql"
        school_year = con.execute("SELECT min(school_year) FROM raw_school").fetchone()
        cur = con.execute(
            path.read_text(encoding="utf-8"), {"school_year": school_year[0] if school_year else "2024-2025"}
        )
        have = [(str(d[0]), str(d[1]).lower()) for d in cur.description or []]
    finally:
        con.close()
    docs = [(c.name, c.type) for c in load_model(path, "publish").columns]
    assert docs == have, f"{name}: described {docs}, returned {have}"
