"""Writing the tables Python computes (scores, findings, reviewer decisions): `replace_year`, the one
"replace this school year's rows of a table with a frame" of the project.

What belongs here: the table-writing rules every stage shares, so that a table's column types never
depend on which run happened to create it.
"""

from __future__ import annotations

import duckdb
import pandas as pd

_NULL_TYPES = ('"NULL"', "NULL")


def replace_year(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, year: str) -> None:
    """Replace the `year` rows of `table` with `frame`, creating the table from the frame when missing.

    Column types follow the data, whichever run wrote first: an empty frame (a year with nothing to
    read) creates every column with DuckDB's NULL type (pandas gives an empty frame's columns types that
    say nothing of the data: a text column computed as NaN is float), and the first frame that has rows
    gives each such column its type (a column the table lacks is added). A column whose values are all
    missing in a frame with rows is text."""
    if not len(frame):  # no data, no types: every column NULL-typed until a frame with rows comes
        frame = frame.astype(object)
    else:
        frame = frame.copy()
        for c in frame.columns:  # an all-null object column would give DuckDB's NULL type: make it text
            if frame[c].dtype == object and frame[c].isna().all():
                frame[c] = frame[c].astype("string")
    con.register("_frame", frame)
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _frame LIMIT 0")
        have = {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}
        for name, typ in ((r[0], r[1]) for r in con.execute("DESCRIBE SELECT * FROM _frame").fetchall()):
            if name not in have:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {typ}')
            elif have[name] in _NULL_TYPES and typ not in _NULL_TYPES:
                con.execute(f'ALTER TABLE {table} ALTER COLUMN "{name}" TYPE {typ}')
        con.execute(f"DELETE FROM {table} WHERE school_year = ?", [year])
        if len(frame):
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
    finally:
        con.unregister("_frame")
