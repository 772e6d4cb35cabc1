"""A small resilient JSON-over-HTTP client for platform APIs: timeouts, bounded retries with
exponential backoff and jitter, `Retry-After`, hard limits (origin, body size, wall-clock deadline),
and errors that say what happened in English (logs) and in Vietnamese (run report), with a stable
`code` for bookkeeping.

What belongs here: transport concerns only (how to GET one JSON document reliably and safely). What a
document means, paging, cursors and storage belong to the connector that uses it (e.g.
`connectors.http_lms`).

Retried (up to `RetryPolicy.max_attempts` attempts, inside the request's deadline):
  - HTTP 5xx, and 429 (waiting `Retry-After` seconds or until its HTTP date when given);
  - connection errors and resets, connect/read timeouts, bodies cut short;
  - a 200 whose body is not valid JSON (malformed or truncated).
Not retried: other 4xx (bad key, wrong URL, bad parameter) and 3xx that are not redirects — retrying
cannot fix them — and the limits below.

Limits (each failure is an `ApiError` with its `code`):
  - Origin (`redirect_refused`, `too_many_redirects`): redirects are never followed by `requests`; a
    redirect to the same origin (scheme, host and port) is followed here, up to `MAX_REDIRECTS` hops; a
    redirect to any other origin (another host or port, or http↔https) is refused, so the API key never
    leaves the configured server.
  - Body size (`body_too_large`): the body is streamed and counted as it arrives (after content
    decoding, so a compressed bomb counts what it expands to); an announced `Content-Length` over
    `JsonClient.max_body_bytes`, or a running count passing it, stops reading and closes the connection.
    Memory stays bounded by the limit plus one chunk.
  - Wall-clock deadline (`request_deadline`, `pull_deadline`): every attempt of one request runs
    under `RetryPolicy.total_budget_s` (and the caller's `deadline`, e.g. a whole pull). A timer thread
    shuts the request's socket down when the deadline passes, so a server that drips bytes of its
    headers or body (each socket read well inside the read timeout) cannot hold the caller: the blocked
    read returns at once and the request fails. The sockets are found through a connection class of our
    own mounted on the session (`connectors.http_deadline`); only plain HTTP(S) connections and HTTP
    proxies are guarded (SOCKS proxies keep the per-read timeouts only). The TCP connect is bounded by
    the connect timeout, the TLS handshake as a whole by Python's `ssl` (its socket timeout is the
    handshake's total duration), both capped at the time left before the deadline.

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
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from connectors.http_deadline import Deadline, GuardedAdapter, timed_out_at_deadline

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429}) | frozenset(range(500, 600))
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024  # a page of 100 push objects of 500 users is ~50 MB at most
MAX_REDIRECTS = 5
READ_CHUNK_BYTES = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: timeouts, attempts, backoff and the wall-clock deadline of one request."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0  # one socket read; the deadline below bounds the whole request
    max_attempts: int = 5
    backoff_base_s: float = 0.5  # first wait; doubles each attempt
    backoff_max_s: float = 30.0  # cap of one computed wait (before jitter)
    max_retry_after_s: float = 120.0  # a longer Retry-After is treated as "give up now"
    total_budget_s: float = 120.0  # the request's deadline: all attempts, waits and reads included

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Wait before attempt `attempt + 1` (attempt ≥ 1): 'equal jitter' exponential backoff."""
        d = min(self.backoff_max_s, self.backoff_base_s * (2 ** (attempt - 1)))
        return d / 2 + rng.uniform(0, d / 2)


def _size_vi(n: float) -> str:
    return f"{round(n / 2**20, 1):g}".replace(".", ",") + " MB" if n >= 2**20 else f"{n:.0f} byte"


def seconds_vi(s: float) -> str:
    """Seconds as Vietnamese writes them: `90 giây`, `1,5 giây`."""
    return f"{s:g}".replace(".", ",") + " giây"


