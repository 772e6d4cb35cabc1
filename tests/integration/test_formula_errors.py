"""Issue 24: a cell whose cached formula result is an error (`#DIV/0!`, `#REF!`) is no longer read as a
blank: the reader puts the error text back in its cell, so a value the layout parses is rejected naming
the file, sheet, row and column with the error shown, in the data-quality report too; the other rows
and the other schools load as in a run without the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import xlsxwriter

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from reports.data_quality import collect, render
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
REGISTRY = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox" / YEAR / "province"
REL = f"{YEAR}/08000001/PhongMay.xlsx"


def write_with_errors(path: Path) -> None:
    """A room list whose computer count is `=1/0` (cached `#DIV/0!`) in its second room."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("DanhSachPhong")
    ws.write_row(0, 0, [f"Năm học: {YEAR}"])
    ws.write_row(
        1,
        0,
        ["STT", "Mã phòng", "Tên phòng", "Loại phòng", "Máy chiếu/Ti vi", "Kết nối Internet", "Số máy tính"],
    )
    for i, code in enumerate(("M1", "M2", "M3")):
        ws.write_row(2 + i, 0, [i + 1, code, f"Phòng {code}", "Phòng Tin học", "x", "x"])
        if code == "M2":
            ws.write_formula(2 + i, 6, "=1/0", None, "#DIV/0!")
        else:
            ws.write_number(2 + i, 6, 20)
    wb.close()


def test_a_cached_formula_error_is_a_reject_naming_the_cell(tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(REGISTRY, base / YEAR / "province")
    for school, rooms in ROOMS.items():
        write_rooms(base / YEAR / school / "PhongHoc.xlsx", school, rooms)
    root = tmp_path / "in"
    shutil.copytree(base, root)
    write_with_errors(root / REL)

    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    loaded = con.execute(
        "SELECT room_code, computers_total FROM raw_facility WHERE source_file = ? ORDER BY 1", [REL]
    ).fetchall()
    assert loaded == [("M1", 20), ("M3", 20)]  # M2 is not loaded with a blank count
    rejects = con.execute(
        "SELECT source_sheet, source_row, column_letter, value, message FROM dq_quarantine_rows "
        "WHERE source_file = ?",
        [REL],
    ).fetchall()
    assert [r[:4] for r in rejects] == [("DanhSachPhong", 4, "G", "#DIV/0!")]
    assert "dòng 4" in rejects[0][4] and "cột G" in rejects[0][4]

    clean = raw_store.connect(":memory:")
    ingest_inbox(clean, base, YEAR, hash_key="k")
    q = "SELECT * EXCLUDE (ingested_at) FROM raw_facility WHERE source_file <> ? ORDER BY ALL"
    assert con.execute(q, [REL]).fetchall() == clean.execute(q, [REL]).fetchall()

    html = render(collect(con, YEAR, with_audits=False))
    assert "PhongMay.xlsx" in html and "#DIV/0!" in html
