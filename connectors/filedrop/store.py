"""Storing parsed files: their rows handed over as Arrow parts (`pack`, in the parse workers), then a
batch of files written in one transaction (`store_files`: old rows out, raw rows, rejects, warnings,
manifest and events in; each file atomic), and the manifest's late columns."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors import raw_store
from connectors.filedrop.parse import (
    FileResult,
)
from connectors.sheet_parser import (
    SheetResult,
    sheets_report,
)


def ensure_manifest_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Columns added to `ingest_manifest` after its first release (warehouses created earlier get them
    here): `records_written` = records in the raw tables, next to the source-row counts."""
    con.execute("ALTER TABLE ingest_manifest ADD COLUMN IF NOT EXISTS records_written BIGINT")
    con.execute("ALTER TABLE ingest_manifest ADD COLUMN IF NOT EXISTS sheets_report VARCHAR")  # issue 19


@dataclass
class StoreItem:
    """A parsed file waiting to be stored, with what `store_files` needs to know about it."""

    res: FileResult
    school_year: str | None
    school: str | None
    replaced: bool
    prev_entities: list[str] | None = None
    fresh: bool = False


def store_file(
    con: duckdb.DuckDBPyConnection,
    res: FileResult,
    run_id: str,
    school_year: str | None,
    school: str | None,
    replaced: bool,
    prev_entities: list[str] | None = None,
    fresh: bool = False,
) -> None:
    """Write one parsed file atomically: old rows out, new rows, rejects and manifest in.

    Old rows are removed from the raw tables of `prev_entities` (the entities of its manifest row)
    when given, else from every raw table; `fresh` (the manifest never knew the file) skips that."""
    store_files(con, [StoreItem(res, school_year, school, replaced, prev_entities, fresh)], run_id)


@dataclass(eq=False)
class Part:
    """Rows for one raw table from one or several files of a parse batch, ready to store: an Arrow IPC
    stream from a parse worker (compact to send between processes: a pickled Arrow slice would carry
    the whole buffer it views), the Arrow table itself when parsed in the storing process, or a
    DataFrame Arrow cannot type (a column mixing numbers and text). The rows carry their
    `source_file`; `files` lists those files."""

    entity: str
    data: bytes | pa.Table | pd.DataFrame
    files: frozenset[str]

    def rows_of(self, files: set[str]) -> pa.Table | pd.DataFrame:
        """The rows of the given files (all of the part's rows when it holds no other file)."""
        data = self.__dict__.get("_decoded")
        if data is None:
            data = pa.ipc.open_stream(self.data).read_all() if isinstance(self.data, bytes) else self.data
            self.__dict__["_decoded"] = data
        if self.files <= files:
            return data
        if isinstance(data, pd.DataFrame):
            return data[data["source_file"].isin(files)]
        return data.filter(
            pc.is_in(data["source_file"], value_set=pa.array(sorted(files), type=data["source_file"].type))
        )


def pack(results: list[FileResult], ipc: bool = True) -> list[FileResult]:
    """Hand parsed files' rows over for storing (the parse workers do it, so that the storing process only
    passes Arrow to DuckDB): the records of every kept file become Parts, one per raw table and group of
    sheets parsed together (or per sheet layout of a file parsed alone), with the provenance columns
    (`ingested_at` is added when they are stored). The sheets keep their counts, not their rows.
    `ipc=False` (files parsed in the storing process) keeps each part an Arrow table, not a stream."""
    buckets: dict[tuple, list[tuple[FileResult, SheetResult]]] = {}
    for res in results:
        if res.parts is not None:
            continue
        res.parts = []
        for s in res.sheets if res.status != "quarantined" else []:
            if s.records == 0 if s.frame is None else s.rows.empty:
                continue
            layout = s.layout
            if s.parent is not None:  # a slice of a grouped parse's frame: one part for the group
                key: tuple = ("group", id(s.parent[0]), layout.entity, layout.id, layout.source_system)
            else:  # sheets of one file and layout with the same columns and dtypes
                key = (
                    "file",
                    id(res),
                    layout.entity,
                    layout.id,
                    layout.source_system,
                    tuple(s.rows.columns),
                    tuple(map(str, s.rows.dtypes)),
                )
            buckets.setdefault(key, []).append((res, s))
    for key, members in buckets.items():
        sheets = [s for _, s in members]
        provenance = _Provenance(
            [r.source_file for r, _ in members], [r.sha256 for r, _ in members], [s.records for s in sheets]
        )
        data = _arrow(_part_frame(key, sheets), provenance, key[3], key[4], ipc)
        part = Part(key[2], data, frozenset(provenance.files))
        for res in {id(r): r for r, _ in members}.values():
            res.parts.append(part)  # type: ignore[union-attr]
    for res in results:
        for s in res.sheets:
            s.n_records = s.records
            s.rows = _HANDED_OVER  # one shared empty frame: cheap to send back from a parse process
            s.parent = None
    return results


