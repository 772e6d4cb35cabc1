"""Issue 19, real exports read by the connectors (files built by the generator's real-export writers from
docs/real_exports.md, with made-up pupils): the layout chosen, the metadata, the records per pupil, and
that no column is left unaccounted. One test per structure as its layout lands.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

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
        (sheet.name, rec["row"]): (
            rec["moet_id"],
            rec["status"],
            rec["is_enrolled"],
            rec["class_name"],
            rec["grade"],
            "08000003",
            YEAR,
        )
        for sheet in expected.sheets
        for rec in sheet.records
    }
    assert got == want
    # no column left unaccounted: every non-empty header of the file is a column of the layout
    layout = next(lay for lay in load_layouts() if lay.id == "csdl.student_list_so.v1")
    known = {f for spec in layout.columns.values() for h in spec.headers for f in header_forms(h)}
    for sheet in expected.sheets:
        for col in sheet.columns:
            assert set(header_forms(col.path[-1])) & known, f"{sheet.name} {col.letter} {col.path} not read"
    assert con.execute("SELECT count(*) FROM raw_student WHERE src_extra IS NOT NULL").fetchone()[0] == 0


# ------------------------------------------------------------------------------------ helpers (R1–R5)
def _accounting(path: Path) -> dict[str, list]:
    """Per sheet of a file: its chosen layout and every column's use (`reshapers.account_columns`)."""
    from connectors.filedrop import choose
    from connectors.readers import read_grids
    from connectors.reshapers import account_columns
    from connectors.sheet_parser import find_headers

    out: dict[str, list] = {}
    for grid in read_grids(path):
        match, _err = choose(find_headers(grid, load_layouts()))
        if match is not None:
            out[grid.sheet] = [match.layout.id, account_columns(grid, match)]
    return out


def _tt27_values(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], set]:
    """(sheet, row) → {(subject, component, value)} of the stored TT27 records."""
    got: dict[tuple[str, int], set] = {}
    for sheet, row, subj, comp, num, text in con.execute(
        "SELECT source_sheet, source_row, subject_code, component, value_num, value_text FROM raw_grade_entry"
    ).fetchall():
        if comp in ("promoted", "completed"):
            value: object = bool(num)
        elif comp == "test_score":
            value = int(num)
        else:
            value = text
        got.setdefault((sheet, row), set()).add((subj, comp, value))
    return got


def _write_vnedu(
    tmp_path: Path, period: str, tick: str = "\uf0fc", grade: int = 4, **options: Any
) -> tuple[Path, object]:
    from sample_exports.generator import real_primary as RP

    rng = random.Random(11)
    used: set[str] = set()
    classes = [
        RP.fake_primary_class(rng, f"{grade}A", grade, 12, year_end_results=period == "CN", used=used),
        RP.fake_primary_class(rng, f"{grade}B", grade, 9, year_end_results=period == "CN", used=used),
    ]
    path = tmp_path / "inbox" / YEAR / "08000001" / RP.vnedu_summary_file_name(grade)
    path.parent.mkdir(parents=True)
    exp = RP.write_vnedu_summary(
        path,
        classes,
        school_name="Trường Tiểu học Tân Hòa",
        district="Sơn Dương",
        year=YEAR,
        period=period,
        tick=tick,
        **options,
    )
    return path, exp


