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

A model whose rows of one school year depend only on that year's rows of what it reads says so in its
header: `-- partition: school_year` (validated: the only partition column, and a table's grain keys
hold it; `-- partition: none (why)` says a model reads across years). A run of one year then rebuilds
only that year of such a table (its rows of the year deleted and the year's result inserted, in the
run's transaction) and skips it when the year's fingerprint (its SQL and the year's rows of its inputs,
see `Fingerprints`) equals the one recorded by the last build; the other years' rows are left as they
are. Other tables are rebuilt whole; views are always re-created (a view costs nothing to create).

Reading a model's dependencies parses its SQL (sqlglot, about 15 ms a model), and every process that loads
the Dagster definitions does it for every model and audit: each queued run, the daemon, the CLI. So the
tables each SQL text reads are remembered in `dbt_like_sql/target/referenced_tables.json` (like dbt's
partial parsing in its `target/` folder), keyed by the text's SHA-256 and the sqlglot version: a changed
file or a new sqlglot is parsed again, and a folder that cannot be written only costs the parse.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
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
PARTITION_COLUMN = "school_year"
READS_CACHE = SQL_ROOT / "target" / "referenced_tables.json"
log = logging.getLogger(__name__)
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
    partition: str = ""  # from a `-- partition: school_year` header line; empty = not restricted to a year

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
        return (
            f"SELECT {keys}, count(*) AS n_rows FROM {self.name} GROUP BY {keys} "
            f"HAVING count(*) > 1 ORDER BY n_rows DESC LIMIT {int(limit)}"
        )

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


def _partition(text: str, path: Path, grain_keys: tuple[str, ...], materialization: str) -> str:
    """The `-- partition:` header, validated: `school_year` or nothing; a table must hold it in its grain."""
    value = (_header_value(text, "partition").split() or [""])[0].lower()
    if value == "none":  # said on purpose, with the reason in the line: built whole
        return ""
    if value and value != PARTITION_COLUMN:
        raise ValueError(f"{path.name}: '-- partition: {value}': only '{PARTITION_COLUMN}' is supported")
    if value and materialization == "table" and PARTITION_COLUMN not in grain_keys:
        raise ValueError(f"{path.name}: partitioned by {PARTITION_COLUMN} but its grain keys do not hold it")
    return value


class ReadsCache:
    """The tables each SQL text reads (`referenced_tables`), remembered across processes in one JSON file
    keyed by the text's SHA-256 under the sqlglot version that parsed it. Saved by atomic replace, so
    processes loading the definitions at once never read half a file; entries no process has used lately
    are dropped when the file grows past four times what this process used."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parser = f"sqlglot {sqlglot.__version__}"
        self.known: dict[str, list[str]] = self._load()
        self.used: set[str] = set()
        self.added = 0

    def _load(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("parser") != self.parser:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def reads(self, sql: str) -> list[str]:
        digest = hashlib.sha256(sql.encode("utf-8")).hexdigest()
        self.used.add(digest)
        hit = self.known.get(digest)
        if not isinstance(hit, list):
            hit = self.known[digest] = referenced_tables(sql)
            self.added += 1
        return list(hit)

    def save(self) -> None:
        """Write the file when this process parsed anything new (a read-only folder only logs)."""
        if not self.added:
            return
        keep = self.known
        if len(keep) > 4 * len(self.used):
            keep = {k: v for k, v in keep.items() if k in self.used}
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(
                json.dumps({"parser": self.parser, "entries": keep}, sort_keys=True), encoding="utf-8"
            )
            os.replace(tmp, self.path)
        except OSError as e:
            log.debug("SQL dependency cache not written (%s): %s", self.path, e)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        self.added = 0


def load_model(path: Path, layer: str, reads: ReadsCache | None = None) -> SqlModel:
    """One SQL file as a model (`reads`: where the tables it reads are remembered; none = parse it)."""
    text = path.read_text(encoding="utf-8")
    model = SqlModel(
        name=path.stem,
        layer=layer,
        path=path,
        sql=text,
        reads=tuple(reads.reads(text) if reads else referenced_tables(text)),
        purpose=_header_value(text, "purpose"),
        grain=_header_value(text, "grain"),
        materialized=(_header_value(text, "materialized").split() or [""])[0].lower(),
        columns=column_docs(text),
    )
    partition = _partition(text, path, model.grain_keys, model.materialization)
    return dataclasses.replace(model, partition=partition) if partition else model


@cache
def _reads_cache(root: Path) -> ReadsCache:
    """One cache per SQL folder and process (models and audits share it, so neither prunes the other)."""
    return ReadsCache(root / READS_CACHE.relative_to(SQL_ROOT))


@cache
def discover(root: Path = SQL_ROOT) -> dict[str, SqlModel]:
    """All models under the layer folders, keyed by name (file stem)."""
    reads = _reads_cache(root)
    models: dict[str, SqlModel] = {}
    for layer in LAYERS:
        for path in sorted((root / layer).glob("*.sql")):
            m = load_model(path, layer, reads)
            if m.name in models:
                raise ValueError(f"duplicate model name {m.name}: {path} and {models[m.name].path}")
            models[m.name] = m
    reads.save()
    return models


def discover_audits(root: Path = SQL_ROOT) -> dict[str, SqlModel]:
    """Audit queries (they return the offending rows)."""
    reads = _reads_cache(root)
    audits = {p.stem: load_model(p, "audits", reads) for p in sorted((root / "audits").glob("*.sql"))}
    reads.save()
    return audits


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


STATE_DDL = (
    "CREATE TABLE IF NOT EXISTS ops_model_partitions "
    "(model VARCHAR, school_year VARCHAR, fingerprint VARCHAR, built_at TIMESTAMP)"
)
WHOLE = "*"  # the `school_year` of a model's state row recording the SQL its table was last built whole with
# Bookkeeping columns of the source tables: the same for every row of one source file (its hash, when it
# was ingested or validated, by which run, its size). A model that neither names them nor outputs them
# cannot see them change, so they stay out of the inputs' fingerprint: re-saving a file with the same
# rows then leaves the models as they are.
BOOKKEEPING_COLUMNS = ("file_sha256", "size_bytes", "ingested_at", "run_id", "recorded_at", "validated_at")


def _sha(*parts: object) -> str:
    return hashlib.sha256("\n".join(str(p) for p in parts).encode()).hexdigest()


class Fingerprints:
    """Fingerprints of one school year's rows of the models, for the build of that year.

    A source table is hashed as a multiset of its rows (count and sum of row hashes): those of the year
    (and those without a year) when it has a `school_year` column, all of them otherwise; bookkeeping
    columns left out unless a model names one or has one among its columns. A partitioned model or a view
    is the hash of its SQL, the DuckDB version and the fingerprints of what it reads (a view read by a
    partitioned model counts as year-local only when it is partitioned itself; otherwise all years of its
    inputs count); a table rebuilt whole counts by its rows (of the year, when it has the column), taken
    after this run built it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, models: dict[str, SqlModel], school_year: str) -> None:
        self.con, self.models, self.school_year = con, models, school_year
        texts = "\n".join(models[n].sql for n in sorted(models))
        self._skip = {c for c in BOOKKEEPING_COLUMNS if not re.search(rf"\b{c}\b", texts, re.IGNORECASE)}
        self._columns: dict[str, list[str]] = defaultdict(list)
        for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall():
            self._columns[table].append(column)
        if any(c in self._skip for n in models for c in self._columns.get(n, [])):
            self._skip = set()  # a model passes a bookkeeping column on (e.g. through *): hash every column
        self._memo: dict[tuple[str, bool], str] = {}

    def _rows(self, table: str, of_year: bool) -> str:
        """Count and sum of row hashes of a table (its rows of the year, or all)."""
        if table in self.models:  # a table this run may have just created: its columns as they are now
            self._columns[table] = [
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                    "AND table_name = ?",
                    [table],
                ).fetchall()
            ]
        if not self._columns.get(table):
            return "missing"
        excluded = [f'"{c}"' for c in self._columns[table] if c in self._skip]
        select = "*" + (f" EXCLUDE ({', '.join(excluded)})" if excluded else "")
        where, params = "", []
        if of_year and PARTITION_COLUMN in self._columns[table]:
            where, params = f" WHERE {PARTITION_COLUMN} = ? OR {PARTITION_COLUMN} IS NULL", [self.school_year]
        row = self.con.execute(
            f"SELECT count(*), sum(hash(r)) FROM (SELECT {select} FROM {table}{where}) r", params
        ).fetchone()
        n, total = row if row else (0, None)
        return f"{n} {total}"

    def of(self, name: str, of_year: bool = True) -> str:
        """The fingerprint of `name` (a model or a source table) as read by a model of the year (`of_year`)
        or by one that reads every year."""
        key = (name, of_year)
        if key not in self._memo:
            model = self.models.get(name)
            if model is None:
                self._memo[key] = _sha(name, self._rows(name, of_year))
            elif model.materialization == "table" and not model.partition:
                self._memo[key] = _sha(name, self._rows(name, of_year))  # as built by this run
            else:
                year_local = of_year and bool(model.partition)
                reads = [f"{r}: {self.of(r, year_local)}" for r in sorted(model.reads)]
                self._memo[key] = _sha(f"duckdb {duckdb.__version__}", model.sql, *reads)
        return self._memo[key]


