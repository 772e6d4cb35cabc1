"""The pull: every page from the stored cursor on, fetched through `connectors.http_client`, each mapped
to rows as it arrives (an invalid object quarantined, the others kept), de-duplicated on the grain, then
stored in one transaction (`connectors.http_lms.bookkeeping`); a failed pull is recorded and raised."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pandas as pd

from connectors import raw_store
from connectors.http_client import DEFAULT_MAX_BODY_BYTES, ApiError, JsonClient, RetryPolicy, seconds_vi
from connectors.http_lms.bookkeeping import (
    DEFAULT_API_KEY_ENV,
    PullError,
    PullSummary,
    _dedupe_key,
    _record_failure,
    _store_pull,
    ensure_api_tables,
    get_cursor,
    resolve_api_key,
    source_file_of,
    start_year,
)
from connectors.http_lms.push import (
    ENTITY,
    ROW_COLUMNS,
    PushRejected,
    _missing,
    _school_year,
    canonical_json_sha256,
    push_layout,
    push_to_rows,
    school_code_of,
    unwrap_push,
)
from connectors.normalize import school_year_of

log = logging.getLogger(__name__)


def _page_items(doc: Any, url: str) -> tuple[list[Any], str | None, str | None]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise PullError(
            f"GET {url}: unexpected response shape (expected an object with a 'data' list)",
            f"API {urlsplit(url).netloc} trả về dữ liệu không đúng cấu trúc (thiếu danh sách 'data'); "
            "lần lấy dữ liệu này bị hủy, dữ liệu đã có không bị thay đổi.",
            code="bad_shape",
        )
    nxt = doc.get("next_cursor")
    page_doc = doc.get("page")
    resume = page_doc.get("resume_cursor") if isinstance(page_doc, dict) else None
    return doc["data"], (None if _missing(nxt) else str(nxt)), (None if _missing(resume) else str(resume))


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
    summary = _start(con, base_url, school_year, run_id)
    source_file = source_file_of(summary.base_url)
    try:
        key = _api_key(api_key, api_key_env)  # checked even when a client is given
        cl = client or JsonClient(key, policy or RetryPolicy(), max_body_bytes=max_body_bytes)
        try:
            fetch = _Fetch(
                cl,
                source_file,
                t0 + pull_budget_s,
                pull_budget_s,
                page_size,
                max_pages,
                hash_key,
                hub_subjects,
            )
            incoming = _fetch_rows(fetch, summary)
        finally:
            if client is None:
                cl.close()
    except PullError as exc:
        summary.elapsed_s = round(time.monotonic() - t0, 3)
        _record_failure(con, summary, source_file, started_at, exc)
        raise

    _store_pull(con, summary, incoming, _dedupe_key(), source_file, started_at)
    summary.elapsed_s = round(time.monotonic() - t0, 3)
    log.info("LMS API pull %s %s: %s", source_file, summary.school_year, _counts_text(summary))
    return summary


def _start(
    con: duckdb.DuckDBPyConnection, base_url: str, school_year: str | int, run_id: str | None
) -> PullSummary:
    """The pull's summary before its first page (from the stored cursor), the tables it needs created."""
    base = base_url.rstrip("/")
    sy = school_year_of(str(school_year))
    if sy is None:
        raise ValueError(f"Not a school year: {school_year!r}")
    raw_store.ensure_schema(con)
    ensure_api_tables(con)
    return PullSummary(run_id or uuid.uuid4().hex[:12], base, sy, get_cursor(con, base, sy))


def _counts_text(summary: PullSummary) -> str:
    """The pull's counts for its log line."""
    return (
        f"{summary.pages} page(s), {summary.objects} object(s), {summary.objects_quarantined} quarantined, "
        f"{summary.rows_loaded} row(s) loaded, {summary.rows_replaced} replaced"
    )


@dataclass(frozen=True)
class _Fetch:
    """How one pull fetches its pages: the client, the endpoint's provenance name, the pull's deadline (a
    `time.monotonic()` value) and budget, its page limits, and what mapping a push object needs."""

    client: JsonClient
    source_file: str
    deadline: float
    budget_s: float
    page_size: int
    max_pages: int
    hash_key: str
    hub_subjects: Mapping[str, str] | None