class ApiError(Exception):
    """A request that failed for good. `str()` is the English log line; `message_vi` is for the report;
    `code` is stable for bookkeeping (see `ApiError.CODES`)."""

    CODES = frozenset(
        {
            "auth_refused",
            "rate_limited",
            "server_error",
            "http_error",
            "timeout",
            "connection_failed",
            "bad_json",
            "redirect_refused",
            "too_many_redirects",
            "body_too_large",
            "request_deadline",
            "pull_deadline",
        }
    )

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        attempts: int = 0,
        elapsed_s: float = 0.0,
        retryable: bool = True,
        code: str | None = None,
        limit: float | None = None,
        target: str = "",
    ) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        self.retryable = retryable
        self.code = code or _code_of_status(status)
        self.limit = limit  # bytes (body_too_large) or seconds (request_deadline)
        self.target = target  # the refused origin (redirect_refused)
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
        return (
            f"Không lấy được dữ liệu từ API {self.host} sau {self.attempts} lần thử "
            f"({self.elapsed_s:.0f} giây): {self.why_vi}. Dữ liệu đã có không bị thay đổi."
        )

    @property
    def why_vi(self) -> str:
        """The cause, in Vietnamese, without the sentence around it."""
        s, code = self.status, self.code
        if code == "auth_refused":
            return f"máy chủ từ chối khóa API (HTTP {s}); kiểm tra cấu hình CDS_API_KEY"
        if code == "rate_limited":
            return "máy chủ báo quá nhiều yêu cầu (HTTP 429)"
        if code == "server_error":
            return f"máy chủ gặp lỗi (HTTP {s})"
        if code == "http_error":
            return f"yêu cầu bị từ chối (HTTP {s})"
        if code == "redirect_refused":
            return (
                f"máy chủ chuyển hướng sang một địa chỉ khác ({self.target}); hệ thống không đi theo để "
                "không gửi khóa API ra ngoài. Nếu API đã đổi địa chỉ, hãy sửa CDS_API_BASE_URL"
            )
        if code == "too_many_redirects":
            return f"máy chủ chuyển hướng quá {MAX_REDIRECTS} lần liên tiếp"
        if code == "body_too_large":
            lim = f" {_size_vi(self.limit)}" if self.limit is not None else ""
            return (
                f"dữ liệu trả về vượt giới hạn{lim} (CDS_API_MAX_BODY_BYTES); hệ thống đã dừng đọc để "
                "không tràn bộ nhớ"
            )
        if code == "request_deadline":
            lim = f" {seconds_vi(self.limit)}" if self.limit is not None else ""
            return (
                f"một yêu cầu vượt quá thời hạn{lim} (CDS_API_REQUEST_DEADLINE_SECONDS); máy chủ trả "
                "lời quá chậm nên hệ thống đã ngắt kết nối"
            )
        if code == "pull_deadline":
            return (
                "lần lấy dữ liệu vượt quá tổng thời hạn (CDS_API_PULL_DEADLINE_SECONDS); máy chủ trả lời "
                "quá chậm nên hệ thống đã ngắt kết nối"
            )
        if code == "timeout":
            return "máy chủ không trả lời trong thời gian chờ"
        if code == "bad_json":
            return "dữ liệu trả về không phải JSON hợp lệ (bị lỗi hoặc bị cắt cụt)"
        return "không kết nối được tới máy chủ hoặc kết nối bị ngắt giữa chừng"


def _code_of_status(status: int | None) -> str:
    if status in (401, 403):
        return "auth_refused"
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "server_error"
    if status is not None:
        return "http_error"
    return "connection_failed"


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


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in: what a redirect may not change."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: an origin of its own
        port = -1
    return scheme, (parts.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)


def origin_text(url: str) -> str:
    """`scheme://host:port` of a URL, for messages (no path or query: they may carry tokens)."""
    scheme, host, port = origin_of(url)
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------
class _Stop(Exception):
    """Inside one attempt: a failure that no retry can fix (refused redirect, body over the limit)."""

    def __init__(
        self, code: str, reason: str, status: int | None, *, limit: float | None = None, target: str = ""
    ) -> None:
        super().__init__(reason)
        self.code, self.reason, self.status, self.limit, self.target = code, reason, status, limit, target


