"""The validate stage: run each entity's pandera schema (lazily, all failures at once) over the rows
of files not yet validated, and put failing rows in `dq_quarantine_rows` (stage `validate`) with the
failed check, the value, the reason code and a Vietnamese message naming file, sheet, row and column.
Good rows are untouched; staging models exclude the quarantined ones.

What belongs here: turning pandera failure cases into quarantine rows, and the bookkeeping of which
file versions were validated. The rules themselves live in `quality/schemas.py` only.

Speed and memory: one pandera run per batch of whole files of an entity (not one per file, not the
whole table at once: a batch holds at most `chunk_rows` rows unless one file alone is larger), vectorised
checks, and set-based writes. Each batch is written in its own transaction together with its
`dq_validated_files` rows, so an interrupted run resumes with the batches not yet validated. Every rule is
row-wise, so batching does not change any result.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow
from pandas.api.typing import NaTType, NAType

from connectors import raw_store
from connectors.entities import load_entities
from connectors.layouts import load_layouts
from connectors.messages import row_message
from quality.schemas import BUILTIN_REASONS, rules_for, schema_for

log = logging.getLogger(__name__)

VALIDATED_DDL = """
CREATE TABLE IF NOT EXISTS dq_validated_files (
  entity VARCHAR, source_file VARCHAR, file_sha256 VARCHAR, rows_checked BIGINT, rows_failed BIGINT,
  validated_at TIMESTAMP
)
"""

# provenance columns the quarantine rows and the bookkeeping need (besides the entity's own columns)
KEY_COLUMNS = (
    "school_code",
    "school_year",
    "layout_id",
    "source_file",
    "source_sheet",
    "source_row",
    "file_sha256",
)
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # what DuckDB's .df() gives for VARCHAR
_ARROW_STRINGS = {pyarrow.string(): _STR, pyarrow.large_string(): _STR, pyarrow.string_view(): _STR}

FAILURE_COLUMNS = ["index", "column", "check", "failure_case", "reason_code", "expected"]


def failures(frame: pd.DataFrame, entity: str) -> pd.DataFrame:
    """Failure cases of one entity's schema: one row per (row index, blamed column, rule).

    Columns: index (frame index), column, check (rule name), failure_case (the value), reason_code,
    expected (Vietnamese text of what was expected).
    """
    schema = schema_for(entity)
    try:
        schema.validate(frame, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    else:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    dataset_level = fc[fc["index"].isna()]
    for row in dataset_level[["column", "check"]].drop_duplicates().itertuples(index=False):
        log.warning("entity %s: dataset-level schema failure %s on column %s", entity, row.check, row.column)
    fc = fc[fc["index"].notna()].copy()
    if fc.empty:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    fc["index"] = fc["index"].astype(int)
    fc["check"] = fc["check"].astype(str)
    rules = rules_for(entity)
    meta = pd.DataFrame(
        [(n, r.column, r.reason_code, r.expected, r.wide) for n, r in rules.items()],
        columns=["check", "rule_column", "reason_code", "expected", "wide"],
    )
    fc = fc.merge(meta, on="check", how="left")
    fc["wide"] = fc["wide"].astype("boolean").fillna(False).astype(bool)
    # a wide (dataframe-level) check reports one failure per column of the row: keep the blamed column
    fc["column"] = fc["rule_column"].where(fc["wide"], fc["column"])
    fc = fc.drop_duplicates(subset=["index", "column", "check"]).reset_index(drop=True)
    wide = fc["wide"]
    if wide.any():
        cols = fc.loc[wide, "column"]
        idx = fc.loc[wide, "index"]
        fc.loc[wide, "failure_case"] = [
            frame.at[i, c] if c in frame.columns else None for i, c in zip(idx, cols, strict=True)
        ]
    builtin = fc["reason_code"].isna()
    fc.loc[builtin, "reason_code"] = fc.loc[builtin, "check"].map(BUILTIN_REASONS).fillna("out_of_range")
    fc.loc[builtin, "expected"] = (
        fc.loc[builtin, "check"].map({"not_nullable": "không được để trống"}).fillna("")
    )
    return fc[FAILURE_COLUMNS]


def _value_text(v: str | float | dt.date | NAType | NaTType | None) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime | dt.date):  # pd.Timestamp is a datetime
        ts = pd.Timestamp(v)
        return ts.strftime("%d/%m/%Y") if ts == ts.normalize() else ts.strftime("%d/%m/%Y %H:%M:%S")
    return str(v)


MARK_COLUMNS = ("value_num", "value_text")  # a grade book's mark: its header is the component's column


@cache
def layout_headers() -> dict[tuple[str, str], str]:
    """(layout id, canonical column or mark component) → the column's header as the platform writes it
    (the first of the layout's header texts), so a data officer recognises the column in their file."""
    return {
        (lay.id, name): spec.headers[0]
        for lay in load_layouts()
        for name, spec in lay.columns.items()
        if spec.headers
    }


def _headers(rows: pd.DataFrame, columns: pd.Series) -> list[str]:
    """The header of each failed cell: by layout and column, for a mark by layout and component."""
    known = layout_headers()
    layouts = rows["layout_id"].astype(object).where(rows["layout_id"].notna(), "")
    components = rows["component"] if "component" in rows else pd.Series("", index=rows.index)
    out = []
    for lay, col, comp in zip(layouts, columns, components, strict=True):
        key = comp if col in MARK_COLUMNS and isinstance(comp, str) else col
        out.append(known.get((lay, key), ""))
    return out


def quarantine_frame(frame: pd.DataFrame, fc: pd.DataFrame, entity: str, now: dt.datetime) -> pd.DataFrame:
    """dq_quarantine_rows rows (stage `validate`) for the failure cases of `frame`."""
    rows = frame.loc[fc["index"].to_numpy()].reset_index(drop=True)
    values = [_value_text(v) for v in fc["failure_case"]]
    q = pd.DataFrame(
        {
            "stage": "validate",
            "entity": entity,
            "layout_id": rows["layout_id"],
            "school_code": rows["school_code"],
            "school_year": rows["school_year"],
            "source_file": rows["source_file"],
            "file_sha256": rows["file_sha256"],
            "source_sheet": rows["source_sheet"],
            "source_row": rows["source_row"],
            "column_letter": "",
            "header": _headers(rows, fc["column"].astype(str)),
            "canonical_column": fc["column"].astype(str).to_numpy(),
            "value": values,
            "reason_code": fc["reason_code"].to_numpy(),
            "check_name": fc["check"].to_numpy(),
            "recorded_at": now,
        }
    )
    q["message"] = [
        row_message(f, s, int(r) if pd.notna(r) else 0, col, hdr, v, code, exp)
        for f, s, r, col, hdr, v, code, exp in zip(
            q["source_file"],
            q["source_sheet"],
            q["source_row"],
            q["canonical_column"],
            q["header"],
            q["value"],
            q["reason_code"],
            fc["expected"],
            strict=True,
        )
    ]
    return q


DEFAULT_CHUNK_ROWS = 200_000
MAX_ROWID_RANGES = 32  # a scan filter of more OR-ed ranges costs more than it prunes


def rowid_ranges(
    first: np.ndarray, last: np.ndarray, max_ranges: int = MAX_ROWID_RANGES
) -> list[tuple[int, int]]:
    """At most `max_ranges` closed rowid ranges covering every [first[i], last[i]]: overlapping or adjacent
    ranges are merged, and beyond `max_ranges` the ranges are joined across the smallest gaps."""
    if not len(first):
        return []
    order = np.argsort(first, kind="stable")
    merged: list[list[int]] = []
    for a, b in zip(np.asarray(first)[order].tolist(), np.asarray(last)[order].tolist(), strict=True):
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    if len(merged) > max_ranges:
        gaps = np.array([merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)])
        keep = set(np.argsort(-gaps, kind="stable")[: max_ranges - 1].tolist())  # split at the largest gaps
        joined: list[list[int]] = [list(merged[0])]
        for i in range(1, len(merged)):
            if i - 1 in keep:
                joined.append(list(merged[i]))
            else:
                joined[-1][1] = merged[i][1]
        merged = joined
    return [(a, b) for a, b in merged]


