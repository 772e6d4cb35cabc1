"""The LMS connector's bookkeeping: its settings (API key, school year, endpoint name), its tables
(`api_cursors`: where the next pull starts; `api_pulls`: one row per pull, ok or failed), the pull's
outcome types (`PullSummary`, `PullError`), the one transaction that stores a pull with its cursor, and the
read of the last pull's outcome (`latest_pull_status`) for the run summary and the data-quality report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pandas as pd

from connectors import raw_store
from connectors.entities import load_entities
from connectors.http_client import ApiError
from connectors.http_lms.push import (
    ENTITY,
)
from connectors.normalize import school_year_of

log = logging.getLogger(__name__)


DEFAULT_API_KEY_ENV = "CDS_API_KEY"
API_CURSORS_DDL = """
CREATE TABLE IF NOT EXISTS api_cursors (
  base_url VARCHAR,
  school_year VARCHAR,
  cursor VARCHAR,            -- where the next pull starts (NULL = from the beginning)
  updated_at TIMESTAMP,
  run_id VARCHAR,
  pages BIGINT,              -- of the last successful pull
  objects BIGINT,
  objects_quarantined BIGINT,
  rows_loaded BIGINT,
  PRIMARY KEY (base_url, school_year)
)
"""


API_PULLS_DDL = """
CREATE TABLE IF NOT EXISTS api_pulls (
  run_id VARCHAR,
  base_url VARCHAR,          -- scheme, host, port and path; never the key
  source_file VARCHAR,       -- api:<host>[/<path>]/v1/metrics, as in raw_lms_activity
  school_year VARCHAR,
  started_at TIMESTAMP,
  finished_at TIMESTAMP,
  status VARCHAR,            -- ok | failed
  pages BIGINT,              -- pages fetched (a failed pull: before it failed)
  objects BIGINT,
  objects_quarantined BIGINT,
  rows_loaded BIGINT,        -- rows written (0 when failed: a failed pull writes no rows)
  error_code VARCHAR,        -- NULL when ok; an `ApiError` code or a pull code (see PULL_ERROR_CODES)
  http_status INTEGER,       -- the last HTTP status of a failed request, when there was one
  message VARCHAR,           -- English, for logs
  message_vi VARCHAR         -- Vietnamese, for the run summary and the data-quality report
)
"""


def resolve_api_key(api_key: Any = None, env_var: str = DEFAULT_API_KEY_ENV) -> str:
    """The key from the argument (a str or a pydantic SecretStr) or else the environment variable."""
    if api_key is not None and hasattr(api_key, "get_secret_value"):
        api_key = api_key.get_secret_value()
    key = (api_key or os.environ.get(env_var, "") or "").strip()
    if not key:
        raise ValueError(f"No LMS API key: pass api_key or set {env_var}")
    return key


def start_year(school_year: str | int) -> int:
    """`2024-2025` or 2024 → 2024 (the API's school_year parameter, §1.5)."""
    sy = school_year_of(str(school_year))
    if sy is None:
        raise ValueError(f"Not a school year: {school_year!r}")
    return int(sy[:4])


def source_file_of(base_url: str) -> str:
    """`api:<host>[/<base path>]/v1/metrics`: the provenance name of the endpoint (no scheme, no key)."""
    parts = urlsplit(base_url)
    return f"api:{parts.netloc}{parts.path.rstrip('/')}/v1/metrics"


def ensure_api_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the connector's bookkeeping tables (`api_cursors`, `api_pulls`) when missing."""
    con.execute(API_CURSORS_DDL)
    con.execute(API_PULLS_DDL)


def get_cursor(con: duckdb.DuckDBPyConnection, base_url: str, school_year: str) -> str | None:
    """The stored resume cursor of (base_url, school_year), None when there is none."""
    ensure_api_tables(con)
    row = con.execute(
        "SELECT cursor FROM api_cursors WHERE base_url = ? AND school_year = ?",
        [base_url.rstrip("/"), school_year],
    ).fetchall()
    return row[0][0] if row else None


def reset_cursor(con: duckdb.DuckDBPyConnection, base_url: str, school_year: str) -> None:
    """Forget the cursor: the next pull asks for everything again (rows are de-duplicated)."""
    ensure_api_tables(con)
    con.execute(
        "DELETE FROM api_cursors WHERE base_url = ? AND school_year = ?", [base_url.rstrip("/"), school_year]
    )


# Codes of a failed pull: the transport's (`ApiError.CODES`) and the pull's own.
PULL_ERROR_CODES = ApiError.CODES | frozenset({"no_api_key", "bad_shape", "cursor_loop", "too_many_pages"})


class PullError(Exception):
    """A pull that stored no rows. `str()` is English for logs; `message_vi` one line for the report;
    `code` one of `PULL_ERROR_CODES`; `http_status` the last HTTP status when there was one."""

    def __init__(self, message: str, message_vi: str, *, code: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message_vi = message_vi
        self.code = code
        self.http_status = http_status


@dataclass
class PullSummary:
    """What one pull fetched and stored."""

    run_id: str
    base_url: str
    school_year: str
    cursor_before: str | None
    cursor_after: str | None = None
    pages: int = 0
    objects: int = 0
    objects_quarantined: int = 0
    rows_received: int = 0
    rows_loaded: int = 0  # distinct grain+measured_at rows written by this pull
    duplicates_dropped: int = 0  # repeats inside this pull
    rows_replaced: int = 0  # rows of earlier pulls superseded by this one
    elapsed_s: float = 0.0
    quarantine: list[dict[str, Any]] = field(default_factory=list)

    def as_metadata(self) -> dict[str, Any]:
        """Plain values for Dagster metadata / logs (no key, no personal data)."""
        return {k: v for k, v in self.__dict__.items() if k != "quarantine"}


def _dedupe_key() -> list[str]:
    return [*load_entities()[ENTITY].grain, "measured_at"]


def _pull_record(
    summary: PullSummary, source_file: str, started_at: dt.datetime, error: PullError | None
) -> list[Any]:
    """One `api_pulls` row, in the table's column order."""
    return [
        summary.run_id,
        summary.base_url,
        source_file,
        summary.school_year,
        started_at,
        dt.datetime.now(),
        "failed" if error else "ok",
        summary.pages,
        summary.objects,
        summary.objects_quarantined,
        0 if error else summary.rows_loaded,
        error.code if error else None,
        error.http_status if error else None,
        str(error) if error else None,
        error.message_vi if error else None,
    ]


_INSERT_PULL = "INSERT INTO api_pulls VALUES (" + ", ".join(["?"] * 15) + ")"


def _record_failure(
    con: duckdb.DuckDBPyConnection,
    summary: PullSummary,
    source_file: str,
    started_at: dt.datetime,
    error: PullError,
) -> None:
    """Record a failed pull; a warehouse that cannot take the record is logged, the `PullError` stands."""
    try:
        con.execute(_INSERT_PULL, _pull_record(summary, source_file, started_at, error))
    except duckdb.Error as exc:
        log.error(
            "LMS API pull %s %s failed (%s) and could not be recorded in api_pulls: %s",
            source_file,
            summary.school_year,
            error.code,
            exc,
        )


def _store_pull(
    con: duckdb.DuckDBPyConnection,
    summary: PullSummary,
    incoming: pd.DataFrame,
    keycols: list[str],
    source_file: str,
    started_at: dt.datetime,
) -> None:
    """One transaction: supersede earlier rows of the same key, insert, quarantine, move the cursor,
    record the pull as ok."""
    table = load_entities()[ENTITY].table
    match = " AND ".join(f't."{c}" IS NOT DISTINCT FROM CAST(k."{c}" AS {_col_type(c)})' for c in keycols)
    con.execute("BEGIN TRANSACTION")
    try:
        if not incoming.empty:
            con.register("_lms_keys", incoming[keycols])
            try:
                deleted = con.execute(
                    f"DELETE FROM {table} t WHERE t.source_file = ? "
                    f"AND EXISTS (SELECT 1 FROM _lms_keys k WHERE {match})",
                    [source_file],
                ).fetchall()
                summary.rows_replaced = int(deleted[0][0]) if deleted else 0
            finally:
                con.unregister("_lms_keys")
            raw_store.insert_rows(con, ENTITY, incoming)
        if summary.quarantine:
            q = pd.DataFrame(summary.quarantine)
            con.register("_lms_q", q[["source_file", "file_sha256"]])
            try:  # the same bad object fetched again replaces its earlier entry
                con.execute(
                    "DELETE FROM dq_quarantine_rows q WHERE EXISTS (SELECT 1 FROM _lms_q n "
                    "WHERE n.source_file = q.source_file AND n.file_sha256 = q.file_sha256)"
                ).fetchall()
            finally:
                con.unregister("_lms_q")
            raw_store.insert_frame(con, "dq_quarantine_rows", q)
        con.execute(
            "DELETE FROM api_cursors WHERE base_url = ? AND school_year = ?",
            [summary.base_url, summary.school_year],
        )
        con.execute(
            "INSERT INTO api_cursors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                summary.base_url,
                summary.school_year,
                summary.cursor_after,
                dt.datetime.now(),
                summary.run_id,
                summary.pages,
                summary.objects,
                summary.objects_quarantined,
                summary.rows_loaded,
            ],
        )
        con.execute(_INSERT_PULL, _pull_record(summary, source_file, started_at, None))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _col_type(name: str) -> str:
    return load_entities()[ENTITY].all_columns()[name]


@dataclass(frozen=True)
class PullStatus:
    """One recorded pull (a row of `api_pulls`): what the run summary and the report show."""

    run_id: str
    base_url: str
    source_file: str
    school_year: str
    started_at: dt.datetime
    finished_at: dt.datetime
    status: str  # ok | failed
    pages: int
    objects: int
    objects_quarantined: int
    rows_loaded: int
    error_code: str | None
    http_status: int | None
    message: str | None  # English
    message_vi: str | None  # Vietnamese; None when ok

    @property
    def failed(self) -> bool:
        return self.status != "ok"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (times as ISO strings)."""
        d = dict(self.__dict__)
        for k in ("started_at", "finished_at"):
            d[k] = d[k].isoformat(timespec="seconds")
        return d


_PULL_COLUMNS = [f.name for f in dataclasses.fields(PullStatus)]


def latest_pull_status(
    con: duckdb.DuckDBPyConnection, school_year: str, since: dt.datetime | None = None
) -> PullStatus | None:
    """The latest recorded API pull of `school_year` (started at or after `since` when given, e.g. the
    start of a run), None when there is none or no pull was ever recorded. Reads only: a read-only
    connection to a warehouse without the table works."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'api_pulls' "
        "AND table_schema = current_schema() AND table_catalog = current_database()"
    ).fetchall()[0][0]
    if not exists:
        return None
    sql = f"SELECT {', '.join(_PULL_COLUMNS)} FROM api_pulls WHERE school_year = ?"
    args: list[Any] = [school_year]
    if since is not None:
        sql += " AND started_at >= ?"
        args.append(since)
    row = con.execute(sql + " ORDER BY started_at DESC, finished_at DESC LIMIT 1", args).fetchall()
    return PullStatus(**dict(zip(_PULL_COLUMNS, row[0], strict=True))) if row else None
