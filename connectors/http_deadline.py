"""The wall-clock deadline of an HTTP request, enforced on its sockets: a timer (`Deadline`, active around
one attempt) shuts down the sockets the attempt reads from when the deadline passes, so a server that
drips bytes cannot hold the caller; the sockets are found through connection classes of our own mounted on
a `requests` session (`GuardedAdapter`). Only plain HTTP(S) connections and HTTP proxies are guarded.
Used by `connectors.http_client`; nothing else belongs here.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection


class Deadline:
    """Active around one attempt: the sockets its requests read from are shut down at `at`
    (a `time.monotonic()` value), which makes a blocked read return at once."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.fired = False
        self._socks: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, at - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._token: contextvars.Token[Deadline | None] | None = None

    def __enter__(self) -> Deadline:
        self._token = _ACTIVE_DEADLINE.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        if self._token is not None:
            _ACTIVE_DEADLINE.reset(self._token)

    def watch(self, sock: Any) -> None:
        with self._lock:
            if not self.fired:
                self._socks.append(sock)
                return
        _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            socks, self._socks = self._socks, []
        for sock in socks:
            _shutdown(sock)


_ACTIVE_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "cds_http_deadline", default=None
)


def _shutdown(sock: Any) -> None:
    """Shut a socket down from another thread. For TLS the plain socket's method is used: the SSL
    object stays in place, so the blocked read fails with an ordinary connection error."""
    with contextlib.suppress(OSError, ValueError):
        if isinstance(sock, socket.socket):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch_active_deadline(sock: Any) -> None:
    deadline = _ACTIVE_DEADLINE.get()
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _GuardedHTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:  # type: ignore[override]
        _watch_active_deadline(self.sock)  # before the status line and headers are read
        return super().getresponse()


class _GuardedHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:  # type: ignore[override]
        _watch_active_deadline(self.sock)
        return super().getresponse()


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


def _guard_pools(manager: PoolManager) -> None:
    if manager.pool_classes_by_scheme.get("http") is HTTPConnectionPool:  # not SOCKS: its own classes
        manager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class GuardedAdapter(HTTPAdapter):
    """`requests`' adapter whose connections register their socket with the active `Deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _guard_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _guard_pools(manager)
        return manager


def timed_out_at_deadline(exc: BaseException, remaining: float, connect_cap: float, read_cap: float) -> bool:
    """Whether a socket timeout of an attempt is the deadline: its timeout was capped at the time left when
    the attempt started, and every read starts after that, so it ends at or after the deadline, whichever of
    the timer and the socket noticed first (they race when the two fall together)."""
    if not isinstance(exc, requests.Timeout):
        return False
    return remaining < (connect_cap if isinstance(exc, requests.ConnectTimeout) else read_cap)
