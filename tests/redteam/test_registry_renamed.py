"""Issue 24 (the registry's duplicate-code rule across files): the run keeps the previous registry entry
of a code listed twice even when that entry came from another registry file, e.g. the Sở renames its
registry (`DanhSachTruong.xlsx` → `DanhSachTruong_2025.xlsx`) and the new one lists 08000002 twice. The
school keeps its THCS entry (before: it lost its only entry when the old file was retired, and its
files waited as `unknown_school`); the entry goes with the new file once that is corrected. The same
when the old registry is removed a run after the new one arrived."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from tests.integration.test_registry_duplicates import REGISTRY, ROWS, SCHOOLS, write_registry_with_twin
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
OLD = f"{YEAR}/province/DanhSachTruong.xlsx"
NEW = f"{YEAR}/province/DanhSachTruong_2025.xlsx"
LEVEL = "SELECT level, source_file FROM raw_school WHERE school_code = '08000002'"


def first_run(root: Path):
    (root / YEAR / "province").mkdir(parents=True)
    shutil.copyfile(REGISTRY, root / OLD)
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    return con, [r[:4] for r in con.execute(SCHOOLS).fetchall()], con.execute(ROWS).fetchall()


@pytest.mark.parametrize("same_run", [True, False], ids=["renamed", "old_removed_a_run_later"])
def test_the_previous_entry_from_another_registry_file_is_kept(tmp_path: Path, same_run: bool) -> None:
    root = tmp_path / "in"
    con, schools, rows = first_run(root)
    write_registry_with_twin(root / NEW)
    if same_run:
        (root / OLD).unlink()
    ingest_inbox(con, root, YEAR, hash_key="k")
    if not same_run:  # both registries: the old one still holds the entry
        assert con.execute(LEVEL).fetchall() == [("THCS", OLD)]
        (root / OLD).unlink()
        ingest_inbox(con, root, YEAR, hash_key="k")
    assert con.execute(LEVEL).fetchall() == [("THCS", NEW)]  # kept, now with the file that lists it twice
    assert [r[:4] for r in con.execute(SCHOOLS).fetchall()] == schools
    assert con.execute(ROWS).fetchall() == rows  # 08000002's rooms still load (not `unknown_school`)
    codes = con.execute(
        "SELECT DISTINCT value FROM dq_quarantine_rows WHERE reason_code = 'duplicate_school_code'"
    ).fetchall()
    assert codes == [("08000002",)]
    again = ingest_inbox(con, root, YEAR, hash_key="k")
    assert not again.changed and con.execute(LEVEL).fetchall() == [("THCS", NEW)]

    wb = openpyxl.load_workbook(root / NEW)  # corrected: one row, THPT
    wb.active.delete_rows(13)
    wb.active.cell(9, 4, "THPT")
    wb.save(root / NEW)
    ingest_inbox(con, root, YEAR, hash_key="k")
    assert con.execute(LEVEL).fetchall() == [("THPT", NEW)]


def test_no_entry_is_invented_when_another_file_still_holds_the_code(tmp_path: Path) -> None:
    """A registry file removed while another live file holds the code: nothing passes over (the live
    entry stays the only one)."""
    root = tmp_path / "in"
    con, _, _ = first_run(root)
    shutil.copyfile(root / OLD, root / f"{YEAR}/province/DanhSachTruong_ban_sao_sua.xlsx")
    wb = openpyxl.load_workbook(root / f"{YEAR}/province/DanhSachTruong_ban_sao_sua.xlsx")
    wb.active.cell(8, 3, "Trường Tiểu học Thủy Thượng (sửa)")  # not byte-identical: both are read
    wb.save(root / f"{YEAR}/province/DanhSachTruong_ban_sao_sua.xlsx")
    write_registry_with_twin(root / NEW)
    (root / OLD).unlink()
    ingest_inbox(con, root, YEAR, hash_key="k")
    assert con.execute(LEVEL).fetchall() == [("THCS", f"{YEAR}/province/DanhSachTruong_ban_sao_sua.xlsx")]
