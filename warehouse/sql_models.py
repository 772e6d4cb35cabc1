"""Discover the SQL models in `dbt_like_sql/`, read their dependencies from the SQL with sqlglot, and
run them on a DuckDB connection in dependency order.

A model is one `.sql` file holding one SELECT (CTEs allowed) that starts with a comment giving its
purpose and grain. Staging models become views; intermediate models and marts become tables, unless
the header says otherwise (`-- materialized: view`, for a model whose rows cost more to write than
to compute again in its few readers, e.g. one read by one other model only, or a large cross-walk its
readers look up a few keys in; the header line says why). A mart also describes every column it outputs
in its header, one line each: `-- column: name (type): description` (the type as DuckDB names it,
lower case); the asset spec carries them as Dagster column schema metadata. Audits (`audits/`) are
queries that return offending rows and are run by the asset checks, never materialised. There is no
hand-kept list of dependencies anywhere.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

SQL_ROOT = Path(__file__).resolve().parent.parent / "dbt_like_sql"
LAYERS = ("staging", "intermediate", "marts")
_HEADER = re.compile(r"^\s*--", re.MULTILINE)
_GRAIN_KEYS = re.compile(r"^([a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*)*)\s*(?:\(.*\))?$")
_COLUMN = re.compile(r"^--\s*column\s*:\s*([a-z_][a-z0-9_]*)\s*(?:\(([^)]*)\))?\s*:\s*(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ColumnDoc:
    """One output column described in a model's header: `-- column: name (type): description`."""

    name: str
    type: str  # as DuckDB names it, lower case (`varchar`, `double`, `varchar[]`); empty when not given
    description: str


@dataclass(frozen=True)
class SqlModel:
    """One SQL file: its name, layer, text and the tables it reads."""

    name: str
    layer: str
    path: Path
    sql: str
    reads: tuple[str, ...]
    purpose: str
    grain: str

    materialized: str = ""  # from a `-- materialized: view|table` header line; empty = by layer
    columns: tuple[ColumnDoc, ...] = ()  # from the `-- column:` header lines, in file order

    @property
    def grain_keys(self) -> tuple[str, ...]:
        """The columns that identify a row: the comma-separated list the `-- grain:` header starts with
        (`-- grain: school_code, school_year, criterion_code (one row per …)`); empty when the header is
        prose only."""
        m = _GRAIN_KEYS.match(self.grain)
        return tuple(k.strip() for k in m.group(1).split(",")) if m else ()

    def duplicate_keys_sql(self, limit: int = 5) -> str:
        """A query returning up to `limit` grain keys held by more than one row (none when the grain
        holds)."""
        keys = ", ".join(self.grain_keys)
        return (f"SELECT {keys}, count(*) AS n_rows FROM {self.name} GROUP BY {keys} "
                f"HAVING count(*) > 1 ORDER BY n_rows DESC LIMIT {int(limit)}")  # fmt: skip

    def column_schema_metadata(self) -> dict[str, object]:
        """The described columns as Dagster asset metadata (`dagster/column_schema`); empty when the model
        describes none. Dagster is imported here only, so that loading the models does not load it."""
        if not self.columns:
            return {}
        import dagster as dg

        cols = [
            dg.TableColumn(c.name, type=c.type or "unknown", description=c.description) for c in self.columns
        ]
        return {"dagster/column_schema": dg.TableSchema(columns=cols)}

    @property
    def materialization(self) -> str:
        if self.materialized in ("view", "table"):
            return self.materialized
        return "view" if self.layer == "staging" else "table"


