"""Issue 24: a kill after the last file batch commits and before cross-file references are resolved
no longer leaves the warehouse wrong for good. The ingest records the post-commit work as pending
(`ingest_pending`, committed before any file) and clears it only once it is done; the next run redoes it
even when no file changed. The test kills a real ingest process with SIGKILL exactly in that window (at
the start of the reference resolution), checks the killed warehouse is missing the resolved ids, and
that the next run gives the raw tables of an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from connectors import raw_store
from connectors.entities import load_entities
from connectors.filedrop import ingest_inbox
from tests.corpus import harness

pytestmark = [pytest.mark.integration, pytest.mark.slow]
YEAR = "2024-2025"
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"

KILLED_RUN = """
import os, signal, sys
from connectors import raw_store, references
from connectors.filedrop import ingest_inbox

def killed(con):  # the process dies exactly where the post-commit work starts
    os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":
    references.resolve_all = killed
    con = raw_store.connect(sys.argv[1])
    ingest_inbox(con, sys.argv[2], sys.argv[3], hash_key="k")
"""


def dump(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    tables = [e.table for e in load_entities().values()] + ["ingest_warnings"]
    return {
        t: con.execute(f"SELECT * EXCLUDE (ingested_at) FROM {t} ORDER BY ALL").fetchall()
        if t != "ingest_warnings"
        else con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        for t in tables
    }


def test_a_kill_before_the_references_are_resolved_is_repaired_by_the_next_run(tmp_path: Path) -> None:
    ref = raw_store.connect(tmp_path / "ref.duckdb")
    ingest_inbox(ref, INBOX, YEAR, hash_key="k")
    want = dump(ref)

    wh = tmp_path / "wh.duckdb"
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN)
    proc = subprocess.run(
        [sys.executable, str(script), str(wh), str(INBOX), YEAR],
        cwd=harness.REPO_ROOT,
        env=harness.child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]

    con = raw_store.connect(wh)
    assert raw_store.is_pending(con, "finalise")
    assert dump(con) != want  # the window matters: the committed rows lack their resolved references

    again = ingest_inbox(con, INBOX, YEAR, hash_key="k")
    assert not again.changed  # no file changed, yet the pending work is done
    assert dump(con) == want
    assert not raw_store.is_pending(con, "finalise")
    assert not ingest_inbox(con, INBOX, YEAR, hash_key="k").changed