_HANDED_OVER = pd.DataFrame()


def _part_frame(key: tuple, sheets: list[SheetResult]) -> pd.DataFrame:
    """The records of a part's sheets: the rows of a grouped parse's frame that are theirs (all of it,
    most often), or the sheets' own frames concatenated."""
    if key[0] == "group":
        parent = sheets[0].parent[0]  # type: ignore[index]
        spans = [(s.parent[1], s.parent[2]) for s in sheets]  # type: ignore[index]
        whole = (
            spans[0][0] == 0
            and spans[-1][1] == len(parent)
            and all(b == a2 for (_, b), (a2, _) in itertools.pairwise(spans))
        )
        return parent if whole else parent.iloc[np.concatenate([np.arange(a, b) for a, b in spans])]
    return pd.concat([s.rows for s in sheets], ignore_index=True) if len(sheets) > 1 else sheets[0].rows


@dataclass
class _Provenance:
    """The file and sha256 of each sheet of a part, and its count of records (in part order)."""

    files: list[str]
    shas: list[str]
    lengths: list[int]

    def column(self, values: list[str]) -> pa.Array:
        """A value per sheet repeated over its records, as an Arrow string column (one take)."""
        at = np.repeat(np.arange(len(values)), self.lengths)
        return pa.array(values, type=pa.string()).take(pa.array(at))


_PROVENANCE = ("source_file", "file_sha256", "layout_id")