def _kinds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    )


def build_year(con: duckdb.DuckDBPyConnection, model: SqlModel, school_year: str) -> int:
    """Replace one year's rows of a partitioned table with the year's result of its query (the year filter
    reaches the scans of its inputs); returns the rows inserted. The other years' rows are not touched."""
    body = model.sql.strip().rstrip(";")
    con.execute(f"DELETE FROM {model.name} WHERE {PARTITION_COLUMN} = ?", [school_year])
    res = con.execute(
        f"INSERT INTO {model.name} BY NAME SELECT * FROM (\n{body}\n) AS q WHERE q.{PARTITION_COLUMN} = ?",
        [school_year],
    ).fetchone()
    return int(res[0]) if res else 0


@dataclass(frozen=True)
class Built:
    """What `build_models` did to one model."""

    name: str
    how: str  # "view" (re-created), "table" (built whole), "year" (the year's rows replaced), "skipped"
    rows: int | None  # rows written (None for a view or a skipped table)
    seconds: float


def build_models(
    con: duckdb.DuckDBPyConnection,
    models: dict[str, SqlModel] | None = None,
    selected: list[str] | None = None,
    school_year: str | None = None,
) -> list[Built]:
    """Build the (selected) models in dependency order in one transaction (one commit instead of one per
    model; a failure leaves every model as it was).

    With `year`, a partitioned table whose SQL is the one it was last built whole with is rebuilt for
    that year only, or skipped when the year's fingerprint equals the one recorded for it; any other
    table (or a partitioned one built with other SQL, or missing) is built whole. Without `year`, every
    table is built whole and the recorded fingerprints are forgotten."""
    models = models or discover()
    out: list[Built] = []
    order = run_order(models, selected)
    con.execute(STATE_DDL)
    con.execute("BEGIN TRANSACTION")
    try:
        drop_changed_kinds(con, [models[n] for n in order])
        kinds = _kinds(con)
        state = {
            (m, y): fp
            for m, y, fp in con.execute(
                "SELECT model, school_year, fingerprint FROM ops_model_partitions"
            ).fetchall()
        }
        fps = Fingerprints(con, models, school_year) if school_year is not None else None
        for name in order:
            model, t0 = models[name], time.perf_counter()
            if model.materialization == "view" or not model.partition or fps is None or school_year is None:
                n = build_model(con, model)
                how = "view" if model.materialization == "view" else "table"
                if model.partition and how == "table":  # built whole without a year: no year is known
                    con.execute("DELETE FROM ops_model_partitions WHERE model = ?", [name])
            else:
                fp = fps.of(name)
                whole_ok = kinds.get(name) == "BASE TABLE" and state.get((name, WHOLE)) == _sha(model.sql)
                if whole_ok and state.get((name, school_year)) == fp:
                    n, how = None, "skipped"
                else:
                    if whole_ok:
                        n, how = build_year(con, model, school_year), "year"
                        con.execute(
                            "DELETE FROM ops_model_partitions WHERE model = ? AND school_year = ?",
                            [name, school_year],
                        )
                    else:
                        n, how = build_model(con, model), "table"
                        con.execute("DELETE FROM ops_model_partitions WHERE model = ?", [name])
                        con.execute(
                            "INSERT INTO ops_model_partitions VALUES (?, ?, ?, now())",
                            [name, WHOLE, _sha(model.sql)],
                        )
                    con.execute(
                        "INSERT INTO ops_model_partitions VALUES (?, ?, ?, now())", [name, school_year, fp]
                    )
            out.append(Built(name, how, n, time.perf_counter() - t0))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return out


def has_header(model: SqlModel) -> bool:
    """The file starts with a comment giving its purpose and its grain (for a model, as a key list)."""
    keyed = bool(model.grain_keys) or model.layer == "audits"
    return bool(_HEADER.match(model.sql)) and bool(model.purpose) and bool(model.grain) and keyed
