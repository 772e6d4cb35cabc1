"""Issue 24: a school registry that lists a school code twice with different details is an error on both
rows (`duplicate_school_code`, named in Vietnamese in the data-quality report), and the run keeps the
previous registry entry for that code: the school does not silently change level. The other schools'
entries and every school's rows equal a run with the correct registry."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from reports.data_quality import collect, render
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
REGISTRY = (
    Path(__file__).resolve().parents[2]
    / "sample_exports"
    / "inbox"
    / YEAR
    / "province"
    / "DanhSachTruong.xlsx"
)
REG = f"{YEAR}/province/DanhSachTruong.xlsx"
SCHOOLS = (
    "SELECT school_code, school_year, name, level, ownership, commune_code, management_platform "
    "FROM raw_school ORDER BY ALL"
)
ROWS = "SELECT * EXCLUDE (ingested_at) FROM raw_facility ORDER BY ALL"


def write_registry_with_twin(path: Path) -> None:
    """The sample registry (schools 08000001–05, rows 8–12) with a second row for 08000002 (a THCS) that
    says THPT and another name, inserted after the last school (row 13)."""
    wb = openpyxl.load_workbook(REGISTRY)
    ws = wb.active
    ws.insert_rows(13)
    for col, value in enumerate(
        [
            6,
            "08000002",
            "Trường THPT Thạnh Vân",
            "THPT",
            "Công lập",
            None,
            "08",
            "02215",
            "Xã Thạnh Vân",
            "Sở GD&ĐT",
            1,
            None,
            "x",
            "SMAS",
        ],
        start=1,
    ):
        ws.cell(13, col, value)
    wb.save(path)


def test_registry_code_listed_twice_keeps_the_previous_entry(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / YEAR / "province").mkdir(parents=True)
    shutil.copyfile(REGISTRY, root / REG)
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    before = con.execute(SCHOOLS).fetchall()
    rows_before = con.execute(ROWS).fetchall()
    assert ("08000002", YEAR, "Trường THCS Thạnh Vân", "THCS") in [r[:4] for r in before]

    write_registry_with_twin(root / REG)
    run = ingest_inbox(con, root, YEAR, hash_key="k")
    assert run.changed
    assert con.execute(SCHOOLS).fetchall() == before  # 08000002 is still the THCS of the last registry
    assert con.execute(ROWS).fetchall() == rows_before
    status, kept, rejected = con.execute(
        "SELECT status, rows_kept, rows_rejected FROM ingest_manifest WHERE source_file = ?", [REG]
    ).fetchone()
    assert (status, kept, rejected) == ("partly_loaded", 4, 2)
    rejects = con.execute(
        "SELECT source_row, column_letter, value, message FROM dq_quarantine_rows "
        "WHERE source_file = ? AND reason_code = 'duplicate_school_code' ORDER BY source_row",
        [REG],
    ).fetchall()
    assert [r[:3] for r in rejects] == [(9, "B", "08000002"), (13, "B", "08000002")]
    assert "Mã trường xuất hiện nhiều lần trong danh sách trường" in rejects[0][3]
    assert "các dòng 9, 13" in rejects[0][3] and "lần nạp trước" in rejects[0][3]
    html = render(collect(con, YEAR, with_audits=False))
    assert "DanhSachTruong.xlsx" in html and "Mã trường xuất hiện nhiều lần trong danh sách trường" in html

    again = ingest_inbox(con, root, YEAR, hash_key="k")  # nothing new: nothing changes
    assert not again.changed
    assert con.execute(SCHOOLS).fetchall() == before

    # corrected: the registry's new details are taken
    wb = openpyxl.load_workbook(root / REG)
    wb.active.delete_rows(13)
    wb.active.cell(9, 4, "THPT")
    wb.save(root / REG)
    ingest_inbox(con, root, YEAR, hash_key="k")
    assert ("08000002", YEAR, "Trường THCS Thạnh Vân", "THPT") in [
        r[:4] for r in con.execute(SCHOOLS).fetchall()
    ]
    assert not con.execute("SELECT count(*) FROM dq_quarantine_rows WHERE source_file = ?", [REG]).fetchone()[
        0
    ]


def test_first_registry_with_a_twin_code_gives_that_school_no_entry(tmp_path: Path) -> None:
    """No previous entry to keep: the code has none (both rows rejected), so its school's files wait
    (`unknown_school`) rather than load under a level picked by row order; the other schools load."""
    root = tmp_path / "in"
    (root / YEAR / "province").mkdir(parents=True)
    write_registry_with_twin(root / REG)
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    codes = [r[0] for r in con.execute("SELECT school_code FROM raw_school ORDER BY 1").fetchall()]
    assert codes == ["08000001", "08000003", "08000004", "08000005"]
    assert con.execute(
        "SELECT reason_code FROM ingest_manifest WHERE source_file = ?", [f"{YEAR}/08000002/PhongHoc.xlsx"]
    ).fetchone() == ("unknown_school",)
    loaded = dict(con.execute("SELECT school_code, count(*) FROM raw_facility GROUP BY 1").fetchall())
    assert loaded == {s: len(r) for s, r in ROOMS.items() if s != "08000002"}