@pytest.mark.parametrize(
    ("structure", "period", "tick"),
    [("R1", "CN", "\uf0fc"), ("R1", "CN", "x"), ("R1", "CN", "✔"), ("R2", "CK1", "\uf0fc")],
)
def test_r1_r2_vnedu_summary_book_every_value_per_pupil(
    tmp_path: Path, structure: str, period: str, tick: str
) -> None:
    """The vnEdu primary summary book (R1 end of year, R2 first semester; `.xls` container xlrd refuses)
    is read as the vnEdu layout, never the CSDL import layout: the period from the title line only, the
    year from the title, the school from the folder; the 4 header tiers read from the file; every subject
    level, test score, competence and quality per pupil, plus at CN the final result from the ticked
    `Đánh giá KQGD` column and `Chưa lên lớp` as not promoted (ticks of any vendor); vnEdu local ids
    are the key and never a MOET id; every non-empty column is read, except the awards, listed."""
    path, exp = _write_vnedu(tmp_path, period, tick)
    assert exp.structure == structure
    con = _ingest(tmp_path / "inbox")
    n_pupils = sum(len(s.records) for s in exp.sheets)
    manifest = con.execute("SELECT status, layout_ids, rows_read, rows_kept FROM ingest_manifest").fetchall()
    assert manifest == [("loaded", "vnedu.tt27_summary.v1", n_pupils, n_pupils)]
    meta = con.execute(
        "SELECT DISTINCT school_code, school_year, period, semester, source_system, moet_id FROM "
        "raw_grade_entry"
    ).fetchall()
    assert meta == [("08000001", YEAR, period, "CN" if period == "CN" else "1", "vnedu", None)]
    got = _tt27_values(con)
    want = {
        (sheet.name, rec["row"]): {tuple(v) for v in rec["values"]}
        for sheet in exp.sheets
        for rec in sheet.records
    }
    assert got == want
    per_pupil = {len(v) for v in want.values()}
    assert per_pupil == ({36} if period == "CN" else {34})  # grade 4: 19 subject values + 10 + 5 (+ 2)
    keys = {r[0] for r in con.execute("SELECT DISTINCT student_key FROM raw_grade_entry").fetchall()}
    assert keys == {rec["key"] for sheet in exp.sheets for rec in sheet.records}
    # accounting: each non-empty column is read, the awards (no canonical home) are listed as not read
    for sheet in exp.sheets:
        layout_id, uses = _accounting(path)[sheet.name]
        assert layout_id == "vnedu.tt27_summary.v1"
        by_letter = {u.letter: u for u in uses}
        assert set(sheet.non_empty) <= set(by_letter)
        not_read = {u.letter for u in uses if not u.read}
        awards = {c.letter for c in sheet.columns if c.meaning.startswith("award:")}
        assert not_read == awards, [(u.letter, u.header) for u in uses if not u.read]


@pytest.mark.parametrize("roman", [False, True])
def test_r3_vnedu_lower_secondary_summary_stored_as_term_results(tmp_path: Path, roman: bool) -> None:
    """The vnEdu lower-secondary summary book (R3: abbreviated subjects, semester only in the title
    `HỌC KỲ 2` / `(Học kỳ II)`, `-` for blank) is recognised, never quarantined as unknown: each pupil's
    semester result per subject is stored as a term result (`avg_sem`, a mark or Đ/CĐ) of semester 2;
    `Kết quả học tập`/`rèn luyện` are read and dropped, the absences listed as not read."""
    from sample_exports.generator import real_secondary as RS

    rng = random.Random(3)
    classes = [RS.fake_secondary_class(rng, "6A", 6, 14), RS.fake_secondary_class(rng, "6B", 6, 11)]
    path = tmp_path / "inbox" / YEAR / "08000004" / "tong_hop_ket_qua_khoi_6_HK2.xls"
    path.parent.mkdir(parents=True)
    exp = RS.write_vnedu_tt22_summary(path, classes, year=YEAR, semester=2, roman=roman)
    con = _ingest(tmp_path / "inbox")
    n_pupils = sum(len(s.records) for s in exp.sheets)
    manifest = con.execute("SELECT status, layout_ids, rows_read, rows_kept FROM ingest_manifest").fetchall()
    assert manifest == [("loaded", "vnedu.tt22_summary.v1", n_pupils, n_pupils)]
    meta = con.execute(
        "SELECT DISTINCT school_code, school_year, semester, period, scheme, component, moet_id "
        "FROM raw_grade_entry"
    ).fetchall()
    assert meta == [("08000004", YEAR, "2", "CN", "TT22", "avg_sem", None)]
    got: dict[tuple[str, int], set] = {}
    for sheet, row, cls, subj, num, text in con.execute(
        "SELECT source_sheet, source_row, class_name, subject_code, value_num, value_text FROM "
        "raw_grade_entry"
    ).fetchall():
        assert cls == sheet
        got.setdefault((sheet, row), set()).add((subj, "avg_sem", text if text is not None else num))
    want = {(s.name, r["row"]): {tuple(v) for v in r["values"]} for s in exp.sheets for r in s.records}
    assert got == {k: v for k, v in want.items() if v}
    for sheet in exp.sheets:
        layout_id, uses = _accounting(path)[sheet.name]
        assert layout_id == "vnedu.tt22_summary.v1"
        assert set(sheet.non_empty) <= {u.letter for u in uses}
        not_read = {u.letter for u in uses if not u.read}
        assert not_read == {c.letter for c in sheet.columns if c.meaning.startswith("absence:")}


