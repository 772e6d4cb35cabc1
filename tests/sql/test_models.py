"""Fixture tests of the SQL models: one folder per case, `tests/sql/<model>/<case>/`.

A case holds input CSVs named after the table they fill (`raw_<entity>.csv`, `dq_quarantine_rows.csv`,
or a `cfg_*` table to override the indicator set's) and `expect.csv`. The runner creates every raw table
and the quarantine table in an in-memory DuckDB, loads the cfg tables from the indicator-set YAML, loads
the inputs, builds the model and the models it reads (found by `warehouse.sql_models`), and compares
the rows on the grain keys present in `expect.csv`: same keys, same values in every expected column.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse.sql_models import build_model, discover, model_deps

pytestmark = pytest.mark.sql

CASES_ROOT = Path(__file__).parent


def _cases() -> list[tuple[str, Path]]:
    out = []
    for model_dir in sorted(p for p in CASES_ROOT.iterdir() if p.is_dir() and not p.name.startswith("_")):
        out.extend(
            (model_dir.name, case) for case in sorted(model_dir.iterdir()) if (case / "expect.csv").exists()
        )
    return out


def _upstream(name: str, deps: dict[str, list[str]]) -> list[str]:
    """The model and every model it reads, dependencies first."""
    order: list[str] = []

    def visit(n: str) -> None:
        for d in deps[n]:
            visit(d)
        if n not in order:
            order.append(n)

    visit(name)
    return order


def _load_inputs(con: duckdb.DuckDBPyConnection, case: Path) -> None:
    for csv in sorted(case.glob("*.csv")):
        if csv.name == "expect.csv":
            continue
        table = csv.stem
        src = f"read_csv('{csv.as_posix()}', all_varchar = true, header = true)"
        if table.startswith("cfg_"):
            con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {src}")


def _key(v: object) -> str:
    """A grain key as text: a missing value as empty (as in expect.csv), a whole float without '.0'."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _same(a: object, b: object) -> bool:
    a_null = a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NA or a == ""
    b_null = b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA or b == ""
    if a_null or b_null:
        return a_null and b_null
    try:
        return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-6)
    except (TypeError, ValueError):
        return str(a).strip().lower() == str(b).strip().lower()


def _as_text(v: object) -> object:
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat(sep=" ")
    if isinstance(v, list | tuple):
        return ";".join(str(x) for x in v)
    if hasattr(v, "tolist"):
        return ";".join(str(x) for x in v.tolist())
    return v


@pytest.mark.parametrize(("model", "case"), _cases(), ids=[f"{m}/{c.name}" for m, c in _cases()])
def test_model_case(model: str, case: Path, template_db: Path, tmp_path: Path) -> None:
    models = discover()
    assert model in models, f"no SQL model named {model}"
    db = tmp_path / "case.duckdb"
    shutil.copyfile(template_db, db)
    con = duckdb.connect(str(db), config={"threads": 1})
    _load_inputs(con, case)
    for name in _upstream(model, model_deps(models)):
        build_model(con, models[name])
    expect = pd.read_csv(case / "expect.csv", dtype=str, keep_default_na=False)
    compare_rows(con.execute(f"SELECT * FROM {model}").df(), expect, models[model].grain_keys)
    dupes = con.execute(models[model].duplicate_keys_sql()).fetchall()
    assert not dupes, f"{model}: rows share a grain key {models[model].grain_keys}: {dupes}"


def compare_rows(got: pd.DataFrame, expect: pd.DataFrame, grain: tuple[str, ...]) -> None:
    """Assert the model's rows match `expect.csv` on the model's grain keys (its `-- grain:` header) and
    every expected column (shared with the Spark run of the same cases)."""
    keys = list(grain)
    lacking = [k for k in keys if k not in expect.columns]
    assert keys and not lacking, f"expect.csv lacks the grain columns {lacking} of {keys}"
    got_keys = {tuple(_key(x) for x in r) for r in got[keys].itertuples(index=False)}
    exp_keys = {tuple(r) for r in expect[keys].itertuples(index=False)}
    assert got_keys == exp_keys, (
        f"keys differ: missing {exp_keys - got_keys}, unexpected {got_keys - exp_keys}"
    )
    got_by_key = {tuple(_key(x) for x in r[keys]): r for _, r in got.iterrows()}
    problems = []
    for _, row in expect.iterrows():
        k = tuple(row[keys])
        for col in expect.columns:
            if col in keys:
                continue
            have = _as_text(got_by_key[k][col])
            if not _same(have, row[col]):
                problems.append(f"{k} {col}: expected {row[col]!r}, got {have!r}")
    assert not problems, "\n".join(problems)


def test_every_model_has_a_fixture_case() -> None:
    """Issue 23: a model without a case is a model no test can catch changing."""
    covered = {m for m, _ in _cases()}
    missing = sorted(set(discover()) - covered)
    assert not missing, f"SQL models without a fixture case under tests/sql/<model>/<case>/: {missing}"
