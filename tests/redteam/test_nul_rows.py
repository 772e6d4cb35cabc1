"""Issue 24 (CSV: "a NUL or a bad row rejects that row, never the file"): a CSV row with a NUL character
in a cell is rejected as `nul_character` naming the cell (the NUL shown as ␀); before, the row loaded
with the NUL inside its values (room code `C\\x003`). The other rows of the file load."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from reports.data_quality import collect, render
from tests.integration.test_slice import YEAR

pytestmark = pytest.mark.integration
HEADER = "STT,Mã phòng,Tên phòng,Loại phòng,Máy chiếu/Ti vi,Kết nối Internet"
REL = f"{YEAR}/08000001/Phong_nul.csv"


def test_a_nul_in_a_row_rejects_that_row(tmp_path: Path) -> None:
    lines = [HEADER] + [f"{i},C{i},Phòng C{i},Phòng học,x,x" for i in range(1, 9)]
    lines[3] = "3,C\x003,Phòng C3,Phòng học,x,x"  # in the key
    lines[6] = "6,C6,Phòng\x00 C6,Phòng học,x,x"  # in another column
    path = tmp_path / REL
    path.parent.mkdir(parents=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    con = raw_store.connect(":memory:")
    ingest_inbox(con, tmp_path, YEAR, hash_key="k")
    codes = [r[0] for r in con.execute("SELECT room_code FROM raw_facility ORDER BY source_row").fetchall()]
    assert codes == ["C1", "C2", "C4", "C5", "C7", "C8"]
    nul = "SELECT count(*) FROM raw_facility WHERE contains(room_name, chr(0)) OR contains(room_code, chr(0))"
    assert con.execute(nul).fetchone() == (0,)
    status, kept, rejected = con.execute(
        "SELECT status, rows_kept, rows_rejected FROM ingest_manifest WHERE source_file = ?", [REL]
    ).fetchone()
    assert (status, kept, rejected) == ("partly_loaded", 6, 2)
    rejects = con.execute(
        "SELECT source_row, column_letter, value, message FROM dq_quarantine_rows ORDER BY source_row"
    ).fetchall()
    assert [r[:3] for r in rejects] == [(4, "B", "C␀3"), (7, "C", "Phòng␀ C6")]
    assert all("Dòng có ký tự NUL" in r[3] and "\x00" not in r[3] for r in rejects)
    html = render(collect(con, YEAR, with_audits=False))
    assert "Phong_nul.csv" in html and "Dòng có ký tự NUL" in html


def test_a_blank_key_is_not_shown_as_nan(tmp_path: Path) -> None:
    """Found by the red-team run: a row whose key cell is blank was rejected with «giá trị 'nan'» (the
    parser's NaN printed by Python) in its Vietnamese message; a blank cell has no value to show."""
    lines = [
        HEADER,
        "1,C1,Phòng C1,Phòng học,x,x",
        "2,,Phòng không mã,Phòng học,x,x",
        "3,C3,Phòng C3,Phòng học,x,x",
    ]
    path = tmp_path / REL
    path.parent.mkdir(parents=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    con = raw_store.connect(":memory:")
    ingest_inbox(con, tmp_path, YEAR, hash_key="k")
    value, message = con.execute(
        "SELECT value, message FROM dq_quarantine_rows WHERE reason_code = 'missing_key'"
    ).fetchone()
    assert value is None and "'nan'" not in message and "Thiếu giá trị ở cột khóa; yêu cầu" in message