def file_batches(files: pd.DataFrame, chunk_rows: int) -> list[pd.DataFrame]:
    """Split `files` (source_file, file_sha256, n_rows) into consecutive batches of whole files holding at
    most `chunk_rows` rows each (a file larger than that is a batch of its own)."""
    batches: list[pd.DataFrame] = []
    start, total = 0, 0
    sizes = files["n_rows"].to_numpy()
    for i, n in enumerate(sizes):
        if i > start and total + int(n) > chunk_rows:
            batches.append(files.iloc[start:i])
            start, total = i, 0
        total += int(n)
    if len(files) > start:
        batches.append(files.iloc[start:])
    return batches


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """The frame `con.execute(sql).df()` gives (same columns, dtypes and values), fetched through Arrow:
    strings go straight from Arrow buffers to pandas' Arrow-backed `str` dtype instead of through Python
    objects (several times less CPU on grade books). DuckDB's own choices are kept: integers and booleans
    with nulls become Int64/boolean, an all-null text column holds None objects, dates are [us].
    `params` are bound to the query's `?` placeholders."""
    empty = con.sql(f"SELECT * FROM ({sql}) LIMIT 0", params=params).df()
    table = con.sql(sql, params=params).to_arrow_table()
    if not table.num_rows:
        return empty
    want = empty.dtypes
    frame = table.to_pandas(types_mapper=_ARROW_STRINGS.get, date_as_object=False)
    for i, field in enumerate(table.schema):
        col, kind, nulls = field.name, field.type, table.column(i).null_count
        if nulls and pyarrow.types.is_integer(kind):
            name = np.dtype(kind.to_pandas_dtype()).name  # int32 → Int32, uint8 → UInt8 (as .df() does)
            masked = pd.api.types.pandas_dtype(
                "U" + name[1:].capitalize() if name[0] == "u" else name.capitalize()
            )
            frame[col] = table.column(i).to_pandas(types_mapper=lambda _t, m=masked: m)
        elif nulls and pyarrow.types.is_boolean(kind):
            frame[col] = table.column(i).to_pandas(types_mapper=lambda _t: pd.BooleanDtype())
        elif nulls and nulls == len(table) and kind in _ARROW_STRINGS:
            frame[col] = pd.Series([None] * len(table), index=frame.index, dtype=object)
        elif kind not in _ARROW_STRINGS and frame[col].dtype != want[col]:
            frame[col] = frame[col].astype(want[col])
    return frame