@pytest.mark.parametrize(
    ("name", "period"),
    [
        ("KQGD_TT27_Khoi1-2_HK1.xlsx", "CK1"),
        ("KQGD_HKI.xlsx", "CK1"),
        ("KQGD_GK1.xlsx", "GK1"),
        ("KQGD_CuoiNam.xlsx", "CN"),
        ("KQGD_Cuoi_nam.xlsx", "CN"),
        ("Kết quả cuối năm.xlsx", "CN"),
        ("KQ CN.xlsx", "CN"),
    ],
)
def test_r5_csdl_tt27_template_period_from_file_name(tmp_path: Path, name: str, period: str) -> None:
    """The CSDL TT27 import template (R5: no title, three tiers from row 1) takes its period from the file
    name; year and school from the delivery folders; every template value per pupil (primary `TH-CN (Tin
    học)` → TINCN); no column unaccounted."""
    from sample_exports.generator import real_primary as RP

    rng = random.Random(5)
    classes = [
        RP.fake_primary_class(rng, "1A", 1, 10, moet_prefix="08"),
        RP.fake_primary_class(rng, "2A", 2, 8, moet_prefix="08"),
    ]
    path = tmp_path / "inbox" / YEAR / "08000001" / name
    path.parent.mkdir(parents=True)
    exp = RP.write_csdl_tt27_import(path, classes, year=YEAR, period=period)
    assert exp.metadata["period"]["value"] == period
    con = _ingest(tmp_path / "inbox")
    n = sum(len(s.records) for s in exp.sheets)
    manifest = con.execute("SELECT status, layout_ids, rows_read, rows_kept FROM ingest_manifest").fetchall()
    assert manifest == [("loaded", "csdl.tt27_import.v1", n, n)]
    meta = con.execute("SELECT DISTINCT school_code, school_year, period FROM raw_grade_entry").fetchall()
    assert meta == [("08000001", YEAR, period)]
    got = _tt27_values(con)
    want = {(s.name, r["row"]): {tuple(v) for v in r["values"]} for s in exp.sheets for r in s.records}
    assert got == want
    for sheet in exp.sheets:
        layout_id, uses = _accounting(path)[sheet.name]
        assert layout_id == "csdl.tt27_import.v1"
        assert "mark:level:TINCN" in {u.use for u in uses}  # `TH-CN (Tin học)`
        assert set(sheet.non_empty) <= {u.letter for u in uses}
        assert [u.letter for u in uses if not u.read and u.non_empty] == []


def test_r5_without_period_in_its_name_is_quarantined_with_how_to_name_it(tmp_path: Path) -> None:
    """R5 whose name says no period: quarantined `missing_metadata`, the message names where the parser
    looked (title, columns, the file name) and how to name the file."""
    from sample_exports.generator import real_primary as RP

    rng = random.Random(6)
    path = tmp_path / "inbox" / YEAR / "08000001" / "KQGD_TT27_Khoi1-2.xlsx"
    path.parent.mkdir(parents=True)
    exp = RP.write_csdl_tt27_import(
        path, [RP.fake_primary_class(rng, "1A", 1, 6, moet_prefix="08")], year=YEAR
    )
    assert exp.quarantine == "missing_metadata"
    con = _ingest(tmp_path / "inbox")
    ((status, code, reason),) = con.execute(
        "SELECT status, reason_code, reason FROM ingest_manifest"
    ).fetchall()
    assert (status, code) == ("quarantined", "missing_metadata")
    assert (
        "kỳ đánh giá" in reason and "tên tệp «KQGD_TT27_Khoi1-2.xlsx»" in reason and "dòng tiêu đề" in reason
    )
    assert "KQGD_TT27_Khoi1-2_HK1.xlsx" in reason and "KQGD_TT27_Khoi1-2_CuoiNam.xlsx" in reason
    assert con.execute("SELECT count(*) FROM raw_grade_entry").fetchone()[0] == 0


