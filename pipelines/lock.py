"""One run at a time per warehouse: an exclusive `fcntl.flock` on `<warehouse>.lock`.

Held by `cds run` (`pipelines.runner`) and by every Dagster run of the school-year job (through
`pipelines.lock_resource`). A second run waits up to `wait_seconds` and then stops with a bilingual
message; it never touches the warehouse. The lock is re-entrant inside one process, so the CLI
(which holds it) can execute the Dagster job (which asks for it again) in-process. The kernel frees the
lock when the holder dies, so a killed run never leaves a stale lock behind.

Kept free of Dagster and pandas imports: the no-change path of `cds run` must start fast.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_POLL_SECONDS = 0.2
_held: dict[str, tuple[IO[str], int]] = {}
_guard = threading.Lock()


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse lock (message in Vietnamese and English)."""

    def __init__(self, lock_path: Path, waited_s: float, holder: str) -> None:
        self.lock_path = lock_path
        self.holder = holder
        super().__init__(
            f"Kho dữ liệu đang được một lượt chạy khác sử dụng ({holder or 'không rõ'}); đã chờ "
            f"{waited_s:.0f} giây. Hãy chạy lại sau, hoặc dùng --wait <giây> để chờ lâu hơn. / "
            f"The warehouse is in use by another run ({holder or 'unknown'}); waited {waited_s:.0f} s. "
            f"Try again later or pass --wait <seconds>. Lock file: {lock_path}"
        )


def lock_path_for(warehouse: Path | str) -> Path:
    return Path(f"{warehouse}.lock")


def read_holder(lock_path: Path) -> str:
    """What the current holder wrote into the lock file (pid and start time), if readable."""
    try:
        return lock_path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def warehouse_lock(warehouse: Path | str, wait_seconds: float = 0, owner: str = "cds") -> Iterator[Path]:
    """Hold the exclusive lock of `warehouse` for the duration of the block.

    Raises `WarehouseBusyError` when another process keeps it longer than `wait_seconds`.
    """
    path = lock_path_for(warehouse)
    key = str(path.resolve())
    with _guard:
        if key in _held:  # re-entrant within this process
            fh, depth = _held[key]
            _held[key] = (fh, depth + 1)
            reentrant = True
        else:
            reentrant = False
    if reentrant:
        try:
            yield path
        finally:
            _release(key)
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    fh = path.open("a+", encoding="utf-8")
    start = time.monotonic()
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            waited = time.monotonic() - start
            if waited >= wait_seconds:
                fh.close()
                raise WarehouseBusyError(path, waited, read_holder(path)) from None
            time.sleep(min(_POLL_SECONDS, max(wait_seconds - waited, 0.01)))
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid={os.getpid()} owner={owner} since={dt.datetime.now().isoformat(timespec='seconds')}\n")
    fh.flush()
    with _guard:
        _held[key] = (fh, 1)
    try:
        yield path
    finally:
        _release(key)


def _release(key: str) -> None:
    with _guard:
        fh, depth = _held[key]
        if depth > 1:
            _held[key] = (fh, depth - 1)
            return
        del _held[key]
    with contextlib.suppress(OSError):
        fh.seek(0)
        fh.truncate()
    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    fh.close()


def is_held_here(warehouse: Path | str) -> bool:
    """True when this process currently holds the lock of `warehouse`."""
    return str(lock_path_for(warehouse).resolve()) in _held