def validate_new_files(
    con: duckdb.DuckDBPyConnection, school_year: str | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> dict[str, int]:
    """Validate rows of files whose current hash has not been validated yet; returns failed rows per entity.

    `school_year` limits the work to one partition (None: every year); `chunk_rows` bounds the rows held in
    memory at once (see the module docstring).
    """
    raw_store.ensure_schema(con)
    con.execute(VALIDATED_DDL)
    out: dict[str, int] = {}
    now = dt.datetime.now()
    for ent in load_entities().values():
        year_filter = "" if school_year is None else "WHERE r.school_year = ?"
        params = [ent.name] if school_year is None else [ent.name, school_year]
        todo = con.execute(
            f"""SELECT r.source_file, r.file_sha256, count(*) AS n_rows, min(r.rowid) AS first_rowid,
                       max(r.rowid) AS last_rowid FROM {ent.table} r
                ANTI JOIN (SELECT * FROM dq_validated_files WHERE entity = ?) v
                    ON v.source_file = r.source_file AND v.file_sha256 IS NOT DISTINCT FROM r.file_sha256
                {year_filter}
                GROUP BY ALL ORDER BY r.source_file, r.file_sha256""",
            params,
        ).df()
        present = {r[0] for r in con.execute(f"SELECT * FROM {ent.table} LIMIT 0").description or []}
        columns = [c for c in dict.fromkeys([*KEY_COLUMNS, *ent.column_names]) if c in present]
        for batch in file_batches(todo, chunk_rows):
            n = _validate_batch(con, ent.name, ent.table, columns, batch, now)
            out[ent.name] = out.get(ent.name, 0) + n
    return out


def _validate_batch(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    table: str,
    columns: list[str],
    todo: pd.DataFrame,
    now: dt.datetime,
) -> int:
    """Validate `columns` of the rows of the files in `todo` and store their quarantine and dq_validated_files
    rows in one transaction; returns the number of failed rows.

    The rows are read through the files' rowid ranges (from `todo`; the scan then skips the row groups of
    other files instead of reading every column of the whole table); if the table's rowids moved since
    (a checkpoint compacting deleted rows) and the count falls short, the batch is read by file name."""
    expected = int(todo["n_rows"].sum()) if "n_rows" in todo else None
    ranges = (
        rowid_ranges(todo["first_rowid"].to_numpy(), todo["last_rowid"].to_numpy())
        if {"first_rowid", "last_rowid"} <= set(todo.columns)
        else []
    )
    todo = todo[["source_file", "file_sha256"]]
    con.register("_todo_files", todo)
    try:
        cols = ", ".join(f'r."{c}"' for c in columns)
        sql = f"SELECT {cols} FROM {table} r SEMI JOIN _todo_files t ON t.source_file = r.source_file"
        frame = None
        if ranges and expected is not None:
            where = " OR ".join("r.rowid BETWEEN ? AND ?" for _ in ranges)
            frame = fetch_frame(con, f"{sql} WHERE {where}", [x for r in ranges for x in r])
            if len(frame) != expected:
                log.info(
                    "validate %s: rowids moved (%d of %d rows), reading by file", entity, len(frame), expected
                )
                frame = None
        if frame is None:
            frame = fetch_frame(con, sql)
    finally:
        con.unregister("_todo_files")
    fc = failures(frame, entity)
    q = quarantine_frame(frame, fc, entity, now) if not fc.empty else pd.DataFrame()
    failed_rows = (
        frame.loc[fc["index"].unique(), "source_file"].value_counts()
        if not fc.empty
        else pd.Series(dtype="int64")
    )
    stats = (
        frame.groupby(["source_file", "file_sha256"], dropna=False).size().reset_index(name="rows_checked")
    )
    stats["rows_failed"] = stats["source_file"].map(failed_rows).fillna(0).astype("int64")
    stats.insert(0, "entity", entity)
    stats["validated_at"] = now
    con.register("_todo_files", todo)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "DELETE FROM dq_quarantine_rows WHERE stage = 'validate' AND entity = ? "
            "AND source_file IN (SELECT source_file FROM _todo_files)",
            [entity],
        )
        con.execute(
            "DELETE FROM dq_validated_files WHERE entity = ? "
            "AND source_file IN (SELECT source_file FROM _todo_files)",
            [entity],
        )
        if not q.empty:
            q = q.drop_duplicates(
                subset=["source_file", "source_sheet", "source_row", "canonical_column", "check_name"]
            )
            raw_store.insert_frame(con, "dq_quarantine_rows", q)
        raw_store.insert_frame(con, "dq_validated_files", stats)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_todo_files")
    n_failed = int(stats["rows_failed"].sum())
    log.info("validated %s: %d file(s), %d row(s), %d failed", entity, len(stats), len(frame), n_failed)
    return n_failed
