"""Issue 24: a school folder the pipeline's account may not list (permission denied on the directory)
is reported, not silently skipped: the manifest holds a row for the folder (`<year>/<school>/`,
quarantined as `unreadable_folder`), the data-quality report names it in Vietnamese, the run goes on
with the other schools, and the files loaded from that folder before are kept (not retired) until it
can be read again; then the folder's row is retired and nothing else changes.

Permissions are real: the ingest runs in a child process that obeys them even when the tests run as
root (it drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, `harness.permissions_apply`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from connectors.messages import reason_text
from reports.data_quality import collect, render
from tests.corpus import harness

pytestmark = pytest.mark.integration
YEAR = harness.YEAR
FOLDER = f"{YEAR}/08000002/"
ROWS = "SELECT source_file, room_code FROM raw_facility ORDER BY ALL"
MANIFEST = "SELECT source_file, status, reason_code, reason FROM ingest_manifest ORDER BY ALL"


def ingest(inbox: Path, db: Path, log: Path) -> None:
    done = harness.run_limited(["ingest", str(inbox), str(db), str(log)], timeout=300, unprivileged=True)
    assert done.returncode == 0, done.stderr[-3000:]


def state(db: Path) -> tuple[list, dict[str, tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(ROWS).fetchall(), {r[0]: r[1:] for r in con.execute(MANIFEST).fetchall()}
    finally:
        con.close()


@pytest.mark.skipif(harness.permissions_apply() is not None, reason=str(harness.permissions_apply()))
def test_a_folder_that_cannot_be_listed_is_reported_and_its_data_kept(tmp_path: Path) -> None:
    inbox = harness.good_inbox(tmp_path / "in")
    db, log = tmp_path / "w.duckdb", tmp_path / "run.log"
    ingest(inbox, db, log)
    rows_before, files_before = state(db)
    assert any(f.startswith(FOLDER) for f, _ in rows_before)

    folder = inbox / FOLDER
    folder.chmod(0)
    try:
        ingest(inbox, db, log)
        rows, files = state(db)
    finally:
        folder.chmod(0o755)
    status, code, reason = files[FOLDER]
    assert (status, code) == ("quarantined", "unreadable_folder")
    assert reason.startswith(reason_text("unreadable_folder")) and f"thư mục “{FOLDER}”" in reason
    assert str(tmp_path) not in reason
    assert rows == rows_before  # the folder's rooms are kept, the other schools' are as they were
    assert {f: v for f, v in files.items() if f != FOLDER} == files_before  # nothing retired
    con = duckdb.connect(str(db))
    try:
        html = render(collect(con, YEAR, with_audits=False))
    finally:
        con.close()
    assert FOLDER in html and "Máy chủ không có quyền mở thư mục nộp" in html

    ingest(inbox, db, log)  # readable again: the folder's row goes, its files are unchanged (skipped)
    rows, files = state(db)
    assert rows == rows_before and files[FOLDER][0] == "retired"
    assert {f: v for f, v in files.items() if f != FOLDER} == files_before


@pytest.mark.skipif(harness.permissions_apply() is not None, reason=str(harness.permissions_apply()))
def test_an_inbox_that_cannot_be_listed_is_refused_in_vietnamese(tmp_path: Path) -> None:
    """The inbox folder itself unreadable is the deployment's error, not a school's: the run is refused
    before it touches the warehouse, with a Vietnamese sentence saying what to fix (no English traceback)."""
    inbox = harness.good_inbox(tmp_path / "in")
    db, out, log = tmp_path / "w.duckdb", tmp_path / "out", tmp_path / "run.log"
    inbox.chmod(0)
    try:
        done = harness.run_limited(
            ["run", str(inbox), str(db), str(out), str(log)], timeout=300, unprivileged=True
        )
    finally:
        inbox.chmod(0o755)
    assert done.returncode == 1, done.stderr[-3000:]
    console = log.with_suffix(".console").read_text(encoding="utf-8")
    assert "Không mở được thư mục nhận tệp" in console and "không có quyền đọc" in console, console
    assert "Traceback" not in done.stderr and "PermissionError" not in console
    assert not db.exists(), "refused before the warehouse is created"
