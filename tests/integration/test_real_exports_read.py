"""Issue 19, real exports read by the connectors (files built by the generator's real-export writers from
docs/real_exports.md, with made-up pupils): the layout chosen, the metadata, the records per pupil, and
that no column is left unaccounted. One test per structure as its layout lands; today R4.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from connectors.layouts import load_layouts
from connectors.text import header_forms
from sample_exports.generator import real_lists as RL

pytestmark = pytest.mark.integration
YEAR = "2024-2025"


def _ingest(inbox: Path) -> duckdb.DuckDBPyConnection:
    con = raw_store.connect(":memory:")
    ingest_inbox(con, inbox, hash_key="test")
    return con


def test_r4_so_student_list_loads_as_students_not_staff(tmp_path: Path) -> None:
    """R4 holds every anchor of the CSDL staff layout; its `Lớp học`, `Khối học` and parents' columns
    make it a student list: every pupil of every class sheet is a student row (moet id, status,
    enrolment, class, grade as written), no staff row appears, and the secondary personal columns
    (parents, address, old id card) are read and dropped, not stored."""
    rng = random.Random(4)
    classes = {
        c: RL.fake_students(rng, c, 12, n, province_code="08") for c, n in (("12.6", 30), ("12.7", 25))
    }
    path = tmp_path / "inbox" / YEAR / "08000003" / "DanhSachHocSinh_SoGD.xlsx"
    path.parent.mkdir(parents=True)
    expected = RL.write_so_student_list(path, classes, province_name="Tuyên Quang", commune="Xã Sơn Phú")
    con = _ingest(tmp_path / "inbox")

    manifest = con.execute(
        "SELECT status, layout_ids, entities, rows_read, rows_kept FROM ingest_manifest"
    ).fetchall()
    assert manifest == [("loaded", "csdl.student_list_so.v1", "student", 55, 55)]
    assert expected.layout == "csdl.student_list_so"
    assert con.execute("SELECT count(*) FROM raw_staff").fetchone()[0] == 0
    got = {
        (r[0], r[1]): r[2:]
        for r in con.execute(
            "SELECT source_sheet, source_row, moet_id, status, is_enrolled, class_name, grade, school_code, "
            "school_year FROM raw_student"
        ).fetchall()
    }
    want = {
        (sheet.name, rec["row"]): (rec["moet_id"], rec["status"], rec["is_enrolled"], rec["class_name"],
                                   rec["grade"], "08000003", YEAR)
        for sheet in expected.sheets
        for rec in sheet.records
    }  # fmt: skip
    assert got == want
    # no column left unaccounted: every non-empty header of the file is a column of the layout
    layout = next(lay for lay in load_layouts() if lay.id == "csdl.student_list_so.v1")
    known = {f for spec in layout.columns.values() for h in spec.headers for f in header_forms(h)}
    for sheet in expected.sheets:
        for col in sheet.columns:
            assert set(header_forms(col.path[-1])) & known, f"{sheet.name} {col.letter} {col.path} not read"
    assert con.execute("SELECT count(*) FROM raw_student WHERE src_extra IS NOT NULL").fetchone()[0] == 0