def _arrow(
    frame: pd.DataFrame, prov: _Provenance, layout_id: str, source_system: str, ipc: bool
) -> bytes | pa.Table | pd.DataFrame:
    """A part's records with their provenance columns (`source_file`, `file_sha256`, `layout_id`, and
    `source_system` where the records carry none) as an Arrow table, or as an Arrow IPC stream
    (`ipc`); a DataFrame when Arrow cannot type one of its columns."""
    table = None if any(c in frame.columns for c in _PROVENANCE) else _arrow_table(frame)
    if table is not None:  # the provenance columns added in Arrow (one take each)
        n = sum(prov.lengths)
        table = table.append_column("source_file", prov.column(prov.files))
        table = table.append_column("file_sha256", prov.column(prov.shas))
        at = pa.array(np.zeros(n, dtype=np.int64))
        table = table.append_column("layout_id", pa.array([layout_id], pa.string()).take(at))
        if "source_system" not in table.column_names:
            table = table.append_column("source_system", pa.array([source_system], pa.string()).take(at))
    else:  # records Arrow cannot type (or that name a provenance column): pandas adds them
        frame = frame.copy(deep=False)
        frame["source_file"] = np.repeat(np.array(prov.files, dtype=object), prov.lengths)
        frame["file_sha256"] = np.repeat(np.array(prov.shas, dtype=object), prov.lengths)
        frame["layout_id"] = layout_id
        if "source_system" not in frame.columns:
            frame["source_system"] = source_system
        table = _arrow_table(frame)
        if table is None:
            return frame
    if not ipc:
        return table
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _arrow_table(frame: pd.DataFrame) -> pa.Table | None:
    """A frame as an Arrow table; None when Arrow cannot type one of its columns."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
        return None


def store_files(con: duckdb.DuckDBPyConnection, items: list[StoreItem], run_id: str) -> None:
    """Write several parsed files in one transaction (so each is atomic: a crash never leaves half a
    file, its manifest row goes in with its rows): old rows out, then one INSERT per raw table for
    all their rows (each file's frames still cast on their own), rejects, warnings, manifest, events."""
    if not items:
        return
    now = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        by_entity = _replace_rows(con, items)
        rejects = [row for it in items for row in _reject_rows(it, now)]  # one frame for the batch's rejects
        warnings = [row for it in items for row in _warning_rows(it.res)]  # (and one for its warnings)
        manifest = [_manifest_row(it, now, run_id) for it in items]
        events = [(it.res.source_file, it.res.sha256, _action(it)) for it in items]
        # one statement per entity of the batch; the raw tables are sets, so DuckDB may append in parallel
        con.execute("SET SESSION preserve_insertion_order = false")
        try:
            for entity, parts in by_entity.items():
                raw_store.insert_many(con, entity, parts, ingested_at=now)
        finally:
            con.execute("RESET SESSION preserve_insertion_order")
        raw_store.insert_frames(con, "dq_quarantine_rows", [pd.DataFrame(rejects)] if rejects else [])
        raw_store.insert_frames(con, "ingest_warnings", [pd.DataFrame(warnings)] if warnings else [])
        raw_store.upsert_manifest_rows(con, manifest)
        raw_store.log_events(con, run_id, events)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _replace_rows(
    con: duckdb.DuckDBPyConnection, items: list[StoreItem]
) -> dict[str, list[pa.Table | pd.DataFrame]]:
    """Inside the transaction: the rows the files' manifest entries contributed before are deleted (the
    registry entries kept for a code listed twice are read first, to be stored again); the rows to insert
    per raw table are returned (files parsed here, without the pool, are packed first)."""
    old = [(it.res.source_file, it.prev_entities) for it in items if not it.fresh]
    by_entity: dict[str, list[pa.Table | pd.DataFrame]] = {}
    kept = previous_entries(con, [it for it in items if not it.fresh])
    if kept is not None:
        by_entity["school"] = [kept]
    if old:  # files the manifest knew: remove what they contributed before
        raw_store.delete_files_rows(con, old)
    pack([it.res for it in items if it.res.parts is None], ipc=False)  # parsed here (no pool)
    files_of: dict[int, tuple[Part, set[str]]] = {}  # a part → the files of this transaction it holds
    for it in items:
        for part in it.res.parts or []:
            files_of.setdefault(id(part), (part, set()))[1].add(it.res.source_file)
    for part, files in files_of.values():  # a file parsed again (registry change) has new parts
        by_entity.setdefault(part.entity, []).append(part.rows_of(files))
    return by_entity


def _reject_rows(it: StoreItem, now: dt.datetime) -> list[dict]:
    """The `dq_quarantine_rows` entries of a file's row rejects."""
    res = it.res
    return [
        {
            "source_sheet": r.sheet,
            "source_row": r.row,
            "column_letter": r.column,
            "header": r.header,
            "canonical_column": r.canonical,
            "value": r.value,
            "reason_code": r.reason_code,
            "message": r.message,
            "stage": "ingest",
            "entity": s.layout.entity,
            "layout_id": s.layout.id,
            "source_file": res.source_file,
            "file_sha256": res.sha256,
            "recorded_at": now,
            "school_code": it.school,
            "school_year": it.school_year,
            "check_name": r.reason_code,
        }
        for s in res.sheets
        for r in s.rejects
    ]


def _warning_rows(res: FileResult) -> list[dict]:
    """The `ingest_warnings` entries of a file's row warnings."""
    return [
        {
            "source_file": res.source_file,
            "file_sha256": res.sha256,
            "source_sheet": w.sheet,
            "source_row": w.row,
            "reason_code": w.reason_code,
            "detail": w.detail,
        }
        for s in res.sheets
        for w in s.warnings
    ]


def _manifest_row(it: StoreItem, now: dt.datetime, run_id: str) -> dict:
    """A file's `ingest_manifest` row."""
    res = it.res
    layouts = sorted({s.layout.id for s in res.sheets})
    entities = sorted({s.layout.entity for s in res.sheets})
    return {
        "source_file": res.source_file,
        "file_sha256": res.sha256,
        "size_bytes": res.size,
        "delivery_year": it.school_year,
        "delivery_school": it.school,
        "layout_ids": ",".join(layouts),
        "entities": ",".join(entities),
        "status": res.status,
        "reason_code": res.reason_code,
        "reason": res.reason,
        "rows_read": res.rows_read,
        "rows_kept": res.rows_kept,
        "rows_rejected": res.rows_rejected,
        "records_written": res.records_written,
        "rows_skipped": sum(s.rows_skipped for s in res.sheets),
        "duplicates_dropped": sum(s.duplicates_dropped for s in res.sheets),
        "ingested_at": now,
        "run_id": run_id,
        "sheets_report": sheets_report(res.sheets, res.unread_sheets),
    }


def _action(it: StoreItem) -> str:
    """The file's event in `ingest_events`."""
    return "quarantined" if it.res.status == "quarantined" else ("replaced" if it.replaced else "ingested")


def previous_entries(con: duckdb.DuckDBPyConnection, items: list[StoreItem]) -> pa.Table | None:
    """The registry rows these files stored before for the (school code, year) pairs they now list twice
    (`FileResult.kept_previous`), as they were (their file, row and time): stored again with the new
    version, the school keeps its previous entry until the registry is corrected. None when there are
    none (a code listed twice in the first registry has no entry: its school's files wait for one)."""
    keys = [
        f"{it.res.source_file}|{code}|{school_year}"
        for it in items
        if it.res.status != "quarantined"
        for code, school_year in it.res.kept_previous
    ]
    if not keys:
        return None
    table = con.sql(
        "SELECT * FROM raw_school "
        "WHERE list_contains($keys::VARCHAR[], concat_ws('|', source_file, school_code, school_year))",
        params={"keys": keys},
    ).to_arrow_table()
    return table if table.num_rows else None
