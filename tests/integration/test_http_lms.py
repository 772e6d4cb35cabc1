"""The LMS metrics API connector against a real HTTP server on 127.0.0.1 (stdlib ThreadingHTTPServer,
started per test): paging, incremental cursor, transient faults, de-duplication, atomic failure.

No mocks of `requests`: each fault is produced on the wire (status codes, slow bodies, reset sockets,
truncated bodies). Waits are kept small through the retry policy.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from connectors.http_client import RetryPolicy
from connectors.http_lms import (
    PullError,
    canonical_json_sha256,
    get_cursor,
    latest_pull_status,
    pull_lms_metrics,
)

pytestmark = pytest.mark.integration

KEY = "test-key-s3cr3t-value"
FAST = RetryPolicy(
    connect_timeout_s=1.0,
    read_timeout_s=2.0,
    max_attempts=4,
    backoff_base_s=0.02,
    backoff_max_s=0.1,
    max_retry_after_s=5.0,
    total_budget_s=8.0,
)


# ---------------------------------------------------------------------------------------------
# A scriptable API server
# ---------------------------------------------------------------------------------------------
@dataclass
class Reply:
    """One answer: JSON (dict/list) or raw bytes body, optionally slow, cut short, or a reset socket."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    reset: bool = False  # close the socket with RST instead of answering
    short_by: int = 0  # announce Content-Length larger than the body sent, then close


