"""A throwaway PostgreSQL server on 127.0.0.1 for the tests that need a real catalog server (Debian's
`postgresql` package; `.ci/run` installs it). Started in a temporary folder on a free port, as the
`postgres` user when the tests run as root (PostgreSQL refuses to run as root), and stopped after."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin(name: str) -> str | None:
    """A PostgreSQL program from PATH or Debian's versioned folder (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server(database: str = "lake") -> Iterator[str]:
    """Start a server, create `database`, yield its SQLAlchemy URI (psycopg2 driver), stop it. The
    server's folder is a new temporary folder of its own (pytest's are private to the test user)."""
    initdb, pg_ctl, createdb = pg_bin("initdb"), pg_bin("pg_ctl"), pg_bin("createdb")
    if not (initdb and pg_ctl and createdb):
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="cds-pg-"))
    data, sock = folder / "data", folder / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sock, "postgres")
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    run = lambda cmd: subprocess.run(_as_server_user(cmd), check=True, capture_output=True, text=True)  # noqa: E731
    run([initdb, "-D", str(data), "-U", user, "-A", "trust", "--no-sync", "-E", "UTF8"])
    port = _free_port()
    opts = f"-p {port} -k {sock} -h 127.0.0.1 -c fsync=off"
    run([pg_ctl, "-D", str(data), "-o", opts, "-l", str(folder / "server.log"), "-w", "start"])
    try:
        run([createdb, "-h", "127.0.0.1", "-p", str(port), "-U", user, database])
        yield f"postgresql+psycopg2://{user}@127.0.0.1:{port}/{database}"
    finally:
        run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
