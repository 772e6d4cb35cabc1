"""The real-export writers (docs/real_exports.md R1–R9) write files with the described structure, and each
file's expected reading agrees with its cells.

Files are read back with python-calamine (the reader the pipeline uses); nothing here calls the
connectors: these tests check the writers, issue 19's tests check the parser against the expectations.
"""

from __future__ import annotations

import io
import random
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pytest
import python_calamine as pc
import xlrd

from sample_exports.generator import real_lists as L
from sample_exports.generator import real_primary as P
from sample_exports.generator import real_secondary as S
from sample_exports.generator.real_common import (
    LOCAL_PREFIXES,
    PROVINCE_CODES,
    TICKS,
    col_letter,
)
from sample_exports.generator.real_container import phpexcel_container, workbook_stream
from sample_exports.generator.writers import write_xls
from tests.real_exports_check import as_key, cells_of, check_expected

pytestmark = pytest.mark.unit
YEAR = "2024-2025"
SCHOOL = "Trường Tiểu học Tân Hòa"


# ------------------------------------------------------------------------------------------ container
def test_phpexcel_container_is_refused_by_xlrd_and_read_by_calamine(tmp_path: Path) -> None:
    from sample_exports.generator.sheets import Grid

    grid = Grid(
        [[f"r{r}c{c}" if c % 2 else float(r * 100 + c) for c in range(30)] for r in range(300)], [], []
    )
    valid = tmp_path / "valid.xls"
    write_xls(valid, [("4a", grid), ("4b", grid)])
    stream = workbook_stream(valid.read_bytes())
    bad, fixed = tmp_path / "bad.xls", tmp_path / "fixed.xls"
    bad.write_bytes(phpexcel_container(stream))
    fixed.write_bytes(phpexcel_container(stream, defect=False))
    with pytest.raises(xlrd.compdoc.CompDocError, match=r"Workbook corruption: seen\[\d+\] == 4"):
        xlrd.open_workbook(str(bad), logfile=io.StringIO())
    tolerant = xlrd.open_workbook(str(bad), logfile=io.StringIO(), ignore_workbook_corruption=True)
    assert xlrd.open_workbook(str(fixed)).sheet_names() == ["4a", "4b"]  # only the chain differs
    want = pc.CalamineWorkbook.from_path(str(valid)).get_sheet_by_name("4b").to_python()
    assert pc.CalamineWorkbook.from_path(str(bad)).get_sheet_by_name("4b").to_python() == want
    assert tolerant.sheet_by_name("4b").cell_value(299, 29) == want[299][29]
    import fastexcel

    assert fastexcel.read_excel(str(bad)).load_sheet("4b", header_row=None).height == 300
    assert workbook_stream(bad.read_bytes())[: len(stream)] == stream  # BIFF records untouched