def referenced_tables(sql: str) -> list[str]:
    """Names of the tables a query reads (CTE names excluded), in first-seen order."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    out: list[str] = []
    for t in tree.find_all(exp.Table):
        name = t.name
        if name and name not in ctes and name not in out:
            out.append(name)
    return out


# Functions whose DuckDB form another engine would not resolve, kept out of portable SQL by `transpile`.
_DUCKDB_ONLY = (exp.RegexpFullMatch,)


def _portable(node: exp.Expression) -> exp.Expression:
    """One DuckDB-only construct rewritten to its standard form (used by `transpile`)."""
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node = node.copy()
        node.set("materialized", None)  # a planner hint for DuckDB; other engines decide themselves
        return node
    if isinstance(node, exp.RegexpFullMatch) and isinstance(node.expression, exp.Literal):
        anchored = exp.Literal.string(f"^(?:{node.expression.this})$")
        return exp.RegexpLike(this=node.this, expression=anchored)
    return node


def transpile(sql: str, dialect: str = "spark") -> str:
    """A model's DuckDB SQL in another engine's dialect, strictly (issue 22: the models must run on Spark).

    DuckDB's planner hints (`AS [NOT] MATERIALIZED`) are dropped and `regexp_full_match` with a literal
    pattern becomes an anchored `RLIKE`; anything sqlglot cannot express in the target dialect, a
    DuckDB-only function left over, or a `UNION BY NAME`, raises `UnsupportedError` naming it.
    """
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_portable)
    left = sorted({type(n).__name__ for n in tree.find_all(*_DUCKDB_ONLY)})
    if left:
        raise UnsupportedError(f"DuckDB-only function(s) without a portable form: {', '.join(left)}")
    if any(u.args.get("by_name") for u in tree.find_all(exp.Union)):  # sqlglot passes it through as is
        raise UnsupportedError("UNION BY NAME has no Spark SQL form: name the columns of each branch")
    return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)


def _header_value(text: str, key: str) -> str:
    m = re.search(rf"^--\s*{key}\s*:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
    return m.group(1).strip() if m else ""


def header_lines(text: str) -> list[str]:
    """The comment lines a file starts with (its header), up to the first line of SQL."""
    out: list[str] = []
    for line in text.splitlines():
        if not line.lstrip().startswith("--"):
            break
        out.append(line.strip())
    return out


def column_docs(text: str) -> tuple[ColumnDoc, ...]:
    """The `-- column: name (type): description` lines of a model's header, in order; a column described
    twice raises (one description per column)."""
    out: list[ColumnDoc] = []
    for line in header_lines(text):
        m = _COLUMN.match(line)
        if m:
            out.append(ColumnDoc(m.group(1).lower(), (m.group(2) or "").strip().lower(), m.group(3).strip()))
    names = [c.name for c in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"columns described more than once: {twice}")
    return tuple(out)


def load_model(path: Path, layer: str) -> SqlModel:
    text = path.read_text(encoding="utf-8")
    return SqlModel(
        name=path.stem,
        layer=layer,
        path=path,
        sql=text,
        reads=tuple(referenced_tables(text)),
        purpose=_header_value(text, "purpose"),
        grain=_header_value(text, "grain"),
        materialized=(_header_value(text, "materialized").split() or [""])[0].lower(),
        columns=column_docs(text),
    )


@cache
def discover(root: Path = SQL_ROOT) -> dict[str, SqlModel]:
    """All models under the layer folders, keyed by name (file stem)."""
    models: dict[str, SqlModel] = {}
    for layer in LAYERS:
        for path in sorted((root / layer).glob("*.sql")):
            m = load_model(path, layer)
            if m.name in models:
                raise ValueError(f"duplicate model name {m.name}: {path} and {models[m.name].path}")
            models[m.name] = m
    return models


def discover_audits(root: Path = SQL_ROOT) -> dict[str, SqlModel]:
    """Audit queries (they return the offending rows)."""
    return {p.stem: load_model(p, "audits") for p in sorted((root / "audits").glob("*.sql"))}


def model_deps(models: dict[str, SqlModel]) -> dict[str, list[str]]:
    """Model → the models it reads."""
    return {n: [r for r in m.reads if r in models] for n, m in models.items()}


def source_tables(models: dict[str, SqlModel]) -> set[str]:
    """Tables read by models that are not themselves models (raw tables, quarantine, config)."""
    return {r for m in models.values() for r in m.reads if r not in models}


def run_order(models: dict[str, SqlModel], selected: list[str] | None = None) -> list[str]:
    order = list(TopologicalSorter(model_deps(models)).static_order())
    return [n for n in order if selected is None or n in selected]


def build_model(con: duckdb.DuckDBPyConnection, model: SqlModel) -> int | None:
    """(Re)create one model as a view or table; returns a table's row count (None for a view: counting
    a view would run its whole query once more just for the figure)."""
    body = model.sql.strip().rstrip(";")
    kind = "VIEW" if model.materialization == "view" else "TABLE"
    res = con.execute(f"CREATE OR REPLACE {kind} {model.name} AS\n{body}").fetchone()
    if kind == "VIEW":
        return None
    # CREATE TABLE AS returns the number of rows it wrote
    if res is None:
        res = con.execute(f"SELECT count(*) FROM {model.name}").fetchone()
    return int(res[0]) if res else 0


def drop_changed_kinds(con: duckdb.DuckDBPyConnection, models: list[SqlModel]) -> None:
    """Drop a model left as a table that is now a view, or the other way round (CREATE OR REPLACE
    cannot change the kind of an object)."""
    existing = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    )
    for m in models:
        kind = existing.get(m.name)
        if kind == "VIEW" and m.materialization == "table":
            con.execute(f"DROP VIEW {m.name}")
        elif kind == "BASE TABLE" and m.materialization == "view":
            con.execute(f"DROP TABLE {m.name}")


STATE_DDL = "CREATE TABLE IF NOT EXISTS ops_models_state (fingerprint VARCHAR, built_at TIMESTAMP)"
# Bookkeeping columns of the source tables: the same for every row of one source file (its hash, when it
# was ingested or validated, by which run, its size). A model that neither names them nor outputs them
# cannot see them change, so they stay out of the inputs' fingerprint: re-saving a file with the same
# rows then leaves the models as they are.
BOOKKEEPING_COLUMNS = ("file_sha256", "size_bytes", "ingested_at", "run_id", "recorded_at", "validated_at")


def inputs_fingerprint(con: duckdb.DuckDBPyConnection, models: dict[str, SqlModel] | None = None) -> str:
    """A hash of everything the models' results depend on: the DuckDB version, every model's SQL and
    the rows (as multisets: count and sum of row hashes) of every source table they read, bookkeeping
    columns left out unless a model names one or has one among its columns."""
    models = models or discover()
    texts = "\n".join(models[n].sql for n in sorted(models))
    skip = {c for c in BOOKKEEPING_COLUMNS if not re.search(rf"\b{c}\b", texts, re.IGNORECASE)}
    columns: dict[str, list[str]] = defaultdict(list)
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall():
        columns[table].append(column)
    if any(c in skip for n in models for c in columns.get(n, [])):
        skip = set()  # a model passes a bookkeeping column on (e.g. through *): hash every column
    h = hashlib.sha256(f"duckdb {duckdb.__version__}\n{texts}".encode())
    for table in sorted(source_tables(models)):
        if table not in columns:
            h.update(f"\n{table}: missing".encode())
            continue
        excluded = [f'"{c}"' for c in columns[table] if c in skip]
        select = "*" + (f" EXCLUDE ({', '.join(excluded)})" if excluded else "")
        row = con.execute(f"SELECT count(*), sum(hash(r)) FROM (SELECT {select} FROM {table}) r").fetchone()
        n, total = row if row else (0, None)
        h.update(f"\n{table}: {n} {total}".encode())
    return h.hexdigest()


def models_current(
    con: duckdb.DuckDBPyConnection, fingerprint: str, models: dict[str, SqlModel] | None = None
) -> bool:
    """True when the last full build recorded `fingerprint` and every model still exists as its kind."""
    models = models or discover()
    con.execute(STATE_DDL)
    row = con.execute("SELECT fingerprint FROM ops_models_state").fetchall()
    if len(row) != 1 or row[0][0] != fingerprint:
        return False
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    )
    want = {"view": "VIEW", "table": "BASE TABLE"}
    return all(kinds.get(n) == want[m.materialization] for n, m in models.items())


def build_models(
    con: duckdb.DuckDBPyConnection,
    models: dict[str, SqlModel] | None = None,
    selected: list[str] | None = None,
    fingerprint: str | None = None,
) -> list[tuple[str, int | None, float]]:
    """Build the (selected) models in dependency order in one transaction (one commit instead of one
    per model; a failure leaves every model as it was); returns (name, table rows, seconds) per model.

    `fingerprint` (of a build of every model, see `inputs_fingerprint`) is recorded with the build, so
    that the next run can tell the models are current; any other build forgets the recorded one."""
    models = models or discover()
    out: list[tuple[str, int | None, float]] = []
    order = run_order(models, selected)
    con.execute(STATE_DDL)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM ops_models_state")
        drop_changed_kinds(con, [models[n] for n in order])
        for name in order:
            t0 = time.perf_counter()
            n = build_model(con, models[name])
            out.append((name, n, time.perf_counter() - t0))
        if fingerprint is not None and len(order) == len(models):
            con.execute("INSERT INTO ops_models_state VALUES (?, now())", [fingerprint])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return out


def has_header(model: SqlModel) -> bool:
    """The file starts with a comment giving its purpose and its grain (for a model, as a key list)."""
    keyed = bool(model.grain_keys) or model.layer == "audits"
    return bool(_HEADER.match(model.sql)) and bool(model.purpose) and bool(model.grain) and keyed
