"""What is in the inbox, cheaply: a snapshot of (relative path → size, mtime) per school year, its
fingerprint, and the check "did anything change since the last successful run?".

The check compares the snapshot with the one recorded (table `ops_inbox_state`) at the start of the
last successful run; only files whose size or mtime differ are hashed, and their sha256 is compared
with the ingest manifest. Used by the inbox sensor (fingerprint) and by the no-change fast path of
`cds run`. Kept free of Dagster and pandas imports so that a no-change `cds run` starts fast.

The walk follows `connectors.filedrop.iter_inbox` (same skip rules); a unit test keeps them equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors.inbox import file_key, walk_inbox

FileStat = tuple[int, int]  # (size in bytes, mtime in ns)
_YEAR_DIR = re.compile(r"^\d{4}-\d{4}$")
_REPO_ROOT = Path(__file__).resolve().parent.parent

STATE_DDL = (
    """CREATE TABLE IF NOT EXISTS ops_inbox_state (
  school_year VARCHAR, source_file VARCHAR, size_bytes BIGINT, mtime_ns BIGINT
)""",
    """CREATE TABLE IF NOT EXISTS ops_run_state (
  school_year VARCHAR PRIMARY KEY, config_sha256 VARCHAR, inbox_fingerprint VARCHAR,
  finished_at TIMESTAMP
)""",
)


def snapshot(inbox: Path, school_year: str | None = None) -> dict[str, FileStat]:
    """Files the file-drop connector would read for `year` (all years when None, `walk_inbox`), with size
    and mtime: one stat per file (a dangling link or a file removed mid-walk gets (-1, -1))."""
    out: dict[str, FileStat] = {}
    inbox = Path(inbox)
    if not inbox.is_dir():
        return out
    root = str(inbox)
    for rel in walk_inbox(inbox, school_year):
        try:
            st = os.stat(os.path.join(root, rel))
        except OSError:  # a dangling symlink or a file removed mid-walk: the connector will see it
            out[rel] = (-1, -1)
            continue
        out[rel] = (st.st_size, st.st_mtime_ns)
    return dict(sorted(out.items()))


def years_in(inbox: Path) -> list[str]:
    """School-year folders present in the inbox."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        return []
    return sorted(p.name for p in inbox.iterdir() if p.is_dir() and _YEAR_DIR.match(p.name))