# ---------------------------------------------------------------------------------------------- R1
@pytest.mark.parametrize(("grade", "n_cols"), [(1, 39), (2, 39), (3, 45), (4, 48), (5, 48)])
def test_r1_vnedu_year_end_book(tmp_path: Path, grade: int, n_cols: int) -> None:
    rng = random.Random(grade)
    classes = [
        P.fake_primary_class(rng, f"{grade}A", grade, 24),
        P.fake_primary_class(rng, f"{grade}B", grade, 19),
    ]
    path = tmp_path / P.vnedu_summary_file_name(grade)
    exp = P.write_vnedu_summary(path, classes, school_name=SCHOOL, district="Hòa An", year=YEAR)
    assert path.name == f"so_diem_tong_ket_khoi_khoi_{grade}.xls"
    assert exp.structure == "R1" and exp.metadata["period"]["value"] == "CN"
    assert [s.name for s in exp.sheets] == [f"{grade}a", f"{grade}b"]
    with pytest.raises(xlrd.compdoc.CompDocError):
        xlrd.open_workbook(str(path), logfile=io.StringIO())
    check_expected(path, exp)
    cells, merges = cells_of(path, f"{grade}a")
    titles = [cells.get((r, 0)) for r in range(5)]
    assert titles == [
        "PHÒNG GD&ĐT HUYỆN HÒA AN",
        "TRƯỜNG TIỂU HỌC TÂN HÒA",
        "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC CUỐI NĂM HỌC",
        "Năm học: 2024 - 2025",
        f"Lớp: {grade}A",
    ]
    assert not any(str(v).startswith("Kỳ đánh giá") for v in cells.values())
    tier1 = [cells.get((5, c)) for c in range(n_cols)]
    assert [t for t in tier1 if t] == [
        "STT",
        "Mã học sinh",
        "HỌ VÀ TÊN HỌC SINH",
        "Họ và tên",
        "Ngày,\ntháng,\nnăm sinh",
        "Nữ",
        "Môn học và hoạt động giáo dục",
        "Năng lực cốt lõi",
        "Phẩm chất chủ yếu",
        "Đánh giá KQGD",
        "Khen thưởng",
        "Chưa lên lớp",
        "Ghi chú",
    ]
    assert exp.sheets[0].metadata["n_columns"] == n_cols
    assert max(c for (r, c) in cells if r == 8) == n_cols - 3  # Chưa lên lớp, Ghi chú: merged from tier 1
    tier2 = [cells[(6, c)] for c in range(n_cols) if (6, c) in cells]
    subjects = {1: "TN-XH", 3: "TN-XH", 4: "Lịch sử và Địa lí"}[min(grade, 4) if grade != 2 else 1]
    assert subjects in tier2
    assert ("Khoa học" in tier2) is (grade >= 4) and ("Tin học" in tier2) is (grade >= 3)
    assert ("Tin học và Công nghệ (Công nghệ)" in tier2) is (grade >= 3)
    nt = tier2.index("Nghệ thuật")
    c_nt = next(c for c in range(n_cols) if cells.get((6, c)) == "Nghệ thuật")
    assert (
        (6, c_nt, 6, c_nt + 1) in merges
        and cells[(7, c_nt)] == "Âm nhạc"
        and cells[(7, c_nt + 1)] == "Mĩ thuật"
    )
    assert tier2[nt + 1 : nt + 3] == ["Hoạt động trải nghiệm", "Giáo dục thể chất"]
    leaves = [cells.get((8, c)) for c in range(n_cols)]
    assert leaves[6:8] == ["Mức đạt được", "Điểm KTĐK"]
    assert leaves[-13:-2] == [
        "Yêu nước",
        "Nhân ái",
        "Chăm chỉ",
        "Trung thực",
        "Trách nhiệm",
        "Hoàn thành xuất sắc",
        "Hoàn thành tốt",
        "Hoàn thành",
        "Chưa hoàn thành",
        "Cuối năm",
        "Đột xuất",
    ]
    # numeric 10-digit vnEdu local ids that are no MOET ids
    for rec in exp.sheets[0].records:
        v = cells[(rec["row"] - 1, 1)]
        assert isinstance(v, float) and len(as_key(v)) == 10 and as_key(v)[:2] not in PROVINCE_CODES
    # every pupil has one final result; footer after the data
    per_pupil = [len(rec["values"]) for rec in exp.sheets[0].records]
    if grade == 4:
        assert max(per_pupil) == 36  # 19 subject values + 10 competences + 5 qualities + final + promoted
    footer = exp.sheets[0].metadata["footer_rows"]
    assert cells[(footer[0] - 1, 3)] == "(ký , ghi rõ họ tên)" and (footer[1] - 1, 3) in cells


