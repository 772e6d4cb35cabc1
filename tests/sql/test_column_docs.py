"""Column descriptions of the marts (issue 23): every column a `mart_*` model materialises is described in
its header (`-- column: name (type): description`), with the type DuckDB gives it, and no description
names a column the mart does not have. The materialised columns are those of a fixture run: the mart's
first fixture case under `tests/sql/<model>/`, built with the models it reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.sql.test_models import _cases, _load_inputs, _upstream
from warehouse.sql_models import build_model, column_docs, discover, model_deps

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