def test_cds_inspect_shows_layout_runner_up_tiers_columns_and_metadata(tmp_path: Path) -> None:
    """`cds inspect FILE` on an R1 book: the chosen layout and the runner-up with scores, the 4 header
    tiers, the period and where it was found, each column's use (the awards not read), the first records."""
    from click.testing import CliRunner

    from pipelines.cli import main

    path, exp = _write_vnedu(tmp_path, "CN")
    out = CliRunner().invoke(main, ["inspect", str(path)])
    assert out.exit_code == 0, out.output
    text = out.output
    assert "Mẫu: vnedu.tt27_summary.v1 (" in text and "xếp thứ hai: vnedu.tt27.v1 (" in text
    assert "Tiêu đề cột: dòng 6–9 (4 tầng)" in text
    assert "period = CN (dòng tiêu đề: «BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC CUỐI NĂM HỌC»)" in text
    assert "Khen thưởng / Cuối năm → KHÔNG ĐỌC" in text
    assert "Đánh giá KQGD / Hoàn thành tốt → điểm/đánh giá (final_tick:HTT)" in text
    assert f"Bản ghi: {36 * sum(len(s.records) for s in exp.sheets[:1])}" in text
    first = exp.sheets[0].records[0]["key"]
    assert f"local_id={first}" in text


@pytest.mark.parametrize(
    ("grade", "options"),
    [
        (1, {}),
        (3, {"tick": "1"}),
        (5, {"key_header": "Mã số học sinh", "family_name_column": True}),
        (2, {"footer_titles": True, "tick": "✓", "ethnic_language": True}),
        (4, {"corrupt": False, "key_numeric": False}),
    ],
)
def test_r1_other_grades_and_variants(tmp_path: Path, grade: int, options: dict) -> None:
    """R1 across grades (32 to 49 columns) and the writer's variants (tick `1`/`✓`, `Mã số học sinh`, the
    family-name column, footer titles, `Tiếng dân tộc`, a valid container, text ids): every value per
    pupil, the vnEdu layout, nothing rejected."""
    path, exp = _write_vnedu(tmp_path, "CN", grade=grade, **options)
    con = _ingest(tmp_path / "inbox")
    n_pupils = sum(len(s.records) for s in exp.sheets)
    manifest = con.execute("SELECT status, layout_ids, rows_read, rows_kept FROM ingest_manifest").fetchall()
    assert manifest == [("loaded", "vnedu.tt27_summary.v1", n_pupils, n_pupils)]
    want = {(s.name, r["row"]): {tuple(v) for v in r["values"]} for s in exp.sheets for r in s.records}
    assert _tt27_values(con) == want
    for sheet in exp.sheets:
        _layout, uses = _accounting(path)[sheet.name]
        assert {u.letter for u in uses if not u.read and u.non_empty} <= {
            c.letter for c in sheet.columns if c.meaning.startswith("award:")
        }