@pytest.mark.parametrize("tick", TICKS)
def test_r1_tick_characters(tmp_path: Path, tick: Any) -> None:
    rng = random.Random(3)
    path = tmp_path / "so_diem_tong_ket_khoi_khoi_4.xls"
    cls = P.fake_primary_class(rng, "4A", 4, 30)
    exp = P.write_vnedu_summary(
        path, [cls], school_name=SCHOOL, district="X", year=YEAR, tick=tick, corrupt=False
    )
    check_expected(path, exp, tick=tick)
    cells, _m = cells_of(path, "4a")
    females = [rec["female"] for rec in exp.sheets[0].records]
    assert [cells.get((rec["row"] - 1, 5)) == tick for rec in exp.sheets[0].records] == females
    assert xlrd.open_workbook(str(path)).nsheets == 1  # corrupt=False: a valid container


def test_r1_options_family_name_key_synonym_footer_titles(tmp_path: Path) -> None:
    rng = random.Random(5)
    cls = P.fake_primary_class(rng, "5A", 5, 12, ethnic_language=True)
    path = tmp_path / "b.xls"
    exp = P.write_vnedu_summary(
        path,
        [cls],
        school_name=SCHOOL,
        district="X",
        year=YEAR,
        family_name_column=True,
        key_header="Mã số học sinh",
        footer_titles=True,
    )
    check_expected(path, exp)
    cells, _m = cells_of(path, "5a")
    assert cells[(5, 1)] == "Mã số học sinh"
    assert cells[(9, 2)] == cls.pupils[0].family_name and "C" in exp.sheets[0].non_empty
    assert exp.sheets[0].metadata["n_columns"] == 50  # grade 5 + Tiếng dân tộc (level and test)
    assert "Tiếng dân tộc" in [cells.get((6, c)) for c in range(50)]
    assert any(v == "GIÁO VIÊN CHỦ NHIỆM" for v in cells.values())


# ---------------------------------------------------------------------------------------------- R2
@pytest.mark.parametrize(("grade", "n_cols"), [(1, 32), (3, 38), (4, 41)])
def test_r2_vnedu_first_semester_book(tmp_path: Path, grade: int, n_cols: int) -> None:
    rng = random.Random(10 + grade)
    cls = P.fake_primary_class(rng, f"{grade}A", grade, 20, year_end_results=False)
    path = tmp_path / P.vnedu_summary_file_name(grade)
    exp = P.write_vnedu_summary(path, [cls], school_name=SCHOOL, district="X", year=YEAR, period="CK1")
    check_expected(path, exp)
    assert (
        exp.structure == "R2" and exp.metadata["period"]["value"] == "CK1" and exp.metadata["semester"] == "1"
    )
    cells, _m = cells_of(path, f"{grade}a")
    assert cells[(2, 0)] == "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC CUỐI HỌC KÌ I"
    labels = set(cells.values())
    assert not {"Đánh giá KQGD", "Khen thưởng", "Chưa lên lớp"} & labels
    assert exp.sheets[0].metadata["n_columns"] == n_cols
    assert cells[(5, n_cols - 1)] == "Ghi chú" and cells[(8, n_cols - 2)] == "Trách nhiệm"
    assert all(
        comp not in ("final", "promoted") for rec in exp.sheets[0].records for _s, comp, _v in rec["values"]
    )