class FakeApi:
    """Holds the script (one-off replies served first) and the normal handler; records requests."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.handler: Callable[[dict[str, str]], Reply] = lambda q: Reply(404, {"error": "no handler"})
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def reply_for(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Reply:
        with self.lock:
            self.requests.append({"path": path, "query": query, "headers": headers})
            if headers.get("X-API-Key") != KEY:
                return Reply(401, {"error": "bad key"})
            if path != "/v1/metrics":
                return Reply(404, {"error": "not found"})
            if self.script:
                return self.script.pop(0)
        return self.handler(query)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        api: FakeApi = self.server.api  # type: ignore[attr-defined]
        r = api.reply_for(parts.path, query, dict(self.headers.items()))
        if r.delay_s:
            time.sleep(r.delay_s)
        if r.reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        body = r.body if isinstance(r.body, bytes) else json.dumps(r.body).encode("utf-8")
        self.send_response(r.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) + r.short_by))
        for k, v in r.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        if r.short_by:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the client may have gone (timeout, reset)
            super().finish()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # client gone (timeouts, resets)
        pass


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeApi, str]]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeApi()
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.api = fake  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield fake, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(":memory:")
    yield c
    c.close()


# ---------------------------------------------------------------------------------------------
# Push objects and a change-log API over them
# ---------------------------------------------------------------------------------------------
def users_push(
    day: int,
    school: str = "08000123",
    pins: tuple[str, ...] = ("CB00001234",),
    value: float = 1,
    envelope: bool = False,
) -> dict[str, Any]:
    body = {
        "provdoet_code": "08",
        "school_code": school,
        "school_level": "03",
        "school_year_code": 2024,
        "semester_code": 1,
        "measured_at": f"2025-01-{day:02d}T23:00:00+07:00",
        "users": [
            {
                "user_pin": p,
                "metrics": [
                    {
                        "key": "total_lessons",
                        "value": value,
                        "subject_code": "TOAN",
                        "grade_code": "06",
                        "dim_value": "video",
                    },
                    {"key": "live_sessions", "value": value + 1},
                ],
            }
            for p in pins
        ],
    }
    return {"error_code": 0, "data": body, "message": ""} if envelope else body


def schools_push(day: int) -> dict[str, Any]:
    return {
        "provdoet_code": "08",
        "school_year_code": 2024,
        "semester_code": 1,
        "measured_at": f"2025-01-{day:02d}T23:00:00+07:00",
        "schools": [
            {
                "school_code": "08000123",
                "school_level": "03",
                "has_lms": True,
                "shared_to_hub": 3,
                "metrics": [{"key": "total_shared_to_hub", "value": 3}],
            }
        ],
    }


def rows_per(obj: dict[str, Any]) -> int:
    body = obj.get("data", obj) if "error_code" in obj else obj
    return sum(len(u["metrics"]) for u in body.get("users", body.get("schools", [])))


class ChangeLog:
    """Cursor `seq:<n>` = position in an append-only log; the last page carries `resume_cursor`."""

    def __init__(self, items: list[Any]) -> None:
        self.items = list(items)

    def __call__(self, q: dict[str, str]) -> Reply:
        start = int(q["cursor"].split(":")[1]) if "cursor" in q else 0
        size = int(q.get("page_size", "2"))
        chunk = self.items[start : start + size]
        end = start + len(chunk)
        nxt = f"seq:{end}" if end < len(self.items) else None
        page = {"cursor": q.get("cursor"), "size": len(chunk)}
        if nxt is None:
            page["resume_cursor"] = f"seq:{end}"
        return Reply(200, {"data": chunk, "next_cursor": nxt, "page": page})


def n_rows(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM raw_lms_activity").fetchall()[0][0]


def n_distinct_keys(con: duckdb.DuckDBPyConnection) -> int:
    sql = (
        "SELECT count(*) FROM (SELECT DISTINCT school_code, school_year, user_pin, metric, period_start, "
        "period_end, subject_code, grade, dim_value, measured_at FROM raw_lms_activity)"
    )
    return con.execute(sql).fetchall()[0][0]


def pull(con: duckdb.DuckDBPyConnection, base: str, **kw: Any) -> Any:
    kw.setdefault("policy", FAST)
    kw.setdefault("page_size", 2)
    return pull_lms_metrics(con, base, "2024-2025", api_key=KEY, **kw)


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------
def test_happy_path_pages_provenance_and_quarantine(
    api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection
) -> None:
    fake, base = api
    bad = users_push(9)
    del bad["users"][0]["user_pin"]
    items = [
        users_push(10, envelope=True),
        users_push(11, pins=("CB00001234", "0812345678")),
        schools_push(11),
        bad,
        users_push(12, pins=("PH00000001",)),
    ]
    fake.handler = ChangeLog(items)

    s = pull(con, base)

    assert (s.pages, s.objects, s.objects_quarantined) == (3, 5, 1)
    expected = sum(rows_per(o) for i, o in enumerate(items) if i != 3)
    assert s.rows_loaded == expected == n_rows(con)
    assert [r["query"].get("cursor") for r in fake.requests] == [None, "seq:2", "seq:4"]
    assert all(r["query"]["school_year"] == "2024" and r["query"]["page_size"] == "2" for r in fake.requests)
    host = base.removeprefix("http://")
    df = con.execute(
        "SELECT * FROM raw_lms_activity ORDER BY source_sheet, source_row, user_pin, metric"
    ).df()
    assert set(df["source_file"]) == {f"api:{host}/v1/metrics"}
    assert set(df["source_sheet"]) == {"start", "seq:2", "seq:4"}
    assert set(df["source_system"]) == {"lms:hub"}
    assert set(df["layout_id"]) == {"dti.push_users.v1", "dti.push_schools.v1"}
    assert set(df["school_year"]) == {"2024-2025"}
    first = df[(df["source_sheet"] == "start") & (df["source_row"] == 0)]
    assert set(first["file_sha256"]) == {canonical_json_sha256(items[0])}
    assert set(first["metric"]) == {"lessons_assigned", "live_sessions"}
    roles = dict(zip(df["user_pin"].fillna("-"), df["role"], strict=False))
    assert roles == {"CB00001234": "teacher", "0812345678": "student", "PH00000001": "parent", "-": "school"}
    school = df[df["role"] == "school"].iloc[0]
    assert school["metric"] == "resources_shared" and school["layout_id"] == "dti.push_schools.v1"
    assert str(first["period_start"].iloc[0])[:10] == "2025-01-10"
    assert str(first["measured_at"].iloc[0]) == "2025-01-10 23:00:00"
    q = con.execute("SELECT * FROM dq_quarantine_rows").df()
    assert len(q) == 1
    assert q.loc[0, "reason_code"] == "missing_required_column"
    assert q.loc[0, "source_sheet"] == "seq:2" and q.loc[0, "source_row"] == 1
    assert q.loc[0, "header"] == "users[0].user_pin"
    assert "thiếu trường bắt buộc" in q.loc[0, "message"]
    assert get_cursor(con, base, "2024-2025") == "seq:5"


def test_incremental_second_pull_gets_only_new(
    api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection
) -> None:
    fake, base = api
    log = ChangeLog([users_push(d) for d in range(1, 6)])
    fake.handler = log
    first = pull(con, base)
    assert first.objects == 5 and get_cursor(con, base, "2024-2025") == "seq:5"
    before = n_rows(con)

    log.items += [users_push(20), users_push(21)]
    fake.requests.clear()
    second = pull(con, base)

    assert fake.requests[0]["query"]["cursor"] == "seq:5"
    assert (second.objects, second.pages, second.cursor_before, second.cursor_after) == (
        2,
        1,
        "seq:5",
        "seq:7",
    )
    assert n_rows(con) == before + 2 * rows_per(users_push(20))

    fake.requests.clear()
    third = pull(con, base)  # nothing new: one request, nothing written, cursor stays
    assert (third.objects, third.rows_loaded, len(fake.requests)) == (0, 0, 1)
    assert get_cursor(con, base, "2024-2025") == "seq:7"


def test_500_then_success(api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection) -> None:
    fake, base = api
    fake.handler = ChangeLog([users_push(1), users_push(2), users_push(3)])
    fake.script = [Reply(500, {"error": "boom"}), Reply(502, b"<html>bad gateway</html>")]
    s = pull(con, base)
    assert len(fake.requests) == 2 + 2  # two failures, then two pages
    assert s.objects == 3 and n_rows(con) == 3 * rows_per(users_push(1))


def test_429_honours_retry_after(api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection) -> None:
    fake, base = api
    fake.handler = ChangeLog([users_push(1)])
    fake.script = [Reply(429, {"error": "slow down"}, headers={"Retry-After": "1"})]
    t0 = time.monotonic()
    s = pull(con, base)
    assert time.monotonic() - t0 >= 0.95  # waited Retry-After, not the 0.02 s backoff
    assert s.objects == 1 and len(fake.requests) == 2


def test_read_timeout_then_success(api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection) -> None:
    fake, base = api
    fake.handler = ChangeLog([users_push(1)])
    fake.script = [Reply(200, {"data": [], "next_cursor": None}, delay_s=1.0)]
    policy = RetryPolicy(
        connect_timeout_s=1.0, read_timeout_s=0.3, max_attempts=3, backoff_base_s=0.02, total_budget_s=5.0
    )
    t0 = time.monotonic()
    s = pull(con, base, policy=policy)
    assert time.monotonic() - t0 < 1.0  # gave up on the slow answer at the read timeout
    assert s.objects == 1 and len(fake.requests) == 2


@pytest.mark.parametrize(
    "fault",
    [
        Reply(reset=True),
        Reply(200, b'{"data": [{"school_code": "0800'),
        Reply(200, {"data": []}, short_by=50),
    ],
    ids=["connection_reset", "truncated_json", "body_cut_short"],
)
def test_transient_fault_then_success(
    fault: Reply, api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection
) -> None:
    fake, base = api
    fake.handler = ChangeLog([users_push(1), users_push(2)])
    fake.script = [fault]
    s = pull(con, base)
    assert s.objects == 2 and len(fake.requests) == 2
    assert n_rows(con) == 2 * rows_per(users_push(1))


def test_repeated_and_shrinking_pages_give_no_duplicates(
    api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection
) -> None:
    fake, base = api
    a, b, c, d = users_push(1), users_push(2), users_push(3), users_push(4)
    # pull 1: page 2 repeats page 1 under another cursor, page 3 overlaps; no resume cursor given
    fake.script = [
        Reply(200, {"data": [a, b], "next_cursor": "p2", "page": {}}),
        Reply(200, {"data": [a, b], "next_cursor": "p3", "page": {}}),
        Reply(200, {"data": [b, c, d], "next_cursor": None, "page": {}}),
    ]
    s1 = pull(con, base)
    distinct = 4 * rows_per(a)
    assert s1.rows_received == 7 * rows_per(a) and s1.rows_loaded == distinct
    assert n_rows(con) == distinct == n_distinct_keys(con)
    assert get_cursor(con, base, "2024-2025") == "p3"  # no resume_cursor: restart from the last page

    # pull 2: the same data again, in shrinking pages, with a corrected value for d → latest wins
    d2 = users_push(4, value=9)
    fake.script = [
        Reply(200, {"data": [c, d], "next_cursor": "q2"}),
        Reply(200, {"data": [a], "next_cursor": "q3"}),
        Reply(200, {"data": [d2], "next_cursor": None, "page": {"resume_cursor": "r1"}}),
    ]
    s2 = pull(con, base)
    assert s2.rows_replaced == 3 * rows_per(a)
    assert n_rows(con) == distinct == n_distinct_keys(con)
    v = con.execute(
        "SELECT value FROM raw_lms_activity WHERE metric = 'lessons_assigned' "
        "AND period_start = DATE '2025-01-04'"
    ).fetchall()
    assert v == [(9.0,)]

    # pull 3: the very same page fetched twice (a re-run with an unchanged server) → still no duplicates
    fake.script = [Reply(200, {"data": [a, b, c, d2], "next_cursor": None})] * 2
    pull(con, base)
    pull(con, base)
    assert n_rows(con) == distinct == n_distinct_keys(con)


def test_persistent_failure_is_clear_bounded_and_writes_nothing(
    api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection, caplog: pytest.LogCaptureFixture
) -> None:
    fake, base = api
    log = ChangeLog([users_push(1), users_push(2)])
    fake.handler = log
    pull(con, base)
    state = (n_rows(con), get_cursor(con, base, "2024-2025"))
    quarantine = con.execute("SELECT count(*) FROM dq_quarantine_rows").fetchall()

    # new data: page 1 answers, page 2 keeps failing
    bad = copy.deepcopy(users_push(5))
    del bad["measured_at"]
    log.items += [users_push(3), bad, users_push(4)]

    def flaky(q: dict[str, str]) -> Reply:
        return log(q) if q.get("cursor") == "seq:2" else Reply(503, {"error": "down"})

    fake.handler = flaky
    caplog.set_level(logging.DEBUG)
    policy = RetryPolicy(
        connect_timeout_s=1.0, read_timeout_s=1.0, max_attempts=3, backoff_base_s=0.05, total_budget_s=5.0
    )
    t0 = time.monotonic()
    with pytest.raises(PullError) as err:
        pull(con, base, policy=policy)
    assert time.monotonic() - t0 < 3.0
    msg = str(err.value)
    assert f"{base}/v1/metrics?" in msg and "cursor=seq%3A4" in msg
    assert "HTTP 503" in msg and "3 attempt(s)" in msg
    assert err.value.message_vi.startswith("Không lấy được dữ liệu từ API 127.0.0.1")
    assert "máy chủ gặp lỗi (HTTP 503)" in err.value.message_vi
    assert (n_rows(con), get_cursor(con, base, "2024-2025")) == state
    assert con.execute("SELECT count(*) FROM dq_quarantine_rows").fetchall() == quarantine
    assert KEY not in caplog.text and KEY not in msg and KEY not in err.value.message_vi

    fake.handler = log  # once the server is back, the pull resumes from the old cursor
    s = pull(con, base)
    assert (s.cursor_before, s.objects, s.objects_quarantined) == ("seq:2", 3, 1)


def test_persistent_bad_json_gives_up_with_clear_error(
    api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection
) -> None:
    fake, base = api
    fake.handler = lambda q: Reply(200, b'{"data": [{"users": [')
    with pytest.raises(PullError) as err:
        pull(con, base)
    assert "malformed or truncated JSON" in str(err.value) and "4 attempt(s)" in str(err.value)
    assert len(fake.requests) == FAST.max_attempts
    assert get_cursor(con, base, "2024-2025") is None and n_rows(con) == 0


def test_bad_key_is_not_retried(api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection) -> None:
    fake, base = api
    fake.handler = ChangeLog([users_push(1)])
    with pytest.raises(PullError) as err:
        pull_lms_metrics(con, base, 2024, api_key="wrong-key", policy=FAST)
    assert len(fake.requests) == 1 and "HTTP 401" in str(err.value)
    assert "CDS_API_KEY" in err.value.message_vi and "wrong-key" not in str(err.value)


def test_api_key_from_environment(
    api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, base = api
    fake.handler = ChangeLog([users_push(1)])
    monkeypatch.setenv("CDS_API_KEY", KEY)
    s = pull_lms_metrics(con, base, "2024-2025", policy=FAST)
    assert s.objects == 1 and fake.requests[0]["headers"]["X-API-Key"] == KEY


def test_expired_cursor_restarts_a_full_pull(
    api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection
) -> None:
    fake, base = api
    log = ChangeLog([users_push(1), users_push(2)])
    fake.handler = log
    pull(con, base)
    rows = n_rows(con)
    fake.handler = lambda q: Reply(410, {"error": "cursor expired"}) if q.get("cursor") == "seq:2" else log(q)
    fake.requests.clear()
    s = pull(con, base)
    assert [r["query"].get("cursor") for r in fake.requests] == ["seq:2", None]
    assert s.objects == 2 and n_rows(con) == rows and get_cursor(con, base, "2024-2025") == "seq:2"


def test_missing_key_is_a_pull_error(con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDS_API_KEY", raising=False)
    with pytest.raises(PullError) as err:
        pull_lms_metrics(con, "http://127.0.0.1:9", "2024-2025", policy=FAST)
    assert "CDS_API_KEY" in str(err.value) and "Chưa cấu hình khóa API" in err.value.message_vi
    st = latest_pull_status(con, "2024-2025")
    assert st is not None and (st.status, st.error_code, st.pages) == ("failed", "no_api_key", 0)
    assert st.message_vi == err.value.message_vi


def test_every_pull_is_recorded_and_the_latest_is_read(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, base = api
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    assert latest_pull_status(con, "2024-2025") is None  # no table yet: nothing recorded, nothing created
    fake.handler = ChangeLog([users_push(1), users_push(2), users_push(3)])
    before = dt.datetime.now()
    ok = pull(con, base)
    st = latest_pull_status(con, "2024-2025")
    assert st is not None and st.status == "ok" and not st.failed
    assert (st.run_id, st.pages, st.objects, st.rows_loaded) == (ok.run_id, 2, 3, ok.rows_loaded)
    assert (st.error_code, st.http_status, st.message, st.message_vi) == (None, None, None, None)
    assert st.source_file == f"api:{base.removeprefix('http://')}/v1/metrics" and st.base_url == base
    assert before <= st.started_at <= st.finished_at <= dt.datetime.now()

    fake.handler = lambda q: Reply(503, {"error": "down"})
    quick = RetryPolicy(
        connect_timeout_s=1.0, read_timeout_s=1.0, max_attempts=2, backoff_base_s=0.02, total_budget_s=5.0
    )
    with pytest.raises(PullError) as err:
        pull(con, base, policy=quick)
    assert (err.value.code, err.value.http_status) == ("server_error", 503)
    failed = latest_pull_status(con, "2024-2025")
    assert failed is not None and failed.failed and failed.started_at >= st.finished_at
    assert (failed.error_code, failed.http_status, failed.pages, failed.rows_loaded) == (
        "server_error",
        503,
        0,
        0,
    )
    assert failed.message_vi == err.value.message_vi and "máy chủ gặp lỗi (HTTP 503)" in failed.message_vi
    assert failed.message == str(err.value) and "2 attempt(s)" in failed.message
    recorded = con.execute("SELECT * FROM api_pulls ORDER BY started_at").fetchall()
    assert [r[6] for r in recorded] == ["ok", "failed"]
    assert KEY not in json.dumps([failed.as_dict(), st.as_dict(), [str(r) for r in recorded]])
    assert latest_pull_status(con, "2023-2024") is None
    assert latest_pull_status(con, "2024-2025", since=dt.datetime.now()) is None  # not pulled in this run
    con.close()

    ro = duckdb.connect(str(path), read_only=True)  # what a summary of a no-change run has
    assert latest_pull_status(ro, "2024-2025", since=before) == failed
    ro.close()
    duckdb.connect(str(tmp_path / "never.duckdb")).close()
    ro = duckdb.connect(str(tmp_path / "never.duckdb"), read_only=True)
    assert latest_pull_status(ro, "2024-2025") is None
    ro.close()


def test_slow_pages_stop_at_the_pull_deadline(
    api: tuple[FakeApi, str], con: duckdb.DuckDBPyConnection
) -> None:
    """Each page answers in 0.4 s (inside every per-request limit); the pull's 1 s deadline stops it."""
    fake, base = api
    log = ChangeLog([users_push(d) for d in range(1, 21)])

    def slow(q: dict[str, str]) -> Reply:
        r = log(q)
        r.delay_s = 0.4
        return r

    fake.handler = slow
    t0 = time.monotonic()
    with pytest.raises(PullError) as err:
        pull(con, base, pull_budget_s=1.0)
    assert time.monotonic() - t0 < 2.0
    assert err.value.code == "pull_deadline" and "CDS_API_PULL_DEADLINE_SECONDS" in err.value.message_vi
    assert 2 <= len(fake.requests) <= 4 and n_rows(con) == 0 and get_cursor(con, base, "2024-2025") is None
    st = latest_pull_status(con, "2024-2025")
    assert st is not None and st.error_code == "pull_deadline" and st.pages >= len(fake.requests) - 1 >= 1
