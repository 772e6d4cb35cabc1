"""Issue 24: files still being written. A file modified less than `settle_s` seconds before the run (or
written to while the run read it) is deferred to the next run: not read, not retired, its previous
version kept, listed in the run's events and the data-quality report, and the next `cds run` does not
take the no-change path while it waits. A CSV whose last line is cut (no final line break, fewer fields
than the header) has that row rejected as `truncated_row`; the rows before it load."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from connectors.filedrop import plan as filedrop_plan
from pipelines.inbox_state import check_changes, record_state, snapshot
from pipelines.settings import get_settings
from reports.data_quality import collect, render
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
ROWS = "SELECT source_file, room_code FROM raw_facility ORDER BY ALL"
HEADER = "STT,Mã phòng,Tên phòng,Loại phòng,Máy chiếu/Ti vi,Kết nối Internet"


def age(path: Path, seconds: float = 3600) -> None:
    """Set a file's modification time `seconds` in the past (written and finished long ago)."""
    t = time.time() - seconds
    os.utime(path, (t, t))


def deferred_events(con, run_id: str) -> list[str]:
    rows = con.execute(
        "SELECT source_file FROM ingest_events WHERE run_id = ? AND action = 'deferred' ORDER BY 1", [run_id]
    ).fetchall()
    return [r[0] for r in rows]


def test_files_modified_a_moment_ago_wait_for_the_next_run(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CDS_INGEST_SETTLE_SECONDS")
    assert get_settings().ingest_settle_seconds == 60  # the default; the test suite sets 0
    root = tmp_path / "in"
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
        age(root / YEAR / school / "PhongHoc.xlsx")
    con = raw_store.connect(":memory:")
    first = ingest_inbox(con, root, YEAR, hash_key="k", settle_s=60)
    assert first.deferred == [] and first.ingested == 3
    before = con.execute(ROWS).fetchall()

    changed = root / YEAR / "08000001" / "PhongHoc.xlsx"  # being re-saved with one more room
    write_rooms(changed, "08000001", [*ROOMS["08000001"], ("P05", "Phòng học", "x", "x")])
    new = root / YEAR / "08000002" / "PhongChucNang.xlsx"  # being copied in
    write_rooms(new, "08000002", [("A9", "Phòng Tin học", "x", "x")])
    snap = snapshot(root, YEAR)
    run = ingest_inbox(con, root, YEAR, hash_key="k", settle_s=60)
    waiting = sorted([f"{YEAR}/08000001/PhongHoc.xlsx", f"{YEAR}/08000002/PhongChucNang.xlsx"])
    assert sorted(run.deferred) == waiting and not run.changed
    assert con.execute(ROWS).fetchall() == before  # the previous version stays, nothing retired
    assert deferred_events(con, run.run_id) == waiting
    html = render(collect(con, YEAR, with_audits=False))
    assert "Tệp đang được ghi, chưa đọc" in html and "PhongChucNang.xlsx" in html
    record_state(con, YEAR, snap, "cfg")  # as `cds run` does after a successful run
    assert check_changes(con, root, YEAR, snapshot(root, YEAR), "cfg").has_changes  # the files still wait

    age(changed)
    age(new)
    done = ingest_inbox(con, root, YEAR, hash_key="k", settle_s=60)
    assert done.deferred == [] and done.replaced == 1 and done.ingested == 1
    codes = {c for _, c in con.execute(ROWS).fetchall()}
    assert {"P05", "A9"} <= codes
    assert "Tệp đang được ghi" not in render(collect(con, YEAR, with_audits=False))
    record_state(con, YEAR, snapshot(root, YEAR), "cfg")
    assert not check_changes(con, root, YEAR, snapshot(root, YEAR), "cfg").has_changes


def test_a_file_written_while_it_is_read_is_deferred(tmp_path: Path, monkeypatch) -> None:
    """A writer appends to a CSV while the run hashes it (its mtime was old: the settle time does not
    catch it); the change of size seen after the hash defers it."""
    root = tmp_path / "in"
    csv = root / YEAR / "08000001" / "Phong.csv"
    csv.parent.mkdir(parents=True)
    csv.write_text("\r\n".join([HEADER, "1,C1,Phòng C1,Phòng học,x,x"]) + "\r\n", encoding="utf-8")
    age(csv)
    real_hash = filedrop_plan._hash

    def hash_then_append(path: Path, size: int, hold: bool):  # the other writer, racing the read
        got = real_hash(path, size, hold)
        with path.open("a", encoding="utf-8") as f:
            f.write("2,C2,Phòng C2,Phòng học,x,x\r\n")
        return got

    monkeypatch.setattr(filedrop_plan, "_hash", hash_then_append)
    con = raw_store.connect(":memory:")
    run = ingest_inbox(con, root, YEAR, hash_key="k", settle_s=60)
    assert run.deferred == [f"{YEAR}/08000001/Phong.csv"]
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 0
    monkeypatch.setattr(filedrop_plan, "_hash", real_hash)
    ingest_inbox(con, root, YEAR, hash_key="k", settle_s=0)
    assert [r[0] for r in con.execute("SELECT room_code FROM raw_facility ORDER BY 1").fetchall()] == [
        "C1",
        "C2",
    ]


def test_a_csv_whose_last_line_is_cut_rejects_that_row(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
    clean = raw_store.connect(":memory:")
    ingest_inbox(clean, root, YEAR, hash_key="k")
    folder = root / YEAR / "08000001"
    lines = [HEADER] + [f"{i},C{i},Phòng C{i},Phòng học,x,x" for i in range(1, 6)]
    (folder / "cat.csv").write_bytes(("\r\n".join(lines) + "\r\n6,C6,Phòng C").encode())  # cut mid-row
    (folder / "du.csv").write_bytes("\r\n".join(lines).encode())  # no final line break, last row whole
    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    cut = f"{YEAR}/08000001/cat.csv"
    codes = con.execute(
        "SELECT room_code FROM raw_facility WHERE source_file = ? ORDER BY 1", [cut]
    ).fetchall()
    assert [c[0] for c in codes] == [f"C{i}" for i in range(1, 6)]
    status, kept, rejected = con.execute(
        "SELECT status, rows_kept, rows_rejected FROM ingest_manifest WHERE source_file = ?", [cut]
    ).fetchone()
    assert (status, kept, rejected) == ("partly_loaded", 5, 1)
    row, message = con.execute(
        "SELECT source_row, message FROM dq_quarantine_rows WHERE source_file = ? AND reason_code "
        "= 'truncated_row'",
        [cut],
    ).fetchone()
    assert (
        row == 7 and "cat.csv" in message and "bị cắt dở" in message and "6 cột, dòng chỉ có 3 cột" in message
    )
    assert "cat.csv" in render(collect(con, YEAR, with_audits=False))
    whole = con.execute(
        "SELECT count(*) FROM raw_facility WHERE source_file = ?", [f"{YEAR}/08000001/du.csv"]
    ).fetchone()[0]
    assert whole == 5
    q = (
        "SELECT * EXCLUDE (ingested_at) FROM raw_facility WHERE NOT ends_with(source_file, "
        "'.csv') ORDER BY ALL"
    )
    assert con.execute(q).fetchall() == clean.execute(q).fetchall()