# ---------------------------------------------------------------------------------------------- R3
@pytest.mark.parametrize(
    ("semester", "roman", "fmt"), [(2, False, "xls"), (2, True, "xlsx"), (1, True, "xls")]
)
def test_r3_vnedu_lower_secondary_summary(tmp_path: Path, semester: int, roman: bool, fmt: str) -> None:
    rng = random.Random(semester)
    classes = [S.fake_secondary_class(rng, "6A", 6, 25), S.fake_secondary_class(rng, "6B", 6, 21)]
    path = tmp_path / f"tong_hop_khoi_6.{fmt}"
    exp = S.write_vnedu_tt22_summary(path, classes, year="2025-2026", semester=semester, roman=roman, fmt=fmt)
    check_expected(path, exp)
    cells, merges = cells_of(path, "6A")
    assert not any(c < 7 for (r, c) in cells if r < 2)  # the title starts in column H
    assert cells[(0, 7)] == f"BẢNG TỔNG HỢP KẾT QUẢ GIÁO DỤC HỌC KỲ {semester}, NĂM HỌC 2025 - 2026"
    word = {1: "I", 2: "II"}[semester] if roman else str(semester)
    assert cells[(1, 7)] == f"Khối 6 - Lớp 6A - (Học kỳ {word})"
    head = [cells.get((5, c)) for c in range(23)]
    assert head[:5] == ["STT", "Mã học sinh", "Số định danh cá nhân", "Họ và tên", "Ngày sinh"]
    assert {"Ng.Ngữ", "C.Nghệ", "NDGDCĐP", "KHTN", "LS&ĐL", "HĐTN&HN", "Tin"} <= set(head)
    assert head[-6:] == ["Kết quả học tập", "Kết quả rèn luyện", "Buổi nghỉ", None, None, "Ghi chú"]
    subs = [cells.get((6, c)) for c in range(23)]
    assert (
        subs[5:13] == ["(HS 1)"] * 8 and subs[13:17] == ["(N.xét)"] * 4 and subs[19:22] == ["P", "K", "Tổng"]
    )
    assert (5, 19, 5, 21) in merges
    data = [v for (r, c), v in cells.items() if r >= 7 and 5 <= c < 17]
    assert "-" in data and {"Đ"} <= set(data)
    assert exp.metadata["semester"]["value"] == str(semester) and exp.entity == "grade_entry"
    for rec in exp.sheets[0].records:
        assert all(comp == "avg_sem" for _s, comp, _v in rec["values"])


# ---------------------------------------------------------------------------------------------- R4
def test_r4_so_student_list(tmp_path: Path) -> None:
    rng = random.Random(4)
    classes = {"12.6": L.fake_students(rng, "12.6", 12, 30), "12.7": L.fake_students(rng, "12.7", 12, 27)}
    path = tmp_path / "DanhSachHocSinh_So.xlsx"
    exp = L.write_so_student_list(path, classes, province_name="Tuyên Quang", commune="Xã Tân Hòa")
    check_expected(path, exp)
    cells, _m = cells_of(path, "12.6")
    assert cells[(0, 0)] == "SỞ GIÁO DỤC VÀ ĐÀO TẠO TUYÊN QUANG"
    assert cells[(1, 0)] == "DANH SÁCH HỌC SINH LỚP 12.6"
    assert not any(r == 2 for (r, _c) in cells)
    header = [cells[(3, c)] for c in range(25)]
    assert len(header) == 25 and (3, 25) not in cells
    assert {"Mã định danh Bộ GD&ĐT", "Họ tên", "Trạng thái"} <= set(header)  # the staff anchors…
    assert set(L.R4_STUDENT_ONLY) <= set(header)  # …and what only a student list has
    for rec in exp.sheets[0].records:
        r = rec["row"] - 1
        assert cells[(r, 1)] == rec["moet_id"] and cells[(r, 22)] == "12.6" and cells[(r, 23)] == "Khối 12"
        assert L.STATUS_CODE[cells[(r, 6)]] == rec["status"]
        assert len(cells[(r, 24)]) == 12


# ---------------------------------------------------------------------------------------------- R5
@pytest.mark.parametrize(
    ("name", "period"),
    [
        ("KQGD_TT27_HK1.xlsx", "CK1"),
        ("KQ_HKI_lop1A.xlsx", "CK1"),
        ("Import_CK1.xlsx", "CK1"),
        ("TT27_GK1.xlsx", "GK1"),
        ("TT27_CN.xlsx", "CN"),
        ("KetQua_CuoiNam.xlsx", "CN"),
        ("KetQua_Cuoi_nam.xlsx", "CN"),
        ("kết quả cuối năm.xlsx", "CN"),
        ("KetQuaTT27.xlsx", None),
    ],
)
def test_period_from_file_name(name: str, period: str | None) -> None:
    assert P.period_from_file_name(name) == period