def _api_key(api_key: Any, api_key_env: str) -> str:
    """`resolve_api_key`, its failure as the pull's `no_api_key` error."""
    try:
        return resolve_api_key(api_key, api_key_env)
    except ValueError as exc:
        raise PullError(
            str(exc),
            f"Chưa cấu hình khóa API LMS ({api_key_env}); không lấy dữ liệu từ API.",
            code="no_api_key",
        ) from exc


def _fetch_rows(fetch: _Fetch, summary: PullSummary) -> pd.DataFrame:
    """Fetch every page from the stored cursor on, mapping each as it arrives (its JSON is then
    dropped); the rows, de-duplicated on the grain. Fills the summary's counts and `cursor_after`."""
    url = f"{summary.base_url}/v1/metrics"
    cursor, last_requested, resume = summary.cursor_before, summary.cursor_before, None
    seen: set[str | None] = set()
    frames: list[pd.DataFrame] = []
    now = dt.datetime.now()
    while True:
        _may_fetch(fetch, summary, url, cursor, seen)
        seen.add(cursor)
        params = {
            "school_year": start_year(summary.school_year),
            "cursor": cursor,
            "page_size": fetch.page_size,
        }
        try:
            doc = fetch.client.get_json(url, params, deadline=fetch.deadline)
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
                raise _pull_deadline_error(url, fetch.budget_s, summary.pages, exc) from exc
            raise PullError(str(exc), exc.message_vi, code=exc.code, http_status=exc.status) from exc
        items, nxt, resume = _page_items(doc, url)
        del doc
        summary.pages += 1
        frames.extend(
            _map_page(
                items, cursor or "start", summary, fetch.source_file, fetch.hash_key, fetch.hub_subjects, now
            )
        )
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


def _may_fetch(
    fetch: _Fetch, summary: PullSummary, url: str, cursor: str | None, seen: set[str | None]
) -> None:
    """Raise the `PullError` that stops the pull before it asks for `cursor`: a cursor already fetched
    (a loop), too many pages, or the pull's deadline passed."""
    host = urlsplit(url).netloc
    if cursor in seen:
        raise PullError(
            f"GET {url}: next_cursor {cursor!r} was already fetched in this pull (cursor loop)",
            f"API {host} trả về vị trí trang lặp lại; lần lấy dữ liệu này bị hủy, "
            "dữ liệu đã có không bị thay đổi.",
            code="cursor_loop",
        )
    if summary.pages >= fetch.max_pages:
        raise PullError(
            f"GET {url}: more than {fetch.max_pages} pages in one pull",
            f"API {host} trả về quá {fetch.max_pages} trang; lần lấy dữ liệu "
            "này bị hủy, dữ liệu đã có không bị thay đổi.",
            code="too_many_pages",
        )
    if time.monotonic() >= fetch.deadline:
        raise _pull_deadline_error(url, fetch.budget_s, summary.pages)


def _map_page(
    items: list[Any],
    sheet: str,
    summary: PullSummary,
    source_file: str,
    hash_key: str,
    hub_subjects: Mapping[str, str] | None,
    now: dt.datetime,
) -> list[pd.DataFrame]:
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


def _quarantine_row(
    exc: PushRejected, obj: Any, source_file: str, sha: str, sheet: str, idx: int, now: dt.datetime
) -> dict[str, Any]:
    body = unwrap_push(obj) if isinstance(obj, dict) else {}
    body = body if isinstance(body, dict) else {}
    school = body.get("school_code")
    sy_raw = body.get("school_year_code")
    try:
        sy = _school_year(sy_raw, "school_year_code") if not _missing(sy_raw) else None
    except PushRejected:
        sy = None
    return {
        "stage": "ingest",
        "entity": ENTITY,
        "layout_id": push_layout(body),
        "school_code": None if _missing(school) else school_code_of(school),
        "school_year": sy,
        "source_file": source_file,
        "file_sha256": sha,
        "source_sheet": sheet,
        "source_row": idx,
        "column_letter": None,
        "header": exc.field,
        "canonical_column": None,
        "value": None,
        "reason_code": exc.code,
        "check_name": exc.code,
        "message": f"API {source_file}, trang '{sheet}', đối tượng {idx}: {exc.message_vi}.",
        "recorded_at": now,
    }
