"""The HTTP client's hard limits against real servers on 127.0.0.1: no redirect to another origin (the
API key never reaches it), a maximum response size counted while streaming, and a wall-clock deadline
per request and per pull that holds while a server drips bytes of its headers or its body.

Redirects use `pytest-httpserver` (two servers on two ports); dripping, huge and compressed bodies use a
small threaded `http.server` of our own that writes raw bytes and counts what it managed to send.
No mock of `requests` or of the sockets: every fault is produced on the wire.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import ipaddress
import json
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from connectors.http_client import ApiError, JsonClient, RetryPolicy
from connectors.http_lms import PullError, get_cursor, latest_pull_status, pull_lms_metrics

pytestmark = pytest.mark.integration

KEY = "test-key-s3cr3t-value"
FAST = RetryPolicy(
    connect_timeout_s=1.0,
    read_timeout_s=5.0,
    max_attempts=3,
    backoff_base_s=0.02,
    backoff_max_s=0.1,
    total_budget_s=8.0,
)
PAGE = {"data": [], "next_cursor": None}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


# ---------------------------------------------------------------------------------------------
# Redirects: two pytest-httpserver servers on two ports
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def _two_servers() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    a, b = HTTPServer(host="127.0.0.1", port=0), HTTPServer(host="127.0.0.1", port=0)
    a.start()
    b.start()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def servers(_two_servers: tuple[HTTPServer, HTTPServer]) -> Iterator[tuple[HTTPServer, HTTPServer]]:
    """The API and another origin (same address, another port); handlers and logs cleared per test."""
    yield _two_servers
    for s in _two_servers:
        s.clear()


def redirect(to: str, status: int = 302) -> Response:
    return Response(status=status, headers={"Location": to})


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_to_another_port_is_refused_and_the_key_never_sent(
    servers: tuple[HTTPServer, HTTPServer], status: int
) -> None:
    api, other = servers
    other.expect_request("/v1/metrics").respond_with_json(PAGE)
    api.expect_request("/v1/metrics").respond_with_response(redirect(other.url_for("/v1/metrics"), status))

    with JsonClient(KEY, FAST) as client, pytest.raises(ApiError) as err:
        client.get_json(api.url_for("/v1/metrics"), {"school_year": 2024})

    assert other.log == []  # not even a connection without the key: the redirect is not followed
    assert len(api.log) == 1 and api.log[0][0].headers.get("X-API-Key") == KEY
    e = err.value
    assert (e.code, e.status, e.attempts, e.retryable) == ("redirect_refused", status, 1, False)
    port = other.port
    assert f"another origin (http://127.0.0.1:{port})" in str(e)
    assert f"http://127.0.0.1:{port}" in e.message_vi and "CDS_API_BASE_URL" in e.message_vi
    assert "không gửi khóa API ra ngoài" in e.message_vi
    assert KEY not in str(e) and KEY not in e.message_vi


@pytest.mark.parametrize(
    "location",
    ["http://localhost:{port}/v1/metrics", "https://127.0.0.1:{port}/v1/metrics", "//localhost:{port}/x"],
    ids=["other_host_name", "other_scheme", "scheme_relative_other_host"],
)
def test_redirect_to_another_host_or_scheme_is_refused(
    servers: tuple[HTTPServer, HTTPServer], location: str
) -> None:
    api, other = servers
    other.expect_request("/v1/metrics").respond_with_json(PAGE)
    api.expect_request("/v1/metrics").respond_with_response(redirect(location.format(port=api.port)))
    with JsonClient(KEY, FAST) as client, pytest.raises(ApiError) as err:
        client.get_json(api.url_for("/v1/metrics"))
    assert err.value.code == "redirect_refused" and len(api.log) == 1 and other.log == []


def test_redirect_within_the_origin_is_followed_with_the_key(servers: tuple[HTTPServer, HTTPServer]) -> None:
    api, _ = servers
    api.expect_ordered_request("/v1/metrics").respond_with_response(redirect("/v2/metrics?school_year=2024"))
    api.expect_ordered_request("/v2/metrics").respond_with_response(
        redirect(api.url_for("/v3/metrics?school_year=2024"), 308)
    )
    api.expect_ordered_request("/v3/metrics", headers={"X-API-Key": KEY}).respond_with_json(
        {"data": [1], "next_cursor": None}
    )
    with JsonClient(KEY, FAST) as client:
        doc = client.get_json(api.url_for("/v1/metrics"), {"school_year": 2024})
    assert doc == {"data": [1], "next_cursor": None}
    assert [r.path for r, _ in api.log] == ["/v1/metrics", "/v2/metrics", "/v3/metrics"]
    assert all(r.headers.get("X-API-Key") == KEY for r, _ in api.log)
    assert api.log[2][0].args.get("school_year") == "2024"  # the Location's query, not re-added params


def test_redirect_loop_stops(servers: tuple[HTTPServer, HTTPServer]) -> None:
    api, _ = servers
    api.expect_request("/loop").respond_with_response(redirect("/loop"))
    with JsonClient(KEY, FAST, max_redirects=3) as client, pytest.raises(ApiError) as err:
        client.get_json(api.url_for("/loop"))
    assert err.value.code == "too_many_redirects" and len(api.log) == 4
    assert "chuyển hướng quá" in err.value.message_vi


def test_pull_refusing_a_redirect_is_recorded(servers: tuple[HTTPServer, HTTPServer]) -> None:
    api, other = servers
    other.expect_request("/v1/metrics").respond_with_json(PAGE)
    api.expect_request("/v1/metrics").respond_with_response(redirect(other.url_for("/v1/metrics")))
    con = duckdb.connect(":memory:")
    with pytest.raises(PullError) as err:
        pull_lms_metrics(con, api.url_for("/").rstrip("/"), "2024-2025", api_key=KEY, policy=FAST)
    assert err.value.code == "redirect_refused" and other.log == []
    st = latest_pull_status(con, "2024-2025")
    assert st is not None and (st.status, st.error_code, st.http_status) == (
        "failed",
        "redirect_refused",
        302,
    )
    assert st.message_vi == err.value.message_vi
    con.close()


# ---------------------------------------------------------------------------------------------
# A raw server: writes bytes as the test script says, counts them, notices the client leaving
# ---------------------------------------------------------------------------------------------
@dataclass
class Served:
    requests: list[dict[str, str]] = field(default_factory=list)
    bytes_sent: int = 0
    client_gone: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)


Script = Callable[[BaseHTTPRequestHandler, Served], None]


class _RawHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        served: Served = self.server.served  # type: ignore[attr-defined]
        served.requests.append({"path": self.path, **dict(self.headers.items())})
        try:
            self.server.script(self, served)  # type: ignore[attr-defined]
        except (BrokenPipeError, ConnectionResetError):
            served.client_gone.set()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()


class _RawServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture
def raw() -> Iterator[Callable[..., tuple[str, Served]]]:
    """`serve(script, tls=None)` → (base URL, what was served); `tls` an `ssl.SSLContext` for HTTPS."""
    started: list[tuple[_RawServer, Served]] = []

    def serve(script: Script, tls: ssl.SSLContext | None = None) -> tuple[str, Served]:
        srv = _RawServer(("127.0.0.1", 0), _RawHandler)
        if tls is not None:
            srv.socket = tls.wrap_socket(srv.socket, server_side=True)
        srv.script, srv.served = script, Served()  # type: ignore[attr-defined]
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append((srv, srv.served))  # type: ignore[attr-defined]
        scheme = "https" if tls is not None else "http"
        return f"{scheme}://127.0.0.1:{srv.server_address[1]}", srv.served  # type: ignore[attr-defined]

    yield serve
    for srv, served in started:
        served.stop.set()
        srv.shutdown()
        srv.server_close()


def send(h: BaseHTTPRequestHandler, served: Served, data: bytes) -> None:
    h.wfile.write(data)
    h.wfile.flush()
    served.bytes_sent += len(data)


def head(h: BaseHTTPRequestHandler, served: Served, **headers: str) -> None:
    lines = [
        "HTTP/1.1 200 OK",
        "Content-Type: application/json",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
    ]
    send(h, served, ("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


# ---------------------------------------------------------------------------------------------
# Maximum response size
# ---------------------------------------------------------------------------------------------
def huge_chunked(total: int) -> Script:
    """A JSON page whose string goes on for `total` bytes, chunked (no Content-Length to refuse)."""

    def script(h: BaseHTTPRequestHandler, served: Served) -> None:
        head(h, served, Transfer_Encoding="chunked")
        send(h, served, chunk(b'{"data": ["'))
        piece = chunk(b"x" * 65536)
        while served.bytes_sent < total and not served.stop.is_set():
            send(h, served, piece)
        send(h, served, chunk(b'"], "next_cursor": null}') + chunk(b""))

    return script


def test_chunked_body_over_the_limit_stops_reading(raw: Callable[..., tuple[str, Served]]) -> None:
    total = 256 * 2**20  # what the server would send if the client read it all
    base, served = raw(huge_chunked(total))
    limit = 2**20
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        with JsonClient(KEY, FAST, max_body_bytes=limit) as client, pytest.raises(ApiError) as err:
            client.get_json(f"{base}/v1/metrics")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - t0
    e = err.value
    assert (e.code, e.status, e.attempts, e.retryable) == ("body_too_large", 200, 1, False)
    assert f"over the {limit}-byte limit" in str(e)
    assert "vượt giới hạn 1 MB (CDS_API_MAX_BODY_BYTES)" in e.message_vi
    assert len(served.requests) == 1  # not retried: the same body would come back
    assert served.client_gone.wait(5.0)  # the client closed the connection...
    assert served.bytes_sent < 64 * 2**20  # ...long before the server could send it all (socket buffers)
    assert peak < 8 * limit  # memory bounded by the limit, not by the body
    assert elapsed < 5.0


def test_announced_length_over_the_limit_is_refused_unread(raw: Callable[..., tuple[str, Served]]) -> None:
    def script(h: BaseHTTPRequestHandler, served: Served) -> None:
        head(h, served, Content_Length=str(50 * 2**20))
        piece = b" " * 65536
        while served.bytes_sent < 50 * 2**20 and not served.stop.is_set():
            send(h, served, piece)

    base, served = raw(script)
    with JsonClient(KEY, FAST, max_body_bytes=2**20) as client, pytest.raises(ApiError) as err:
        client.get_json(f"{base}/v1/metrics")
    assert err.value.code == "body_too_large" and "52428800 bytes announced" in str(err.value)
    assert served.client_gone.wait(5.0) and served.bytes_sent < 40 * 2**20


def test_compressed_body_counts_what_it_expands_to(raw: Callable[..., tuple[str, Served]]) -> None:
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip
    bomb = comp.compress(b'{"data": ["') + comp.compress(b"0" * (64 * 2**20)) + comp.flush()
    assert len(bomb) < 2**20  # small on the wire

    def script(h: BaseHTTPRequestHandler, served: Served) -> None:
        head(h, served, Content_Encoding="gzip", Content_Length=str(len(bomb)))
        send(h, served, bomb)

    base, _ = raw(script)
    tracemalloc.start()
    try:
        with JsonClient(KEY, FAST, max_body_bytes=2**20) as client, pytest.raises(ApiError) as err:
            client.get_json(f"{base}/v1/metrics")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.code == "body_too_large" and peak < 16 * 2**20


def test_body_at_the_limit_is_read_one_byte_over_is_not(raw: Callable[..., tuple[str, Served]]) -> None:
    body = json.dumps({"data": ["é" * 3000], "next_cursor": None}).encode("utf-8")

    def script(h: BaseHTTPRequestHandler, served: Served) -> None:
        zipped = gzip.compress(body)
        head(h, served, Content_Encoding="gzip", Content_Length=str(len(zipped)))
        send(h, served, zipped)

    base, _ = raw(script)
    with JsonClient(KEY, FAST, max_body_bytes=len(body)) as client:
        assert client.get_json(f"{base}/v1/metrics") == json.loads(body)
    with JsonClient(KEY, FAST, max_body_bytes=len(body) - 1) as client, pytest.raises(ApiError) as err:
        client.get_json(f"{base}/v1/metrics")
    assert err.value.code == "body_too_large"


# ---------------------------------------------------------------------------------------------
# Wall-clock deadline while reading
# ---------------------------------------------------------------------------------------------
DRIP_S = 0.25  # one byte each; well inside the 5 s read timeout, so only a wall clock can stop it
DRIP_BYTES = 40  # 10 s of dripping: a complete, valid answer if the client waited for it


def drip_body(h: BaseHTTPRequestHandler, served: Served) -> None:
    body = b'{"data": [], "next_cursor": null}'.ljust(DRIP_BYTES)
    head(h, served, Content_Length=str(len(body)))
    for b in body:
        if served.stop.wait(DRIP_S):
            return
        send(h, served, bytes([b]))


def drip_chunked(h: BaseHTTPRequestHandler, served: Served) -> None:
    head(h, served, Transfer_Encoding="chunked")
    for b in b'{"data": [], "next_cursor": null}'.ljust(DRIP_BYTES):
        if served.stop.wait(DRIP_S):
            return
        send(h, served, chunk(bytes([b])))
    send(h, served, chunk(b""))


def drip_headers(h: BaseHTTPRequestHandler, served: Served) -> None:
    body = b'{"data": [], "next_cursor": null}'
    raw_head = (
        f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nX-Slow: " + "z" * DRIP_BYTES + "\r\n\r\n"
    ).encode()
    for b in raw_head:
        if served.stop.wait(DRIP_S / 2):
            return
        send(h, served, bytes([b]))
    send(h, served, body)


@pytest.mark.parametrize(
    "script", [drip_body, drip_chunked, drip_headers], ids=["body", "chunked", "headers"]
)
def test_dripping_server_cannot_hold_a_request_past_its_deadline(
    raw: Callable[..., tuple[str, Served]], script: Script
) -> None:
    base, served = raw(script)
    policy = RetryPolicy(
        connect_timeout_s=1.0, read_timeout_s=5.0, max_attempts=3, backoff_base_s=0.02, total_budget_s=1.0
    )
    t0 = time.monotonic()
    with JsonClient(KEY, policy) as client, pytest.raises(ApiError) as err:
        client.get_json(f"{base}/v1/metrics")
    elapsed = time.monotonic() - t0
    e = err.value
    assert elapsed < 2.5, f"the dripping server held the request {elapsed:.1f}s"
    assert (e.code, e.attempts) == ("request_deadline", 1)  # the deadline leaves no time for a retry
    assert "wall-clock deadline reached" in str(e)
    assert "vượt quá thời hạn 1 giây (CDS_API_REQUEST_DEADLINE_SECONDS)" in e.message_vi
    assert 0 < served.bytes_sent < 200  # it was dripping, and the client left


def test_deadline_is_the_request_not_each_attempt(raw: Callable[..., tuple[str, Served]]) -> None:
    calls = {"n": 0}

    def flaky_then_drip(h: BaseHTTPRequestHandler, served: Served) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            h.send_response(503)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        drip_body(h, served)

    base, _ = raw(flaky_then_drip)
    policy = RetryPolicy(
        connect_timeout_s=1.0,
        read_timeout_s=5.0,
        max_attempts=5,
        backoff_base_s=0.02,
        backoff_max_s=0.05,
        total_budget_s=1.2,
    )
    t0 = time.monotonic()
    with JsonClient(KEY, policy) as client, pytest.raises(ApiError) as err:
        client.get_json(f"{base}/v1/metrics")
    assert time.monotonic() - t0 < 2.5
    assert (err.value.code, err.value.attempts, calls["n"]) == ("request_deadline", 2, 2)


def test_a_pull_has_a_deadline_of_its_own(raw: Callable[..., tuple[str, Served]], tmp_path: Path) -> None:
    """Page 1 answers, page 2 drips: the request's deadline (30 s) is far, the pull's (1.5 s) is not."""

    def pages(h: BaseHTTPRequestHandler, served: Served) -> None:
        if "cursor=p2" not in h.path:
            body = json.dumps({"data": [], "next_cursor": "p2"}).encode()
            head(h, served, Content_Length=str(len(body)))
            send(h, served, body)
            return
        drip_body(h, served)

    base, served = raw(pages)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    policy = RetryPolicy(connect_timeout_s=1.0, read_timeout_s=5.0, max_attempts=3, total_budget_s=30.0)
    before = dt.datetime.now()
    t0 = time.monotonic()
    with pytest.raises(PullError) as err:
        pull_lms_metrics(con, base, "2024-2025", api_key=KEY, policy=policy, pull_budget_s=1.5)
    elapsed = time.monotonic() - t0
    assert elapsed < 3.0, f"the dripping page held the pull {elapsed:.1f}s"
    e = err.value
    assert e.code == "pull_deadline" and "the pull's 1.5s deadline passed after 1 page(s)" in str(e)
    assert "vượt quá tổng thời hạn 1,5 giây (CDS_API_PULL_DEADLINE_SECONDS) sau 1 trang" in e.message_vi
    assert len(served.requests) == 2 and get_cursor(con, base, "2024-2025") is None
    con.close()

    ro = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    st = latest_pull_status(ro, "2024-2025", since=before)
    ro.close()
    assert st is not None and st.failed
    assert (st.error_code, st.pages, st.rows_loaded, st.message_vi) == ("pull_deadline", 1, 0, e.message_vi)
    assert st.finished_at - st.started_at < dt.timedelta(seconds=3)


# ---------------------------------------------------------------------------------------------
# TLS: the same deadline on an HTTPS connection (the socket is an SSL socket)
# ---------------------------------------------------------------------------------------------
def _self_signed(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography comes with great-expectations)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_deadline_holds_over_https(
    raw: Callable[..., tuple[str, Served]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    base, served = raw(drip_body, tls)
    policy = RetryPolicy(connect_timeout_s=2.0, read_timeout_s=5.0, max_attempts=2, total_budget_s=1.0)
    t0 = time.monotonic()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # requests lets it win over session.verify
    with JsonClient(KEY, policy) as client, pytest.raises(ApiError) as err:
        client.get_json(f"{base}/v1/metrics")
    assert time.monotonic() - t0 < 2.5
    assert err.value.code == "request_deadline" and 0 < served.bytes_sent < 200
    assert served.requests[0].get("X-API-Key") == KEY  # it did speak TLS with us