def test_r5_csdl_tt27_import_template(tmp_path: Path) -> None:
    rng = random.Random(7)
    classes = [P.fake_primary_class(rng, n, 1, 15, moet_prefix="08") for n in ("1A", "1B")]
    path = tmp_path / "KQGD_TT27_CuoiNam.xlsx"
    exp = P.write_csdl_tt27_import(path, classes, year=YEAR)
    check_expected(path, exp)
    assert exp.metadata["period"] == {"value": "CN", "source": "file_name", "written": "CN"}
    assert exp.quarantine is None and exp.sheets[0].name == "Sheet1"
    cells, _merges = cells_of(path, "Sheet1")
    assert cells[(0, 0)] == "STT"  # nothing above the three tiers
    n_cols = exp.sheets[0].metadata["n_columns"]
    assert max(c for (r, c) in cells if r < 3) == n_cols - 1
    # docs/real_exports.md says 35 columns; the cells it lists add up to 34 (see docs/real_exports.md)
    assert n_cols == 34
    h3 = [cells.get((2, c)) for c in range(n_cols)]
    assert h3[5:9] == ["Mức đạt được", "Điểm KTĐK"] * 2 and h3[9:18] == ["Mức đạt được"] * 9
    assert h3[18:26] == [
        "Tự chủ và tự học",
        "Giao tiếp và hợp tác",
        "Giải quyết vấn đề và sáng tạo",
        "Ngôn ngữ",
        "Tính toán",
        "Khoa học",
        "Thẩm mĩ",
        "Thể chất",
    ]
    assert cells[(0, 31)] == "Hoàn thành\nchương trình lớp học" and cells[(0, 33)] == "Xếp loại"
    assert cells[(1, 7)] == "Tiếng việt" and cells[(1, 13)] == "TH-CN (Tin học)"
    rec = exp.sheets[0].records[0]
    assert cells[(rec["row"] - 1, 2)] == rec["key"] and len(rec["key"]) == 10
    # the template has no column for the competences Công nghệ / Tin học: counted, not silently written
    assert exp.summary["values_not_in_template"] == 2 * len(exp.sheets[0].records)
    nameless = tmp_path / "KetQuaTT27.xlsx"
    exp2 = P.write_csdl_tt27_import(nameless, classes, year=YEAR)
    assert exp2.quarantine == "missing_metadata" and exp2.metadata["period"]["value"] is None


# ---------------------------------------------------------------------------------------------- R6
@pytest.mark.parametrize("with_local_id", [False, True])
def test_r6_hanoi_tt22_import(tmp_path: Path, with_local_id: bool) -> None:
    rng = random.Random(6)
    cls = S.fake_secondary_class(rng, "6A", 6, 22)
    path = tmp_path / "BangDiem_6A_HK1.xlsx"
    exp = S.write_hanoi_tt22_import(
        path,
        cls,
        school_name="Trường THCS Tân Hòa",
        district="Ba Đình",
        year=YEAR,
        with_local_id=with_local_id,
    )
    check_expected(path, exp)
    assert len(exp.sheets) == len(cls.subjects)
    n = 12 if with_local_id else 11
    for es in exp.sheets:
        cells, merges = cells_of(path, es.name)
        assert cells[(0, 0)] == "Phòng GDĐT Ba Đình" and cells[(1, 0)] == "Trường THCS Tân Hòa"
        assert cells[(2, 0)] == "Lớp: 6A" and cells[(0, 3)] == "BẢNG ĐIỂM HỌC KỲ "
        assert cells[(1, 3)] == "2024-2025 - Học kỳ: 1" and cells[(2, 3)].startswith("Môn học: ")
        assert [cells[(6, c)] for c in range(n)] == [str(k) for k in range(1, n + 1)]
        head = [cells.get((4, c)) for c in range(n)]
        assert head[2] == ("Mã học sinh" if with_local_id else "Mã định danh")
        assert (4, n - 6, 4, n - 3) in merges and [cells[(5, c)] for c in range(n - 6, n - 2)] == [
            "1",
            "2",
            "3",
            "4",
        ]
        assert all(isinstance(v, str) for v in cells.values())  # every cell is text


