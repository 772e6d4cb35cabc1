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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pandas as pd

from connectors import raw_store
from connectors.entities import load_entities
from connectors.http_client import DEFAULT_MAX_BODY_BYTES, ApiError, JsonClient, RetryPolicy, seconds_vi
from connectors.messages import reason_text
from connectors.normalize import school_year_of, semester_of
from connectors.readers import FileRejected

log = logging.getLogger(__name__)

ENTITY = "lms_activity"
LAYOUT_USERS = "dti.push_users.v1"
LAYOUT_SCHOOLS = "dti.push_schools.v1"
DEFAULT_API_KEY_ENV = "CDS_API_KEY"
LOCAL_TZ = dt.timezone(dt.timedelta(hours=7))

# Hub key → canonical metric (§3.8); any other key becomes `other:<key>`.
HUB_METRICS: dict[str, str] = {
    "total_lessons": "lessons_assigned",
    "total_tests": "tests_graded",
    "total_exercises_submitted": "exercises_submitted",
    "total_shared_to_hub": "resources_shared",
    "teacher_online_duration": "teacher_online_minutes",
    "student_online_duration": "student_online_minutes",
}
PROJECT_METRICS = frozenset({
    "live_sessions", "lessons_assigned", "questions_answered", "tests_graded", "parent_views",
    "active_events", "exercises_submitted", "resources_shared", "teacher_online_minutes",
    "student_online_minutes",
})  # fmt: skip
HUB_ROLES = {"GV": "teacher", "HS": "student", "PH": "parent"}
CANONICAL_ROLES = frozenset({"teacher", "student", "parent", "school"})
# Project subject codes (§4). A hub 4-digit code is mapped through `hub_subjects`; the rest → UNKNOWN.
PROJECT_SUBJECTS = frozenset({
    "TOAN", "VAN", "NN1", "GDCD", "LSDL", "KHTN", "LS", "DL", "GDKTPL", "LY", "HOA", "SINH", "CNGH",
    "TIN", "GDQPAN", "GDTC", "NT", "AN", "MT", "HDTN", "GDDP", "TV", "DD", "TNXH", "KH", "TDT", "TINCN",
})  # fmt: skip

ROW_COLUMNS = [
    "school_code", "school_year", "source_system", "layout_id", "period_start", "period_end",
    "measured_at", "semester", "user_pin", "role", "subject_code", "grade", "metric", "value",
    "dim_value", "platform", "src_extra",
]  # fmt: skip

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


# ---------------------------------------------------------------------------------------------
# Pure mapping: one push object → canonical rows
# ---------------------------------------------------------------------------------------------
class PushRejected(FileRejected):
    """A push object that cannot be loaded; `code` is a §1.6 reason, `field` the offending JSON path.

    A `FileRejected`, so the file-drop JSON layout can let it propagate to quarantine the file.
    """

    def __init__(self, code: str, field_path: str, found: str = "") -> None:
        super().__init__(code, f"{field_path}: {found}" if found else field_path)
        self.field = field_path
        self.found = found

    @property
    def message_vi(self) -> str:
        """`<reason text>: '<field>'` plus the value found, in Vietnamese (§1.6 texts)."""
        text = reason_text(self.code).replace("Tệp JSON", "Đối tượng JSON") + f": '{self.field}'"
        return text + (f" — giá trị '{self.found}'" if self.found else "")


def unwrap_push(obj: Any) -> Any:
    """Strip the hub envelope `{"error_code":0,"data":{…},"message":""}` when present."""
    if isinstance(obj, dict) and "data" in obj and "error_code" in obj and isinstance(obj["data"], dict):
        return obj["data"]
    return obj


def push_layout(obj: Any) -> str | None:
    """`dti.push_users.v1` / `dti.push_schools.v1` by key (§1.1), None when neither."""
    obj = unwrap_push(obj)
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("users"), list):
        return LAYOUT_USERS
    if isinstance(obj.get("schools"), list):
        return LAYOUT_SCHOOLS
    return None


def canonical_json_sha256(obj: Any) -> str:
    """sha256 of the canonical JSON of an object (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _req(d: Mapping[str, Any], key: str, path: str) -> Any:
    v = d.get(key)
    if _missing(v):
        raise PushRejected("missing_required_column", f"{path}{key}")
    return v


def _id_text(v: Any) -> str:
    """IDs are text (§1.5): numbers lose a `.0` tail, spaces and a leading `'` are stripped."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).replace("\u00a0", " ").strip().lstrip("'").strip().replace(" ", "")
    return re.sub(r"^(\d+)\.0+$", r"\1", s)


