"""HTTP connector for the LMS metrics API (docs/exports.md §3.8): pull push objects page by page, map them
to canonical `lms_activity` rows, and store one pull in one DuckDB transaction with its cursor.

What belongs here: the API contract below, the pure mapping of one hub push object to rows
(`push_to_rows`, shared with the file-drop JSON layouts), the connector's bookkeeping tables
(`api_cursors`, `api_pulls`), the pull itself and the read of its last outcome (`latest_pull_status`).
Transport (timeouts, retries, backoff, redirects, body-size and deadline limits) lives in
`connectors.http_client`; raw tables and quarantine in `connectors.raw_store`. No Dagster code here: the
asset calls `pull_lms_metrics` and reports its summary or its `PullError`.

API contract (our design; the hub's push *bodies* are the documented ones)
--------------------------------------------------------------------------
    GET {base_url}/v1/metrics?school_year=2024&page_size=100[&cursor=<opaque>]
    X-API-Key: <key>

- `school_year` is the integer START year (2024 = 2024-2025), as the hub sends it (§1.5).
- `cursor` is opaque. Absent = from the beginning. The response:

      {"data": [<push object>, ...],
       "next_cursor": "<opaque>" | null,
       "page": {"cursor": "<cursor of this page>", "size": 2, "resume_cursor": "<opaque>"}}

  Each push object is a `dti.push_users.v1` body (`users[]`) or a `dti.push_schools.v1` body
  (`schools[]`), optionally wrapped as `{"error_code":0,"data":{…},"message":""}`.
- `next_cursor` non-null: more pages are available now, ask again with it. null: caught up.
- `page.resume_cursor` (optional, read on the last page): where the *next* pull starts, so that it gets
  only what changed since. Without it the next pull restarts from the last cursor requested (a page
  may come back again; rows are de-duplicated, so that is harmless).
- HTTP 410 Gone for the stored cursor means it expired: the connector starts over from the beginning
  in the same pull (rows are de-duplicated).
- An object may come back again on a later page or pull (changes re-sent, pages shifting or shrinking
  between calls); the connector de-duplicates, so the server need not be exact.

Storage
-------
- Rows go to `raw_lms_activity` with provenance: source_system `lms:<platform|hub>`, layout_id
  `dti.push_users.v1` / `dti.push_schools.v1`, source_file `api:<host>/v1/metrics`, source_sheet = the
  page's request cursor (`start` for the first page of a full pull), source_row = the object's index
  in the page, file_sha256 = sha256 of the object's canonical JSON, ingested_at.
- De-duplication key: the entity grain + measured_at; the latest received wins, both within the pull
  and against rows of earlier pulls from the same API (`source_file`). Rows of file drops are left to
  `connectors.filedrop`, which owns them.
- An object that is invalid (a required field missing, a bad value) goes to `dq_quarantine_rows` with a
  Vietnamese message; the others load.
- All pages are fetched first (each mapped to rows as it arrives, so only one page's JSON is held at a
  time); the rows, quarantine entries, the new cursor (`api_cursors`) and the pull's record
  (`api_pulls`, status `ok`) are then written in one transaction. A failed pull writes no rows and
  leaves the cursor where it was.
- Nothing is written to `ingest_manifest`: that table lists inbox files, and the file-drop connector
  retires every manifest entry it does not find in the inbox.

Limits and failures
-------------------
- One request (all its attempts) has a wall-clock deadline (`RetryPolicy.total_budget_s`), the whole
  pull another (`pull_budget_s`); both are enforced while reading (see `connectors.http_client`), so a
  server that drips bytes cannot hold the run or the warehouse lock past them.
- A response body over `max_body_bytes` stops the pull; a redirect to another origin is refused (the
  key never leaves the configured server).
- Every pull, ok or failed, leaves one row in `api_pulls` (start, end, status, pages, objects, rows,
  error code, HTTP status, the English error and the Vietnamese message). A failed pull raises
  `PullError` (same code and message) after recording itself. `latest_pull_status(con, year)` is what
  the run summary and the data-quality report read: it writes nothing, so a read-only connection works.

What belongs in each module: `push` (the pure mapping of one push object), `bookkeeping` (settings,
cursors, pull records and their tables, the last pull's outcome), `pull` (the pull itself). This package
re-exports the names other code imports from `connectors.http_lms`.
"""

from __future__ import annotations

from connectors.http_lms.bookkeeping import (
    API_CURSORS_DDL,
    API_PULLS_DDL,
    DEFAULT_API_KEY_ENV,
    PULL_ERROR_CODES,
    PullError,
    PullStatus,
    PullSummary,
    ensure_api_tables,
    get_cursor,
    latest_pull_status,
    reset_cursor,
    resolve_api_key,
    source_file_of,
    start_year,
)
from connectors.http_lms.pull import pull_lms_metrics
from connectors.http_lms.push import (
    CANONICAL_ROLES,
    ENTITY,
    HUB_METRICS,
    HUB_ROLES,
    LAYOUT_SCHOOLS,
    LAYOUT_USERS,
    LOCAL_TZ,
    PROJECT_METRICS,
    PROJECT_SUBJECTS,
    ROW_COLUMNS,
    PushRejected,
    canonical_json_sha256,
    measured_at_local,
    metric_of,
    period_day,
    push_layout,
    push_to_rows,
    role_of,
    school_code_of,
    unwrap_push,
)

__all__ = [
    "API_CURSORS_DDL",
    "API_PULLS_DDL",
    "CANONICAL_ROLES",
    "DEFAULT_API_KEY_ENV",
    "ENTITY",
    "HUB_METRICS",
    "HUB_ROLES",
    "LAYOUT_SCHOOLS",
    "LAYOUT_USERS",
    "LOCAL_TZ",
    "PROJECT_METRICS",
    "PROJECT_SUBJECTS",
    "PULL_ERROR_CODES",
    "ROW_COLUMNS",
    "PullError",
    "PullStatus",
    "PullSummary",
    "PushRejected",
    "canonical_json_sha256",
    "ensure_api_tables",
    "get_cursor",
    "latest_pull_status",
    "measured_at_local",
    "metric_of",
    "period_day",
    "pull_lms_metrics",
    "push_layout",
    "push_to_rows",
    "reset_cursor",
    "resolve_api_key",
    "role_of",
    "school_code_of",
    "source_file_of",
    "start_year",
    "unwrap_push",
]