# ---------------------------------------------------------------------------------------------- R7
def test_r7_csdl_students_and_staff(tmp_path: Path) -> None:
    rng = random.Random(8)
    pupils = L.fake_students(rng, "6A", 6, 40)
    path = tmp_path / "C1-HocSinh.xls"
    exp = L.write_csdl_students(path, pupils)
    assert [s.name for s in exp.sheets] == ["Sheet1", "DM_DanToc", "DM_TrangThaiHS", "DM_KhuyetTat"]
    assert [s.read for s in exp.sheets] == [True, False, False, False]
    check_expected(path, exp)
    cells, _m = cells_of(path, "Sheet1")
    assert [cells[(0, c)] for c in range(10)] == [h for h, _m in L.R7_STUDENT_HEADER] and (0, 10) not in cells
    for rec in exp.sheets[0].records:
        assert L.STATUS_CODE[cells[(rec["row"] - 1, 5)]] == rec["status"]
    staff = L.fake_staff(rng, 40)
    emails = L.unreliable_emails(staff, rng, share=0.3)
    spath = tmp_path / "CSDL_GiaoVien.xls"
    sexp = L.write_csdl_staff(spath, staff, emails=emails)
    check_expected(spath, sexp)
    cells, _m = cells_of(spath, "Sheet1")
    assert [cells[(0, c)] for c in range(6)] == [
        "Họ tên",
        "Email",
        "Trạng thái CB",
        "Vị trí việc làm",
        "Nhóm chức vụ",
        "Môn dạy",
    ]
    assert sexp.metadata["key"] is None and not any(str(v).startswith("CB") for v in cells.values())
    moved = [rec for rec in sexp.sheets[0].records if not rec["email_is_own"]]
    assert moved and len(moved) == sexp.summary["rows_with_other_email"]
    assert sorted(emails) == sorted(s.email for s in staff)  # other people's addresses, none invented
    with_id = L.write_csdl_staff(tmp_path / "b.xls", staff, with_staff_id=True)
    assert with_id.sheets[0].columns[0].meaning == "staff_id" and with_id.metadata["key"] == "staff_id"


# ---------------------------------------------------------------------------------------------- R8
def test_r8_province_staff_list(tmp_path: Path) -> None:
    rng = random.Random(9)
    registry = [(f"08{k:06d}", f"Trường Tiểu học Hòa Bình số {k}", "UBND Xã Hòa Bình") for k in range(1, 420)]
    rows = L.fake_province_staff(rng, registry, 13_200, preschool_share=0.25, unmatched=15)
    path = tmp_path / "DanhSachCBGVNV_ToanTinh.xlsx"
    exp = L.write_province_staff(path, rows, registry={c: n for c, n, _u in registry})
    assert len(rows) > 16_000 and exp.summary["rows"] == len(rows)
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<dimension ref="A1:BS4"/>' in xml and exp.declared_dimension == "A1:BS4"
    cells, _m = cells_of(path, "Sheet1")
    assert max(r for r, _c in cells) == len(rows)  # every row read despite the declared dimension
    assert [cells[(0, c)] for c in range(7)] == [h for h, _m in L.R8_HEADER]
    summary = exp.summary
    total = sum(summary["rows_per_school"].values()) + summary["preschool_rows"]
    assert total + sum(summary["unmatched_rows"].values()) == len(rows)
    assert summary["preschool_rows"] == round(13_200 * 0.25) and sum(summary["unmatched_rows"].values()) == 15
    assert len(summary["rows_per_school"]) == len(registry)
    names = [cells[(r, 1)] for r in range(1, len(rows) + 1)]
    assert any(n.isupper() for n in names) and any(
        unicodedata.is_normalized("NFC", n) is False for n in names
    )
    assert any(
        re.match(r"TRƯỜNG (MẦM NON|MẪU GIÁO)|Trường (Mầm non|Mẫu giáo)", unicodedata.normalize("NFC", n))
        for n in names
    )
    keys = {L.registry_key(n): c for c, n, _u in registry}
    counted: dict[str, int] = {}
    for n in names:
        code = keys.get(L.registry_key(n))
        if code:
            counted[code] = counted.get(code, 0) + 1
    assert counted == summary["rows_per_school"]


