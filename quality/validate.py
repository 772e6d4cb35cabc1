"""The validate stage: run each entity's pandera schema (lazily, all failures at once) over the rows
of files not yet validated, and put failing rows in `quarantine_rows` (stage `validate`) with the
failed check and value. Good rows are untouched; staging models exclude the quarantined ones."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pandera.pandas as pa

from connectors import raw_store
from connectors.entities import load_entities
from connectors.messages import row_message
from quality.schemas import schema_for

VALIDATED_DDL = """
CREATE TABLE IF NOT EXISTS validated_files (
  entity VARCHAR, source_file VARCHAR, file_sha256 VARCHAR, rows_checked BIGINT, rows_failed BIGINT,
  validated_at TIMESTAMP
)
"""


def failures(frame: pd.DataFrame, entity: str) -> pd.DataFrame:
    """Failure cases of one entity's schema: one row per (row index, column, check)."""
    schema = schema_for(entity)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        return fc[["index", "column", "check", "failure_case"]].reset_index(drop=True)
    return pd.DataFrame(columns=["index", "column", "check", "failure_case"])


def validate_new_files(con: duckdb.DuckDBPyConnection, school_year: str | None = None) -> dict[str, int]:
    """Validate rows of files whose current hash has not been validated yet; returns failures per entity."""
    raw_store.ensure_schema(con)
    con.execute(VALIDATED_DDL)
    out: dict[str, int] = {}
    now = dt.datetime.now()
    for ent in load_entities().values():
        todo = con.execute(
            f"""SELECT DISTINCT r.source_file, r.file_sha256 FROM {ent.table} r
                ANTI JOIN validated_files v ON v.entity = ? AND v.source_file = r.source_file
                    AND v.file_sha256 = r.file_sha256"""
            , [ent.name]).fetchall()  # fmt: skip
        for source_file, sha in todo:
            frame = con.execute(f"SELECT * FROM {ent.table} WHERE source_file = ?", [source_file]).df()
            fc = failures(frame, ent.name)
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "DELETE FROM quarantine_rows WHERE stage = 'validate' AND entity = ? AND source_file = ?",
                [ent.name, source_file],
            )
            con.execute("DELETE FROM validated_files WHERE entity = ? AND source_file = ?", [ent.name, source_file])
            if not fc.empty:
                rows = frame.loc[fc["index"].astype(int)].reset_index(drop=True)
                q = pd.DataFrame(
                    {
                        "stage": "validate", "entity": ent.name, "layout_id": rows["layout_id"],
                        "school_code": rows["school_code"], "school_year": rows["school_year"],
                        "source_file": source_file, "file_sha256": sha, "source_sheet": rows["source_sheet"],
                        "source_row": rows["source_row"], "column_letter": "", "header": "",
                        "canonical_column": fc["column"].astype(str), "value": fc["failure_case"].astype(str),
                        "reason_code": "out_of_range", "check_name": fc["check"].astype(str),
                        "recorded_at": now,
                    }
                )  # fmt: skip
                q["message"] = [
                    row_message(source_file, s, int(r), "", col, v, "out_of_range", chk)
                    for s, r, col, v, chk in zip(q["source_sheet"], q["source_row"], q["canonical_column"],
                                                 q["value"], q["check_name"], strict=True)
                ]  # fmt: skip
                q = q.drop_duplicates(subset=["source_sheet", "source_row", "canonical_column", "check_name"])
                raw_store.insert_frame(con, "quarantine_rows", q)
            n_failed = int(fc["index"].nunique()) if not fc.empty else 0
            con.execute(
                "INSERT INTO validated_files VALUES (?, ?, ?, ?, ?, ?)",
                [ent.name, source_file, sha, len(frame), n_failed, now],
            )
            con.execute("COMMIT")
            out[ent.name] = out.get(ent.name, 0) + n_failed
    return out