def school_code_of(v: Any) -> str:
    """School code (§2): an all-digit code shorter than 8 is left-padded to 8."""
    s = _id_text(v)
    return s.zfill(8) if s.isdigit() and len(s) < 8 else s


def role_of(role: Any, user_pin: str) -> str | None:
    """GV/HS/PH → teacher/student/parent; absent or unknown → from the pin: CB… teacher, PH… parent,
    10 digits student; otherwise None."""
    if not _missing(role):
        r = str(role).strip()
        if r.upper() in HUB_ROLES:
            return HUB_ROLES[r.upper()]
        if r.lower() in CANONICAL_ROLES:
            return r.lower()
    pin = user_pin.upper()
    if pin.startswith("CB"):
        return "teacher"
    if pin.startswith("PH"):
        return "parent"
    if re.fullmatch(r"\d{10}", pin):
        return "student"
    return None


def metric_of(key: str) -> str:
    """Hub key → metric (§3.8); project keys pass; anything else is kept as `other:<key>`."""
    k = key.strip()
    if k in HUB_METRICS:
        return HUB_METRICS[k]
    if k in PROJECT_METRICS:
        return k
    return f"other:{k}"


def measured_at_local(v: Any, path: str = "measured_at") -> dt.datetime:
    """ISO timestamp → naive local (UTC+7) time; a timestamp without zone is already local (§1.5)."""
    try:
        ts = dt.datetime.fromisoformat(str(v).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise PushRejected("bad_date", path, str(v)[:40]) from exc
    if ts.tzinfo is not None:
        ts = ts.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return ts


def period_day(measured_at: dt.datetime) -> dt.date:
    """The local day a value counts: the day that ends at `measured_at` (§3.8). A value measured at
    exactly 00:00 closes the previous day."""
    if measured_at.time() == dt.time(0, 0):
        return (measured_at - dt.timedelta(days=1)).date()
    return measured_at.date()


def _school_year(v: Any, path: str) -> str:
    try:
        if isinstance(v, bool):
            raise ValueError
        if isinstance(v, int | float):
            if float(v) != int(v):
                raise ValueError
            v = str(int(v))
        sy = school_year_of(v)
    except ValueError as exc:
        raise PushRejected("bad_school_year", path, str(v)[:20]) from exc
    if sy is None:
        raise PushRejected("bad_school_year", path, str(v)[:20])
    return sy


def _value(v: Any, path: str) -> float:
    if _missing(v):
        raise PushRejected("missing_required_column", path)
    try:
        if isinstance(v, bool):
            raise ValueError
        x = float(str(v).replace(",", ".")) if isinstance(v, str) else float(v)
    except (TypeError, ValueError) as exc:
        raise PushRejected("bad_number", path, str(v)[:20]) from exc
    if not math.isfinite(x):
        raise PushRejected("bad_number", path, str(v)[:20])
    if x < 0:
        raise PushRejected("out_of_range", path, f"{v} < 0")
    return x


def _grade(v: Any) -> int | None:
    if _missing(v):
        return None
    m = re.fullmatch(r"0*(\d{1,2})(?:\.0+)?", _id_text(v))
    return int(m.group(1)) if m else None


def _subject(v: Any, hub_subjects: Mapping[str, str] | None) -> tuple[str | None, str | None]:
    """(subject_code, the raw code when it was not a project code)."""
    if _missing(v):
        return None, None
    raw = _id_text(v).upper()
    if raw in PROJECT_SUBJECTS:
        return raw, None
    if hub_subjects and raw in hub_subjects:
        return hub_subjects[raw], None
    return "UNKNOWN", raw


def push_to_rows(
    obj: dict, hash_key: str = "", *, hub_subjects: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One hub push object (§3.8 A `dti.push_users.v1` or the school shape `dti.push_schools.v1`,
    optionally in its `{"error_code","data","message"}` envelope) → canonical `lms_activity` rows.

    Columns: `ROW_COLUMNS` (school_code, school_year, source_system, layout_id, period and metric
    columns, src_extra). Provenance of the carrier (source_file, source_sheet, source_row,
    file_sha256, ingested_at) is the caller's. One row per metric entry; an empty `users`/`schools`
    list gives no row. Raises `PushRejected` (code `missing_required_column`, `bad_date`,
    `bad_school_year`, `bad_number`, `out_of_range` or `unrecognized_layout`) for an invalid object:
    the object is all-or-nothing.

    `hash_key` is the §6 HMAC key, taken for parity with the file parsers; the documented push bodies
    carry no field that §6 requires hashing, so it is currently unused. `hub_subjects` maps 4-digit hub
    subject codes to project codes; an unmapped code becomes `UNKNOWN` (raw code kept in src_extra).
    """
    del hash_key  # no §6 field in a push body (see docstring)
    body = unwrap_push(obj)
    layout = push_layout(body)
    if layout is None:
        raise PushRejected("unrecognized_layout", "users|schools", "neither users[] nor schools[]")
    school_year = _school_year(_req(body, "school_year_code", ""), "school_year_code")
    semester_raw = _req(body, "semester_code", "")
    semester = semester_of(str(semester_raw))
    if semester is None:
        raise PushRejected("unknown_value", "semester_code", str(semester_raw)[:20])
    measured_at = measured_at_local(_req(body, "measured_at", ""))
    day = period_day(measured_at)
    platform = str(body.get("platform") or "hub").strip() or "hub"
    top_extra = {k: body[k] for k in ("provdoet_code", "school_level") if body.get(k) is not None}

    rows: list[dict[str, Any]] = []

    def add_metrics(metrics: Any, path: str, school_code: str, user_pin: str | None, role: str | None,
                    extra: dict[str, Any]) -> None:  # fmt: skip
        if not isinstance(metrics, list):
            raise PushRejected("missing_required_column", f"{path}metrics")
        for j, m in enumerate(metrics):
            mp = f"{path}metrics[{j}]."
            if not isinstance(m, dict):
                raise PushRejected("missing_required_column", mp.rstrip("."))
            key = str(_req(m, "key", mp))
            value = _value(m.get("value"), f"{mp}value")
            subject, subject_raw = _subject(m.get("subject_code"), hub_subjects)
            row_extra = dict(extra)
            if subject_raw is not None:
                row_extra["subject_code_raw"] = subject_raw
            dim = m.get("dim_value")
            rows.append({
                "school_code": school_code, "user_pin": user_pin, "role": role, "metric": metric_of(key),
                "value": value, "subject_code": subject, "grade": _grade(m.get("grade_code", m.get("grade"))),
                "dim_value": None if _missing(dim) else str(dim).strip(),
                "src_extra": json.dumps(row_extra, ensure_ascii=False, sort_keys=True) if row_extra else None,
            })  # fmt: skip

    if layout == LAYOUT_USERS:
        school_code = school_code_of(_req(body, "school_code", ""))
        for i, u in enumerate(body["users"]):
            up = f"users[{i}]."
            if not isinstance(u, dict):
                raise PushRejected("missing_required_column", up.rstrip("."))
            pin = _id_text(_req(u, "user_pin", up))
            if len(pin) > 36:
                raise PushRejected("bad_id_format", f"{up}user_pin", pin[:40])
            add_metrics(u.get("metrics"), up, school_code, pin, role_of(u.get("role"), pin), top_extra)
    else:
        for i, s in enumerate(body["schools"]):
            sp = f"schools[{i}]."
            if not isinstance(s, dict):
                raise PushRejected("missing_required_column", sp.rstrip("."))
            code = school_code_of(_req(s, "school_code", sp))
            extra = dict(top_extra)
            extra.update(
                {k: s[k] for k in ("school_level", "has_lms", "shared_to_hub") if s.get(k) is not None}
            )
            add_metrics(s.get("metrics"), sp, code, None, "school", extra)

    frame = pd.DataFrame(rows, columns=[c for c in ROW_COLUMNS if c not in
                                        ("school_year", "source_system", "layout_id", "period_start",
                                         "period_end", "measured_at", "semester", "platform")])  # fmt: skip
    frame["school_year"] = school_year
    frame["source_system"] = f"lms:{platform}"
    frame["layout_id"] = layout
    frame["period_start"] = pd.Timestamp(day)
    frame["period_end"] = pd.Timestamp(day)
    frame["measured_at"] = pd.Timestamp(measured_at)
    frame["semester"] = semester
    frame["platform"] = platform
    frame["grade"] = frame["grade"].astype("Int64")
    frame["value"] = frame["value"].astype("float64")
    return frame[ROW_COLUMNS]


# ---------------------------------------------------------------------------------------------
# Settings and cursors
# ---------------------------------------------------------------------------------------------
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
    row = con.execute("SELECT cursor FROM api_cursors WHERE base_url = ? AND school_year = ?",
                      [base_url.rstrip("/"), school_year]).fetchall()  # fmt: skip
    return row[0][0] if row else None


def reset_cursor(con: duckdb.DuckDBPyConnection, base_url: str, school_year: str) -> None:
    """Forget the cursor: the next pull asks for everything again (rows are de-duplicated)."""
    ensure_api_tables(con)
    con.execute("DELETE FROM api_cursors WHERE base_url = ? AND school_year = ?",
                [base_url.rstrip("/"), school_year])  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The pull
# ---------------------------------------------------------------------------------------------
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


def _page_items(doc: Any, url: str) -> tuple[list[Any], str | None, str | None]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise PullError(
            f"GET {url}: unexpected response shape (expected an object with a 'data' list)",
            f"API {urlsplit(url).netloc} trả về dữ liệu không đúng cấu trúc (thiếu danh sách 'data'); lần lấy "
            "dữ liệu này bị hủy, dữ liệu đã có không bị thay đổi.",
            code="bad_shape",
        )
    nxt = doc.get("next_cursor")
    page_doc = doc.get("page")
    resume = page_doc.get("resume_cursor") if isinstance(page_doc, dict) else None
    return doc["data"], (None if _missing(nxt) else str(nxt)), (None if _missing(resume) else str(resume))


def _dedupe_key() -> list[str]:
    return [*load_entities()[ENTITY].grain, "measured_at"]


def _pull_deadline_error(url: str, budget_s: float, pages: int, cause: ApiError | None = None) -> PullError:
    host = urlsplit(url).netloc
    return PullError(
        f"GET {url}: the pull's {budget_s:g}s deadline passed after {pages} page(s)"
        + (f" ({cause})" if cause else ""),
        f"Lần lấy dữ liệu từ API {host} vượt quá tổng thời hạn {seconds_vi(budget_s)} "
        f"(CDS_API_PULL_DEADLINE_SECONDS) sau {pages} trang; máy chủ trả lời quá chậm nên hệ thống đã ngắt "
        "kết nối. Dữ liệu đã có không bị thay đổi.",
        code="pull_deadline",
    )


def pull_lms_metrics(
    con: duckdb.DuckDBPyConnection,
    base_url: str,
    school_year: str | int,
    api_key: Any = None,
    *,
    api_key_env: str = DEFAULT_API_KEY_ENV,
    hash_key: str = "",
    page_size: int = 100,
    policy: RetryPolicy | None = None,
    pull_budget_s: float = 900.0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_pages: int = 10_000,
    hub_subjects: Mapping[str, str] | None = None,
    run_id: str | None = None,
    client: JsonClient | None = None,
) -> PullSummary:
    """Pull everything new for one school year from the LMS metrics API into `raw_lms_activity`.

    Starts from the stored cursor of (base_url, school_year), follows `next_cursor` to the end,
    then writes rows, quarantined objects, the new cursor and the pull's `api_pulls` record in one
    transaction. When any page cannot be fetched (or the pull's deadline `pull_budget_s` passes),
    records the failed pull in `api_pulls`, stores no rows and raises `PullError`.
    `policy.total_budget_s` is the deadline of one request, `max_body_bytes` the largest response body
    read (both ignored when a `client` is given: its own apply, except the pull's deadline).
    """
    t0 = time.monotonic()
    started_at = dt.datetime.now()
    base = base_url.rstrip("/")
    sy = school_year_of(str(school_year))
    if sy is None:
        raise ValueError(f"Not a school year: {school_year!r}")
    raw_store.ensure_schema(con)
    ensure_api_tables(con)
    summary = PullSummary(run_id or uuid.uuid4().hex[:12], base, sy, get_cursor(con, base, sy))
    source_file = source_file_of(base)
    try:
        try:
            key = resolve_api_key(api_key, api_key_env)
        except ValueError as exc:
            raise PullError(
                str(exc),
                f"Chưa cấu hình khóa API LMS ({api_key_env}); không lấy dữ liệu từ API.",
                code="no_api_key",
            ) from exc
        cl = client or JsonClient(key, policy or RetryPolicy(), max_body_bytes=max_body_bytes)
        try:
            incoming = _fetch_rows(cl, summary, source_file, t0 + pull_budget_s, pull_budget_s, page_size,
                                   max_pages, hash_key, hub_subjects)  # fmt: skip
        finally:
            if client is None:
                cl.close()
    except PullError as exc:
        summary.elapsed_s = round(time.monotonic() - t0, 3)
        _record_failure(con, summary, source_file, started_at, exc)
        raise

    _store_pull(con, summary, incoming, _dedupe_key(), source_file, started_at)
    summary.elapsed_s = round(time.monotonic() - t0, 3)
    log.info("LMS API pull %s %s: %d page(s), %d object(s), %d quarantined, %d row(s) loaded, %d replaced",
             source_file, sy, summary.pages, summary.objects, summary.objects_quarantined,
             summary.rows_loaded, summary.rows_replaced)  # fmt: skip
    return summary


def _fetch_rows(cl: JsonClient, summary: PullSummary, source_file: str, deadline: float, budget_s: float,
                page_size: int, max_pages: int, hash_key: str,
                hub_subjects: Mapping[str, str] | None) -> pd.DataFrame:  # fmt: skip
    """Fetch every page from the stored cursor on, mapping each as it arrives (its JSON is then
    dropped); the rows, de-duplicated on the grain. Fills the summary's counts and `cursor_after`."""
    url = f"{summary.base_url}/v1/metrics"
    host = urlsplit(url).netloc
    cursor, last_requested, resume = summary.cursor_before, summary.cursor_before, None
    seen: set[str | None] = set()
    frames: list[pd.DataFrame] = []
    now = dt.datetime.now()
    while True:
        if cursor in seen:
            raise PullError(
                f"GET {url}: next_cursor {cursor!r} was already fetched in this pull (cursor loop)",
                f"API {host} trả về vị trí trang lặp lại; lần lấy dữ liệu này bị hủy, "
                "dữ liệu đã có không bị thay đổi.",
                code="cursor_loop",
            )
        if summary.pages >= max_pages:
            raise PullError(f"GET {url}: more than {max_pages} pages in one pull",
                            f"API {host} trả về quá {max_pages} trang; lần lấy dữ liệu "
                            "này bị hủy, dữ liệu đã có không bị thay đổi.", code="too_many_pages")  # fmt: skip
        if time.monotonic() >= deadline:
            raise _pull_deadline_error(url, budget_s, summary.pages)
        seen.add(cursor)
        params = {"school_year": start_year(summary.school_year), "cursor": cursor, "page_size": page_size}
        try:
            doc = cl.get_json(url, params, deadline=deadline)
        except ApiError as exc:
            if (
                exc.status == 410
                and cursor is not None
                and cursor == summary.cursor_before
                and not summary.pages
            ):
                log.warning("GET %s: stored cursor expired (HTTP 410); starting a full pull", url)
                cursor = last_requested = None
                continue
            if exc.code == "pull_deadline":
                raise _pull_deadline_error(url, budget_s, summary.pages, exc) from exc
            raise PullError(str(exc), exc.message_vi, code=exc.code, http_status=exc.status) from exc
        items, nxt, resume = _page_items(doc, url)
        del doc
        summary.pages += 1
        frames.extend(_map_page(items, cursor or "start", summary, source_file, hash_key, hub_subjects, now))
        last_requested = cursor
        if nxt is None:
            break
        cursor = nxt
    summary.cursor_after = resume or last_requested
    incoming = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ROW_COLUMNS)
    summary.rows_received = len(incoming)
    incoming = incoming.drop_duplicates(subset=_dedupe_key(), keep="last")  # later page/index = latest
    summary.duplicates_dropped = summary.rows_received - len(incoming)
    summary.rows_loaded = len(incoming)
    return incoming


def _map_page(items: list[Any], sheet: str, summary: PullSummary, source_file: str, hash_key: str,
              hub_subjects: Mapping[str, str] | None, now: dt.datetime) -> list[pd.DataFrame]:  # fmt: skip
    """Map one page's objects; an invalid one is quarantined (into the summary), the others load."""
    frames: list[pd.DataFrame] = []
    for idx, obj in enumerate(items):
        summary.objects += 1
        sha = canonical_json_sha256(obj)
        try:
            if not isinstance(obj, dict):
                raise PushRejected("unrecognized_layout", "data[]", type(obj).__name__)
            rows = push_to_rows(obj, hash_key, hub_subjects=hub_subjects)
        except Exception as exc:  # a mapping bug must not stop the pull: quarantine with the detail
            if not isinstance(exc, PushRejected):
                exc = PushRejected("unknown_value", "data[]", f"{type(exc).__name__}: {str(exc)[:80]}")
            summary.objects_quarantined += 1
            summary.quarantine.append(_quarantine_row(exc, obj, source_file, sha, sheet, idx, now))
            continue
        rows["source_file"] = source_file
        rows["source_sheet"] = sheet
        rows["source_row"] = idx
        rows["file_sha256"] = sha
        rows["ingested_at"] = now
        frames.append(rows)
    return frames


def _quarantine_row(exc: PushRejected, obj: Any, source_file: str, sha: str, sheet: str, idx: int,
                    now: dt.datetime) -> dict[str, Any]:  # fmt: skip
    body = unwrap_push(obj) if isinstance(obj, dict) else {}
    body = body if isinstance(body, dict) else {}
    school = body.get("school_code")
    sy_raw = body.get("school_year_code")
    try:
        sy = _school_year(sy_raw, "school_year_code") if not _missing(sy_raw) else None
    except PushRejected:
        sy = None
    return {
        "stage": "ingest", "entity": ENTITY, "layout_id": push_layout(body),
        "school_code": None if _missing(school) else school_code_of(school), "school_year": sy,
        "source_file": source_file, "file_sha256": sha, "source_sheet": sheet, "source_row": idx,
        "column_letter": None, "header": exc.field, "canonical_column": None, "value": None,
        "reason_code": exc.code, "check_name": exc.code,
        "message": f"API {source_file}, trang '{sheet}', đối tượng {idx}: {exc.message_vi}.",
        "recorded_at": now,
    }  # fmt: skip


def _pull_record(summary: PullSummary, source_file: str, started_at: dt.datetime,
                 error: PullError | None) -> list[Any]:  # fmt: skip
    """One `api_pulls` row, in the table's column order."""
    return [
        summary.run_id, summary.base_url, source_file, summary.school_year, started_at, dt.datetime.now(),
        "failed" if error else "ok", summary.pages, summary.objects, summary.objects_quarantined,
        0 if error else summary.rows_loaded, error.code if error else None,
        error.http_status if error else None, str(error) if error else None,
        error.message_vi if error else None,
    ]  # fmt: skip


_INSERT_PULL = "INSERT INTO api_pulls VALUES (" + ", ".join(["?"] * 15) + ")"


def _record_failure(con: duckdb.DuckDBPyConnection, summary: PullSummary, source_file: str,
                    started_at: dt.datetime, error: PullError) -> None:  # fmt: skip
    """Record a failed pull; a warehouse that cannot take the record is logged, the `PullError` stands."""
    try:
        con.execute(_INSERT_PULL, _pull_record(summary, source_file, started_at, error))
    except duckdb.Error as exc:
        log.error("LMS API pull %s %s failed (%s) and could not be recorded in api_pulls: %s",
                  source_file, summary.school_year, error.code, exc)  # fmt: skip


def _store_pull(con: duckdb.DuckDBPyConnection, summary: PullSummary, incoming: pd.DataFrame,
                keycols: list[str], source_file: str, started_at: dt.datetime) -> None:  # fmt: skip
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
        con.execute("DELETE FROM api_cursors WHERE base_url = ? AND school_year = ?",
                    [summary.base_url, summary.school_year])  # fmt: skip
        con.execute(
            "INSERT INTO api_cursors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [summary.base_url, summary.school_year, summary.cursor_after, dt.datetime.now(), summary.run_id,
             summary.pages, summary.objects, summary.objects_quarantined, summary.rows_loaded],
        )  # fmt: skip
        con.execute(_INSERT_PULL, _pull_record(summary, source_file, started_at, None))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _col_type(name: str) -> str:
    return load_entities()[ENTITY].all_columns()[name]


# ---------------------------------------------------------------------------------------------
# The last pull's outcome (for the run summary and the data-quality report)
# ---------------------------------------------------------------------------------------------
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


def latest_pull_status(con: duckdb.DuckDBPyConnection, school_year: str,
                       since: dt.datetime | None = None) -> PullStatus | None:  # fmt: skip
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