# ---------------------------------------------------------------------------------------------- R9
@pytest.mark.parametrize("id_header", ["Số CCCD", "Số CMND/TCC"])
def test_r9_admission_class_split(tmp_path: Path, id_header: str) -> None:
    rng = random.Random(11)
    blocks = [
        ("1A", L.fake_applicants(rng, 18)),
        ("1B", L.fake_applicants(rng, 17)),
        ("1C", L.fake_applicants(rng, 5)),
    ]
    path = tmp_path / "ChiaLop_TuyenSinh.xlsx"
    exp = L.write_admission_split(path, blocks, id_header=id_header)
    cells, _m = cells_of(path, "ChiaLop")
    header = ["Họ và tên", "Ngày sinh", "Nữ", "Dân tộc", id_header, "K.tật"]
    meta = exp.sheets[0].metadata["blocks"]
    assert [b["class_name"] for b in meta] == ["1A", "1B", "1C"]
    for b in meta:
        assert cells[(b["title_row"] - 1, 0)] == f"LỚP {b['class_name']}"
        assert [cells[(b["header_row"] - 1, c)] for c in range(6)] == header
    assert len(exp.sheets[0].records) == 40
    for rec in exp.sheets[0].records:
        r = rec["row"] - 1
        assert cells[(r, 0)] == rec["full_name"] and (cells.get((r, 2)) == "x") is (rec["sex"] == "F")
        assert ((r, 4) in cells) is rec["has_citizen_id"]
    letters = {col_letter(c) for (r, c) in cells if r + 1 in {rec["row"] for rec in exp.sheets[0].records}}
    assert sorted(letters) == exp.sheets[0].non_empty


def test_local_id_prefixes_are_no_province_codes() -> None:
    assert len(PROVINCE_CODES) == 63 and not set(LOCAL_PREFIXES) & PROVINCE_CODES
    assert all(p[0] != "0" for p in LOCAL_PREFIXES)


def test_the_checker_catches_a_wrong_expectation(tmp_path: Path) -> None:
    """`check_expected` fails when a value, a header path or a non-empty column is wrong."""
    rng = random.Random(12)
    path = tmp_path / "so_diem_tong_ket_khoi_khoi_2.xls"
    exp = P.write_vnedu_summary(
        path, [P.fake_primary_class(rng, "2A", 2, 8)], school_name=SCHOOL, district="X", year=YEAR
    )
    check_expected(path, exp)
    rec = exp.sheets[0].records[0]
    subj, comp, value = rec["values"][0]
    rec["values"][0] = [subj, comp, "C" if value != "C" else "T"]
    with pytest.raises(AssertionError):
        check_expected(path, exp)
    rec["values"][0] = [subj, comp, value]
    exp.sheets[0].columns[7].path[-1] = "Mức đạt được"
    with pytest.raises(AssertionError):
        check_expected(path, exp)
    exp.sheets[0].columns[7].path[-1] = "Điểm KTĐK"
    exp.sheets[0].non_empty.remove("B")
    with pytest.raises(AssertionError):
        check_expected(path, exp)