@dataclass
class _Attempts:
    """One `get_json` request across its attempts: its deadline and what the last attempt met."""

    shown: str  # the URL as logs and errors show it (no key)
    start: float
    budget_s: float
    attempt: int = 0
    status: int | None = None
    code: str = ""
    reason: str = "deadline reached before the first attempt"
    deadline_code: str = "request_deadline"  # `pull_deadline` when the caller's deadline comes first
    deadline_limit: float | None = field(default=None)
    stop_at: float = 0.0

    def __post_init__(self) -> None:
        self.stop_at, self.deadline_limit = self.start + self.budget_s, self.budget_s

    def error(self, **kw: Any) -> ApiError:
        return ApiError(
            self.shown,
            self.reason,
            status=self.status,
            attempts=self.attempt,
            elapsed_s=time.monotonic() - self.start,
            code=self.code,
            limit=self.deadline_limit if self.code == self.deadline_code else None,
            **kw,
        )


@dataclass
class _Outcome:
    """One attempt's end: `done` with the JSON `value`, or a retry (after `wait` when the server asked),
    or `stop` (no further attempt)."""

    done: bool = False
    value: Any = None
    stop: bool = False
    wait: float | None = None


@dataclass
class JsonClient:
    """GET JSON documents from one API with the given policy and limits. Reuse one per pull (keeps
    connections). The session gets our guarded adapters mounted for http:// and https://."""

    api_key: str = field(repr=False)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    key_header: str = "X-API-Key"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_redirects: int = MAX_REDIRECTS
    rng: random.Random = field(default_factory=random.Random, repr=False)
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.session.headers.update({"Accept": "application/json", "User-Agent": "cds-assessment/0.1"})
        self.session.mount("http://", GuardedAdapter())
        self.session.mount("https://", GuardedAdapter())

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(
        self, url: str, params: Mapping[str, Any] | None = None, deadline: float | None = None
    ) -> Any:
        """GET `url` and return its decoded JSON body, retrying transient faults; raise `ApiError`.

        `deadline` (a `time.monotonic()` value) further limits the request's own deadline, e.g. for a
        multi-page pull; whichever comes first is enforced while reading (code `pull_deadline` when it
        is the caller's, `request_deadline` otherwise).
        """
        pol = self.policy
        t = _Attempts(safe_url(url, params), time.monotonic(), pol.total_budget_s)
        if deadline is not None and deadline < t.stop_at:
            t.stop_at, t.deadline_code, t.deadline_limit = deadline, "pull_deadline", None
        t.code = t.deadline_code
        while t.attempt < pol.max_attempts:
            remaining = t.stop_at - time.monotonic()
            if remaining <= 0:
                if t.attempt:
                    t.reason += "; deadline reached"
                break
            t.attempt += 1
            got = self._attempt(url, params, remaining, t)
            if got.done:
                return got.value
            if got.stop or t.attempt >= pol.max_attempts:
                break
            delay = got.wait if got.wait is not None else pol.backoff(t.attempt, self.rng)
            if time.monotonic() + delay >= t.stop_at:
                t.reason += f"; next wait {delay:.1f}s would pass the deadline"
                break
            log.warning(
                "GET %s: %s; attempt %d/%d, retrying in %.2fs",
                t.shown,
                t.reason,
                t.attempt,
                pol.max_attempts,
                delay,
            )
            time.sleep(delay)
        raise t.error()

    def _attempt(
        self, url: str, params: Mapping[str, Any] | None, remaining: float, t: _Attempts
    ) -> _Outcome:
        """One attempt of `get_json` under the deadline's watchdog; what went wrong is left in `t`."""
        watchdog = Deadline(t.stop_at)
        try:
            with watchdog:
                resp = self._send(url, params, remaining, t.shown)
                try:
                    return self._answer(resp, t)
                finally:
                    resp.close()
        except _Stop as stop:
            t.reason, t.code, t.status = stop.reason, stop.code, stop.status
            raise ApiError(
                t.shown,
                t.reason,
                status=t.status,
                attempts=t.attempt,
                retryable=False,
                code=t.code,
                elapsed_s=time.monotonic() - t.start,
                limit=stop.limit,
                target=stop.target,
            ) from None
        except (requests.RequestException, OSError) as exc:  # OSError: a socket shut down mid-read
            t.status = None
            if watchdog.fired or timed_out_at_deadline(
                exc, remaining, self.policy.connect_timeout_s, self.policy.read_timeout_s
            ):
                t.reason = (
                    f"wall-clock deadline reached while waiting for or reading the response "
                    f"({type(exc).__name__}); connection closed"
                )
                t.code = t.deadline_code
                return _Outcome(stop=True)
            if isinstance(exc, requests.Timeout):
                t.reason, t.code = f"timeout ({type(exc).__name__})", "timeout"
            else:
                t.reason, t.code = f"connection failed or reset ({type(exc).__name__})", "connection_failed"
            return _Outcome()

    def _answer(self, resp: requests.Response, t: _Attempts) -> _Outcome:
        """What one response means: its JSON, a retry (after the server's Retry-After when it gives one),
        the end of the retries (a Retry-After over the cap) or an `ApiError` (4xx, an unusable 3xx)."""
        pol = self.policy
        status = t.status = resp.status_code
        if status in RETRYABLE_STATUS:
            t.reason, t.code = f"server answered HTTP {status}", _code_of_status(status)
            wait = None
            if status == 429 or "Retry-After" in resp.headers:
                wait = parse_retry_after(resp.headers.get("Retry-After"))
                if wait is not None and wait > pol.max_retry_after_s:
                    t.reason += f" with Retry-After {wait:.0f}s (over the {pol.max_retry_after_s:.0f}s cap)"
                    return _Outcome(stop=True)
            return _Outcome(wait=wait)
        if status >= 300:  # 4xx, or a 3xx that is not a usable redirect
            t.reason, t.code = f"server answered HTTP {status}", _code_of_status(status)
            raise t.error(retryable=False)
        body = self._read_body(resp)
        try:
            return _Outcome(done=True, value=json.loads(body))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            t.reason, t.code = (
                f"malformed or truncated JSON ({type(exc).__name__}: {str(exc)[:80]})",
                "bad_json",
            )
            return _Outcome()

    def _send(
        self, url: str, params: Mapping[str, Any] | None, remaining: float, shown: str
    ) -> requests.Response:
        """One GET with the key, following redirects only within the origin of `url`; the response is
        streamed (its body not read yet)."""
        pol = self.policy
        origin = origin_of(url)
        target: str = url
        query: dict[str, Any] | None = {k: v for k, v in (params or {}).items() if v is not None}
        timeout = (min(pol.connect_timeout_s, remaining), min(pol.read_timeout_s, remaining))
        for _hop in range(self.max_redirects + 1):
            resp = self.session.get(
                target,
                params=query,
                headers={self.key_header: self.api_key},
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
            if not resp.is_redirect:
                return resp
            status = resp.status_code
            nxt = urljoin(resp.url, resp.headers["Location"])
            resp.close()
            if origin_of(nxt) != origin:
                raise _Stop(
                    "redirect_refused",
                    f"HTTP {status} redirect to another origin ({origin_text(nxt)}) "
                    "refused; the API key is not sent there",
                    status,
                    target=origin_text(nxt),
                )
            log.info("GET %s: HTTP %d redirect within %s followed", shown, status, origin_text(url))
            target, query = nxt, None
        raise _Stop("too_many_redirects", f"more than {self.max_redirects} redirects", None)

    def _read_body(self, resp: requests.Response) -> bytearray:
        """The body, streamed with a running count; `_Stop` as soon as it passes `max_body_bytes`."""
        limit = self.max_body_bytes
        announced = (resp.headers.get("Content-Length") or "").strip()
        if announced.isdigit() and int(announced) > limit:
            raise _Stop(
                "body_too_large",
                f"response body of {int(announced)} bytes announced, over the {limit}-byte limit; not read",
                resp.status_code,
                limit=limit,
            )
        body = bytearray()
        for chunk in resp.iter_content(READ_CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                raise _Stop(
                    "body_too_large",
                    f"response body over the {limit}-byte limit; stopped after {len(body)} bytes",
                    resp.status_code,
                    limit=limit,
                )
        return body