def test_r8_province_staff_list_split_per_school(tmp_path: Path) -> None:
    """R8, the province-wide staff list in the province folder: each row goes to the school its `Tên
    trường` names in the registry (as registered, upper-case or NFD: same school), rows of preschools are
    left out with one counted warning, and each row of a school not in the registry is rejected naming
    it; never all rows to one school, never the whole file lost. Every column is read."""
    sample = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox" / YEAR / "province"
    prov = tmp_path / "inbox" / YEAR / "province"
    prov.mkdir(parents=True)
    (prov / "DanhSachTruong.xlsx").write_bytes((sample / "DanhSachTruong.xlsx").read_bytes())
    con = _ingest(tmp_path / "inbox")
    registry = [
        (c, n, "UBND Xã Tân Hòa")
        for c, n in con.execute("SELECT school_code, name FROM raw_school").fetchall()
    ]
    assert len(registry) >= 5
    rows = RL.fake_province_staff(random.Random(8), registry, 90, preschool_share=0.25, unmatched=4)
    path = prov / "DanhSachCBGVNV_ToanTinh.xlsx"
    exp = RL.write_province_staff(path, rows, registry={c: n for c, n, _u in registry})
    summary = exp.summary
    con = _ingest(tmp_path / "inbox")
    n_kept = sum(summary["rows_per_school"].values())
    n_unmatched = sum(summary["unmatched_rows"].values())
    assert summary["preschool_rows"] > 0 and n_unmatched == 4
    manifest = con.execute(
        "SELECT layout_ids, rows_read, rows_kept, rows_rejected, rows_skipped FROM ingest_manifest "
        "WHERE source_file LIKE '%ToanTinh%'"
    ).fetchall()
    assert manifest == [
        ("csdl.staff_province.v1", n_kept + n_unmatched, n_kept, n_unmatched, summary["preschool_rows"])
    ]
    per_school = dict(con.execute("SELECT school_code, count(*) FROM raw_staff GROUP BY 1").fetchall())
    assert per_school == summary["rows_per_school"]
    rejected = con.execute(
        "SELECT reason_code, value, message FROM dq_quarantine_rows WHERE source_file LIKE '%ToanTinh%'"
    ).fetchall()
    named = sorted(RL.registry_key(v) for _r, v, _m in rejected)  # as written: upper-case or NFD too
    assert named == sorted(RL.registry_key(k) for k, n in summary["unmatched_rows"].items() for _ in range(n))
    assert {r for r, _v, _m in rejected} == {"unknown_school_name"}
    assert all("Tên trường" in m and "danh sách trường của Sở" in m for _r, _v, m in rejected)
    warned = con.execute(
        "SELECT reason_code, detail FROM ingest_warnings WHERE source_file LIKE '%ToanTinh%'"
    ).fetchall()
    assert warned == [
        ("other_level", f"{summary['preschool_rows']} dòng của trường cấp học khác (mầm non…) không đọc")
    ]
    ((layout_id, uses),) = _accounting(path).values()
    assert layout_id == "csdl.staff_province.v1"
    assert [u.letter for u in uses if not u.read] == [] and len(uses) == 7


def _r9(tmp_path: Path, id_header: str) -> tuple[Any, duckdb.DuckDBPyConnection]:
    rng = random.Random(9)
    blocks = [("1A", RL.fake_applicants(rng, 14)), ("1B", RL.fake_applicants(rng, 11))]
    path = tmp_path / "inbox" / YEAR / "08000001" / "ChiaLop_TuyenSinh.xlsx"
    path.parent.mkdir(parents=True)
    exp = RL.write_admission_split(path, blocks, id_header=id_header)
    return exp, _ingest(tmp_path / "inbox")


@pytest.mark.parametrize("id_header", ["Số CCCD", "Số CMND/TCC"])
def test_r9_admission_class_split_both_id_headers(tmp_path: Path, id_header: str) -> None:
    """R9 in either spelling of its id column (`Số CCCD`, variant `Số CMND/TCC`): the class-split layout,
    one application per pupil row, its citizen id where the row has one, no column unaccounted. (The
    `Số CMND/TCC` variant was quarantined `incomplete_header` until the layout took it: a generated
    province lost that school's admissions, 2.4.2 `not_applicable` instead of the truth's `no_data`.)"""
    import json

    exp, con = _r9(tmp_path, id_header)
    status, layouts, report = con.execute(
        "SELECT status, layout_ids, sheets_report FROM ingest_manifest"
    ).fetchone()
    assert (status, layouts) == ("loaded", "admission.class_split.v1")
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT source_row, citizen_id_hash IS NOT NULL, school_code, school_year "
            "FROM raw_admission_application"
        ).fetchall()
    }
    want = {rec["row"]: (rec["has_citizen_id"], "08000001", YEAR) for rec in exp.sheets[0].records}
    assert got == want and len(want) == 25  # every pupil, and no block title read as a pupil
    (sheet,) = json.loads(report)["sheets"]
    assert sheet["not_read"] == [] and set(exp.sheets[0].non_empty) <= set(sheet["read"])


def test_r9_every_block_keeps_its_class_and_titles_are_no_rows(tmp_path: Path) -> None:
    """R9 has no STT column, so a block's title `LỚP 1B` sits in the key column (`Họ và tên`); its digit made
    it look like data: the title was stored as an application and every later block lost its class. A
    one-cell row that reads as a title is a title (connectors/parsing/blocks.py)."""
    exp, con = _r9(tmp_path, "Số CCCD")
    got = dict(con.execute("SELECT source_row, assigned_class FROM raw_admission_application").fetchall())
    assert got == {rec["row"]: rec["assigned_class"] for rec in exp.sheets[0].records}
