"""A small resilient JSON-over-HTTP client for platform APIs: timeouts, bounded retries with
exponential backoff and jitter, `Retry-After`, a total time budget, and errors that say what happened
in English (logs) and in Vietnamese (run report).

What belongs here: transport concerns only (how to GET one JSON document reliably). What a document
means, paging, cursors and storage belong to the connector that uses it (e.g. `connectors.http_lms`).

Retried (up to `RetryPolicy.max_attempts` attempts, inside `RetryPolicy.total_budget_s`):
  - HTTP 5xx, and 429 (waiting `Retry-After` seconds or until its HTTP date when given);
  - connection errors and resets, connect/read timeouts, bodies cut short;
  - a 200 whose body is not valid JSON (malformed or truncated).
Not retried: other 4xx (bad key, wrong URL, bad parameter) — retrying cannot fix them.

The API key travels only in a request header; it never appears in a URL, a log line or an error.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: timeouts, attempts, backoff and the total time budget of one request."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_base_s: float = 0.5  # first wait; doubles each attempt
    backoff_max_s: float = 30.0  # cap of one computed wait (before jitter)
    max_retry_after_s: float = 120.0  # a longer Retry-After is treated as "give up now"
    total_budget_s: float = 120.0  # wall time for all attempts of one request, waits included

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Wait before attempt `attempt + 1` (attempt ≥ 1): 'equal jitter' exponential backoff."""
        d = min(self.backoff_max_s, self.backoff_base_s * (2 ** (attempt - 1)))
        return d / 2 + rng.uniform(0, d / 2)


class ApiError(Exception):
    """A request that failed for good. `str()` is the English log line; `message_vi` is for the report."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, attempts: int = 0,
                 elapsed_s: float = 0.0, retryable: bool = True) -> None:  # fmt: skip
        self.url = url
        self.reason = reason
        self.status = status
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        self.retryable = retryable
        status_txt = f"HTTP {status}" if status is not None else "no HTTP status"
        super().__init__(
            f"GET {url} failed after {attempts} attempt(s) in {elapsed_s:.1f}s: {reason} ({status_txt})"
        )

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url

    @property
    def message_vi(self) -> str:
        """One Vietnamese sentence for the run report (no key, no personal data)."""
        if self.status in (401, 403):
            why = f"máy chủ từ chối khóa API (HTTP {self.status}); kiểm tra cấu hình CDS_API_KEY"
        elif self.status == 429:
            why = "máy chủ báo quá nhiều yêu cầu (HTTP 429)"
        elif self.status is not None and self.status >= 500:
            why = f"máy chủ gặp lỗi (HTTP {self.status})"
        elif self.status is not None:
            why = f"yêu cầu bị từ chối (HTTP {self.status})"
        else:
            why = "không kết nối được, hết thời gian chờ hoặc dữ liệu trả về bị lỗi"
        return (
            f"Không lấy được dữ liệu từ API {self.host} sau {self.attempts} lần thử "
            f"({self.elapsed_s:.0f} giây): {why}. Dữ liệu đã có không bị thay đổi."
        )


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP date; None when absent or unparseable."""
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def safe_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """The URL as it may be logged: query parameters shown (they never carry the key)."""
    if not params:
        return url
    shown = {k: v for k, v in params.items() if v is not None}
    return f"{url}?{urlencode(shown)}" if shown else url


@dataclass
class JsonClient:
    """GET JSON documents from one API with the given policy. Reuse one per pull (keeps connections)."""

    api_key: str = field(repr=False)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    key_header: str = "X-API-Key"
    rng: random.Random = field(default_factory=random.Random, repr=False)
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.session.headers.update({"Accept": "application/json", "User-Agent": "cds-assessment/0.1"})

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, url: str, params: Mapping[str, Any] | None = None,
                 deadline: float | None = None) -> Any:  # fmt: skip
        """GET `url` and return its decoded JSON body, retrying transient faults; raise `ApiError`.

        `deadline` (a `time.monotonic()` value) further limits the budget, e.g. for a multi-page pull.
        """
        pol = self.policy
        shown = safe_url(url, params)
        start = time.monotonic()
        stop_at = start + pol.total_budget_s
        if deadline is not None:
            stop_at = min(stop_at, deadline)
        attempt = 0
        status: int | None = None
        reason = "time budget exhausted before the first attempt"
        while attempt < pol.max_attempts:
            remaining = stop_at - time.monotonic()
            if remaining <= 0:
                break
            attempt += 1
            wait: float | None = None
            try:
                resp = self.session.get(
                    url,
                    params={k: v for k, v in (params or {}).items() if v is not None},
                    headers={self.key_header: self.api_key},
                    timeout=(min(pol.connect_timeout_s, remaining), min(pol.read_timeout_s, remaining)),
                )
                status = resp.status_code
                if status in RETRYABLE_STATUS:
                    reason = f"server answered HTTP {status}"
                    if status == 429 or "Retry-After" in resp.headers:
                        wait = parse_retry_after(resp.headers.get("Retry-After"))
                        if wait is not None and wait > pol.max_retry_after_s:
                            reason += (
                                f" with Retry-After {wait:.0f}s (over the {pol.max_retry_after_s:.0f}s cap)"
                            )
                            break
                    resp.close()
                elif status >= 400:
                    resp.close()
                    raise ApiError(shown, f"server answered HTTP {status}", status=status, attempts=attempt,
                                   elapsed_s=time.monotonic() - start, retryable=False)  # fmt: skip
                else:
                    try:
                        return json.loads(resp.content)  # reading the body may itself fail (cut short)
                    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                        reason = f"malformed or truncated JSON ({type(exc).__name__}: {str(exc)[:80]})"
            except requests.Timeout as exc:
                status = None
                reason = f"timeout ({type(exc).__name__})"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:  # fmt: skip
                status = None
                reason = f"connection failed or reset ({type(exc).__name__})"
            if attempt >= pol.max_attempts:
                break
            delay = wait if wait is not None else pol.backoff(attempt, self.rng)
            if time.monotonic() + delay >= stop_at:
                reason += f"; next wait {delay:.1f}s would exceed the time budget"
                break
            log.warning("GET %s: %s; attempt %d/%d, retrying in %.2fs", shown, reason, attempt,
                        pol.max_attempts, delay)  # fmt: skip
            time.sleep(delay)
        raise ApiError(shown, reason, status=status, attempts=attempt, elapsed_s=time.monotonic() - start)