def fingerprint(snap: dict[str, FileStat]) -> str:
    """Stable hash of a snapshot: any added, removed, resized or re-saved file changes it."""
    payload = json.dumps(sorted(snap.items()), separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def config_fingerprint(
    indicator_set: Path, files: Sequence[Path | None] = (), values: Mapping[str, object] | None = None
) -> str:
    """Hash of what, besides the inbox, decides the outputs: the indicator set, the SQL models, further
    `files` (e.g. the code mapping) and setting `values` (e.g. the ranking groups, the season's dates)."""
    h = hashlib.sha256()
    paths = [Path(indicator_set), *sorted((_REPO_ROOT / "dbt_like_sql").rglob("*.sql"))]
    for f in [*paths, *(Path(p) for p in files if p is not None)]:
        h.update(str(f.name).encode())
        h.update(f.read_bytes() if f.is_file() else b"<missing>")
    h.update(json.dumps(values or {}, sort_keys=True, default=str).encode())
    return h.hexdigest()


@dataclass
class ChangeCheck:
    """Outcome of comparing the inbox with the last successful run."""

    changed: list[str] = field(default_factory=list)
    files_seen: int = 0
    files_hashed: int = 0
    reason: str = ""  # why a full run is needed ("" when nothing changed)

    @property
    def has_changes(self) -> bool:
        return bool(self.reason)


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def _rerun_reason(con: duckdb.DuckDBPyConnection, school_year: str, config_sha: str) -> str:
    """Why `year` must run whatever the files say (no previous run, another configuration, work left
    pending), or "" when only the files decide."""
    if not (_table_exists(con, "ops_run_state") and _table_exists(con, "ingest_manifest")):
        return "no previous successful run"
    row = con.execute(
        "SELECT config_sha256 FROM ops_run_state WHERE school_year = ?", [school_year]
    ).fetchone()
    if row is None:
        return "no previous successful run for this year"
    if row[0] != config_sha:
        return "indicator set or SQL models changed"
    if _table_exists(con, "ingest_pending"):  # work a run left (files still being written)
        (n_pending,) = con.execute(
            "SELECT count(*) FROM ingest_pending WHERE step = 'finalise' OR starts_with(step, ?)",
            [f"deferred:{school_year}/"],
        ).fetchone() or (0,)
    else:
        n_pending = 0
    if n_pending:
        return "ingest work left pending by the last run (files deferred while being written)"
    return ""


def _compare_files(
    con: duckdb.DuckDBPyConnection, inbox: Path, school_year: str, snap: dict[str, FileStat], res: ChangeCheck
) -> None:
    """Add to `res` the files of `snap` that are new or changed since the recorded state (hashing only
    those whose size or mtime differ) and the files of `year` that vanished."""
    stored = {
        r[0]: (int(r[1]), int(r[2]))
        for r in con.execute(
            "SELECT source_file, size_bytes, mtime_ns FROM ops_inbox_state WHERE school_year = ?",
            [school_year],
        ).fetchall()
    }
    known = {
        r[0]: (r[1], r[2], r[3])
        for r in con.execute(
            "SELECT source_file, file_sha256, status, delivery_year FROM ingest_manifest"
        ).fetchall()
    }
    keys = set()
    for rel, stat in snap.items():  # `rel` as walked (the path), its key as stored (`file_key`)
        key = file_key(rel)
        keys.add(key)
        prev = known.get(key)
        if prev is None or prev[1] == "retired":
            res.changed.append(key)
            continue
        if stored.get(key) == stat:
            continue
        res.files_hashed += 1
        try:
            sha = sha256_of(Path(inbox) / rel)
        except OSError:
            sha = ""
        if sha != prev[0]:
            res.changed.append(key)
    for rel, (_sha, status, delivery_year) in known.items():
        if status == "retired" or rel in keys:
            continue
        if delivery_year in (None, school_year):  # a file of this year vanished: it must be retired
            res.changed.append(rel)


def check_changes(
    con: duckdb.DuckDBPyConnection, inbox: Path, school_year: str, snap: dict[str, FileStat], config_sha: str
) -> ChangeCheck:
    """Has anything that feeds `year` changed since the last successful run?"""
    res = ChangeCheck(files_seen=len(snap))
    res.reason = _rerun_reason(con, school_year, config_sha)
    if res.reason:
        return res
    _compare_files(con, inbox, school_year, snap, res)
    if res.changed:
        res.reason = f"{len(res.changed)} file(s) new, changed or removed"
    return res


def record_state(
    con: duckdb.DuckDBPyConnection, school_year: str, snap: dict[str, FileStat], config_sha: str
) -> None:
    """Remember the snapshot taken at the start of a successful run (one transaction)."""
    for ddl in STATE_DDL:
        con.execute(ddl)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM ops_inbox_state WHERE school_year = ?", [school_year])
        if snap:  # one statement (executemany costs a statement per file)
            con.execute(
                "INSERT INTO ops_inbox_state SELECT ?, unnest(?::VARCHAR[]), unnest(?::BIGINT[]), "
                "unnest(?::BIGINT[])",
                [
                    school_year,
                    [file_key(r) for r in snap],
                    [s for s, _ in snap.values()],
                    [m for _, m in snap.values()],
                ],
            )
        con.execute("DELETE FROM ops_run_state WHERE school_year = ?", [school_year])
        con.execute(
            "INSERT INTO ops_run_state VALUES (?, ?, ?, ?)",
            [school_year, config_sha, fingerprint(snap), dt.datetime.now()],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def invalidate_state(con: duckdb.DuckDBPyConnection, school_year: str | None) -> None:
    """Forget the last successful run of `year` (all years when None): called when a run starts, so a
    run that fails or is killed half-way can never let the next `cds run` take the no-change path."""
    if not _table_exists(con, "ops_run_state"):
        return
    if school_year:
        con.execute("DELETE FROM ops_run_state WHERE school_year = ?", [school_year])
    else:
        con.execute("DELETE FROM ops_run_state")
