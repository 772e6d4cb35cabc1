"""The names and the writing rules of the warehouse's tables: the naming grammar every table and view
follows (`NAME_RULES`, checked by a test on a sample run's warehouse), the renames of tables Python wrote
under older names (`RENAMED`, applied once when a run opens an old warehouse: `migrate_names`), and
`replace_year`, the one "replace this school year's rows of a table with a frame" of the project.

Naming grammar (docs/conventions.md, "Table names"): `<layer>_<subject>[__<qualifier>]`, lower-case
words joined by `_`, the layer first, `__` (at most once) before what tells apart tables of one subject.
The layer is the stage that writes the table:

- `raw_<entity>`: rows read from a source, one table per entity (`connectors.raw_store`);
- `ingest_<what>`: bookkeeping of the file drop (manifest, warnings, events, pending files);
- `api_<what>`: bookkeeping of the HTTP connectors (cursors, pulls);
- `dq_<what>`: data quality: rows set aside by any stage (`dq_quarantine_rows`, its `stage` column says
  which), files validated, row counts;
- `cfg_<what>`: the indicator set's configuration;
- `score_<subject>__<step>`: scoring: `score_indicators__scored` → `__proposed` → `__final`, and
  `score_schools__scored` / `__self` / `__proposed` / `__final`;
- `rec_<what>`: reconciliation (the findings);
- `review_<what>`: the reviewers' decisions read back from their workbooks;
- `season_<what>`: the delivery season's tracking;
- `ops_<what>`: the pipeline's own state (runs, inbox, models);
- the SQL models of `dbt_like_sql/`: `stg_<source>__<entity>`, `int_<subject>__<entity>`,
  `audit_<entity>__<rule>`, `mart_<entity>`, `pub_<entity>`, `nat_<entity>`.

What belongs here: table names and the table-writing rules every stage shares, so that a table's
column types never depend on which run happened to create it. Published lakehouse tables and the files
users receive keep their own names (an external contract, outside this grammar). No pandas at import:
`warehouse.connection` calls `migrate_names` on every writable connection.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

_WORDS = r"[a-z0-9]+(?:_[a-z0-9]+)*"
#: The grammar of each layer's names: a table or view whose name matches none of these is misnamed.
NAME_RULES: dict[str, re.Pattern[str]] = {
    layer: re.compile(pattern)
    for layer, pattern in {
        "raw": rf"raw_{_WORDS}",
        "ingest": rf"ingest_{_WORDS}",
        "api": rf"api_{_WORDS}",
        "dq": rf"dq_{_WORDS}",
        "cfg": rf"cfg_{_WORDS}",
        "score": rf"score_{_WORDS}__{_WORDS}",
        "rec": rf"rec_{_WORDS}(?:__{_WORDS})?",
        "review": rf"review_{_WORDS}(?:__{_WORDS})?",
        "season": rf"season_{_WORDS}",
        "ops": rf"ops_{_WORDS}",
        "stg": rf"stg_{_WORDS}__{_WORDS}",
        "int": rf"int_{_WORDS}__{_WORDS}",
        "audit": rf"audit_{_WORDS}__{_WORDS}",
        "mart": rf"mart_{_WORDS}",
        "pub": rf"pub_{_WORDS}",
        "nat": rf"nat_{_WORDS}",
    }.items()
}

#: Tables Python wrote under names older than the grammar (issue 23): old name → new name.
RENAMED: dict[str, str] = {
    "scored_indicator_values": "score_indicators__scored",
    "proposed_indicator_values": "score_indicators__proposed",
    "final_indicator_values": "score_indicators__final",
    "school_scores": "score_schools__scored",
    "school_scores_self": "score_schools__self",
    "school_scores_proposed": "score_schools__proposed",
    "school_scores_final": "score_schools__final",
    "findings": "rec_findings",
    "reviewer_decisions": "review_decisions",
    "reviewer_decision_rejects": "review_decisions__rejected",
    "quarantine_rows": "dq_quarantine_rows",
    "validated_files": "dq_validated_files",
}


def name_layer(name: str) -> str | None:
    """The layer whose grammar `name` follows, or None when it follows none."""
    return next((layer for layer, rule in NAME_RULES.items() if rule.fullmatch(name)), None)


def migrate_names(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Rename each table of `RENAMED` whose old name exists and whose new name does not (a warehouse
    written before the grammar); returns the (old, new) pairs renamed. A warehouse holding both names
    is left alone: the new one is the live table, the old one a leftover nothing reads.

    After a rename the SQL models' views still read the old names until they are rebuilt: the state of
    the last runs (`ops_run_state`) and of the models (`ops_model_partitions`, and `ops_models_state` of
    older warehouses) is forgotten, so the next run of every year is a full run that rebuilds them (never
    the no-change path)."""
    have = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_catalog = current_database()"
        ).fetchall()
    }
    done = [(old, new) for old, new in RENAMED.items() if old in have and new not in have]
    for old, new in done:
        con.execute(f"ALTER TABLE {old} RENAME TO {new}")
    for state in ("ops_run_state", "ops_model_partitions", "ops_models_state"):
        if done and state in have:
            con.execute(f"DELETE FROM {state}")
    return done


#: The output files written from a content fingerprint (reports/written_files.py): a file is left as it
#: is while its fingerprint and its bytes on disk are those recorded.
OPS_EXPORT_FILES_DDL = (
    "CREATE TABLE IF NOT EXISTS ops_export_files (school_year VARCHAR, kind VARCHAR, output VARCHAR, "
    "fingerprint VARCHAR, file_sha256 VARCHAR, written_at TIMESTAMP)"
)

_NULL_TYPES = ('"NULL"', "NULL")


def replace_year(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, school_year: str) -> None:
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
        con.execute(f"DELETE FROM {table} WHERE school_year = ?", [school_year])
        if len(frame):
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
    finally:
        con.unregister("_frame")
