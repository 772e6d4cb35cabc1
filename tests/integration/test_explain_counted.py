"""`cds explain` prints exactly the rows each criterion counted (issue 20), on one school of the sample
inbox (08000001, 2024-2025) whose staff list and fee statement are replaced by small hand-made files
(made-up people) so that every counted and uncounted row can be checked by hand; the student lists,
teaching assignments, grade book and transcripts are the sample's own, checked by hand for the rows named
below. The reviewer HTML and workbook link the same values to the same rows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings

pytestmark = pytest.mark.integration

YEAR = "2024-2025"
SCHOOL = "08000001"
SAMPLE = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox" / YEAR / SCHOOL
KEEP = (
    "CSDL_HocSinh.xls",
    "DanhSachHocSinh.xls",
    "DS_Lop.xls",
    "PhanCong_HK1.xlsx",
    "TT27_CK1.xlsx",
    "HocBaSo.xlsx",
)

# the CSDL staff list: (staff id, position, job group, subjects, status); header on sheet row 1, so the
# staff are rows 2…6
STAFF = [
    ("CB90000001", "Giáo viên", "Giáo viên", "Toán", "Đang làm việc"),  # row 2: active, complete
    ("CB90000002", "Giáo viên", "Giáo viên", None, "Đang làm việc"),  # row 3: active teacher, no subject
    ("CB90000003", "Giáo viên", "Giáo viên", "Ngữ văn", "Tạm nghỉ"),  # row 4: on leave, not counted
    ("CB90000004", "Kế toán", "Nhân viên", None, "Đang làm việc"),  # row 5: active, complete
    ("CB90000005", "Giáo viên", "Giáo viên", "Tiếng Việt", "Đang làm việc"),  # row 6: active, complete
]
# the fee statement: (transaction, due, paid, method, paid at, status); the table header is line 7 of the
# file, so the transactions are rows 8…13
FEES = [
    ("GD9000000001", 150000, 150000, "Tiền mặt", "05/09/2024 08:00:00", "Thành công"),  # 8: cash
    ("GD9000000002", 250000, 250000, "Internet Banking", "06/09/2024 09:00:00", "Thành công"),  # 9: cashless
    ("GD9000000003", 300000, 300000, "MoMo", "07/09/2024 10:00:00", "Thành công"),  # 10: cashless
    ("GD9000000004", 400000, 400000, "Internet Banking", "08/09/2024 11:00:00", "Chờ xử lý"),  # 11: not paid
    ("GD9000000005", 500000, 500000, "MoMo", "21/07/2024 12:00:00", "Thành công"),  # 12: before the year
    ("GD9000000006", 100000, 100000, "Tiền mặt", "10/10/2024 13:00:00", "Thành công"),  # 13: cash
]
# hand-checked in CSDL_HocSinh.xls: the rows of students not studying (transferred_out, suspended,
# dropped_out); every other row 2…279 is an enrolled student
NOT_ENROLLED = [15, 40, 68, 77, 122, 135, 160, 195, 213, 240, 243, 244]


def write_staff(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(
        [
            "STT",
            "VỊ TRÍ VIỆC LÀM",
            "MÃ CÁN BỘ",
            "HỌ TÊN",
            "NHÓM CHỨC VỤ",
            "GIỚI TÍNH",
            "MÔN DẠY",
            "TRẠNG THÁI CB",
        ]
    )
    for i, (code, pos, group, subj, status) in enumerate(STAFF, 1):
        ws.append([i, pos, code, f"Người Thử {i}", group, "Nữ", subj, status])
    wb.save(path)


def write_fees(path: Path) -> None:
    head = [
        "STT",
        "Mã giao dịch",
        "Mã hóa đơn",
        "Mã học sinh",
        "Họ tên học sinh",
        "Lớp",
        "Khoản thu",
        "Kỳ thu",
        "Số tiền phải nộp",
        "Số tiền đã nộp",
        "Hình thức thanh toán",
        "Đơn vị thanh toán",
        "Phí giao dịch",
        "Ngày thanh toán",
        "Trạng thái",
    ]
    lines = [
        "SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH THỬ NGHIỆM;;;;;;;;;;;CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "TRƯỜNG THỬ NGHIỆM;;;;;;;;;;;Độc lập - Tự do - Hạnh phúc",
        "",
        "BÁO CÁO ĐỐI SOÁT THU PHÍ",
        "Từ ngày: 01/08/2024 - Đến ngày: 31/07/2025",
        "",
        ";".join(head),
    ]
    for i, (tx, due, paid, method, at, status) in enumerate(FEES, 1):
        lines.append(
            f"{i};{tx};HD9{i:05d};900000{i:03d};Học Sinh Thử {i};1A;Học phí;09/2024;{due};{paid};"
            f"{method};Ngân hàng;;{at};{status}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("explain")
    school = root / "inbox" / YEAR / SCHOOL
    school.mkdir(parents=True)
    for name in KEEP:
        shutil.copyfile(SAMPLE / name, school / name)
    write_staff(school / "CSDL_GiaoVien.xlsx")
    write_fees(school / "DoiSoatThuPhi.csv")
    settings = get_settings(
        inbox=root / "inbox", warehouse=root / "wh.duckdb", out=root / "out", school_year=YEAR
    )
    assert run_pipeline(settings)
    return root


def explain(run: Path, criterion: str) -> str:
    cds = Path(sys.executable).with_name("cds")
    done = subprocess.run(
        [
            str(cds),
            "explain",
            "--school",
            SCHOOL,
            "--criterion",
            criterion,
            "--year",
            YEAR,
            "--warehouse",
            str(run / "wh.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def block(text: str, head: str) -> list[str]:
    """The listed lines after `head` up to the next block."""
    part = text.split(head, 1)[1].split("\nDòng ", 1)[0]
    return [line for line in part.splitlines()[1:] if line.startswith("  ")]


def rows_of(lines: list[str], file: str) -> list[int]:
    return [int(line.split(", dòng ")[1].split(":")[0].split(" ")[0]) for line in lines if file in line]


def test_explain_staff(run: Path) -> None:
    text = explain(run, "2.3.4")
    print(text)
    assert "tử số 3, mẫu số 4, giá trị 0,75" in text
    f = f"{YEAR}/{SCHOOL}/CSDL_GiaoVien.xlsx"
    assert rows_of(block(text, "Dòng tính vào tử số (3):"), f) == [2, 5, 6]
    den = block(text, "Dòng tính vào mẫu số (4):")
    assert rows_of(den, f) == [2, 3, 5, 6]
    assert "hồ sơ đủ (chức vụ, trạng thái, môn dạy) không" in next(line for line in den if "dòng 3:" in line)
    assert "Người Thử" not in text and "CB9000000" not in text  # no name, no staff id


def test_explain_fees(run: Path) -> None:
    text = explain(run, "2.4.3")
    print(text)
    # paid in the year: rows 8, 9, 10, 13 = 150 000 + 250 000 + 300 000 + 100 000; cashless: 9, 10
    assert "tử số 550000, mẫu số 800000, giá trị 0,6875" in text
    f = f"{YEAR}/{SCHOOL}/DoiSoatThuPhi.csv"
    assert rows_of(block(text, "Dòng tính vào tử số (2; cộng lại 550000):"), f) == [9, 10]
    assert rows_of(block(text, "Dòng tính vào mẫu số (4; cộng lại 800000):"), f) == [8, 9, 10, 13]
    assert "GD9000000004" not in text and "GD9000000005" not in text
    assert "Học Sinh Thử" not in text


def test_explain_students(run: Path) -> None:
    text = explain(run, "2.3.2")
    csdl = f"{YEAR}/{SCHOOL}/CSDL_HocSinh.xls"
    enrolled = [r for r in range(2, 280) if r not in NOT_ENROLLED]
    assert len(enrolled) == 266
    assert "tử số 266, mẫu số 266, giá trị 1" in text
    assert rows_of(block(text, "Dòng tính vào mẫu số (266):"), csdl) == enrolled
    num = block(text, "Dòng tính vào tử số (266):")
    assert all(f"{YEAR}/{SCHOOL}/DanhSachHocSinh.xls, trang" in line for line in num)
    # each platform row names the CSDL row of the same student, and together they are the enrolled rows
    assert sorted(int(line.rsplit("dòng ", 1)[1]) for line in num) == enrolled


def test_explain_gradebook(run: Path) -> None:
    text = explain(run, "2.3.3")
    print("\n".join(text.splitlines()[:12]))
    num_pairs = block(text, "Dòng tính vào tử số")
    pairs = [line for line in num_pairs if "Sổ điểm lớp" in line]
    # class 1A, Toán: assigned on row 8 of PhanCong_HK1.xlsx; its marks are rows 7–31 of sheet 1A of
    # TT27_CK1.xlsx (25 students, one row each, with a level and a test score: 50 marks), every
    # student complete
    line = next(line for line in pairs if "lớp 1A, môn TOAN" in line)
    assert line.startswith(f"  - {YEAR}/{SCHOOL}/PhanCong_HK1.xlsx, trang PhanCong, dòng 8:")
    assert "25/25 học sinh đủ điểm; đủ" in line
    assert f"{YEAR}/{SCHOOL}/TT27_CK1.xlsx, trang 1A, dòng 7–31 (50 mục điểm)" in line
    # class 2A, Toán: the student on row 11 of sheet 2A has a test score but no level (39 marks for 20
    # students), so the pair is in the denominator only; with 3B HĐTN (33/34) these are the 2 of 96 pairs
    # left out of the numerator
    den_pairs = [line for line in block(text, "Dòng tính vào mẫu số") if "Sổ điểm lớp" in line]
    assert (len(pairs), len(den_pairs)) == (94, 96)
    incomplete = [line for line in den_pairs if "; chưa đủ;" in line]
    assert [line.split("Sổ điểm ")[1].split(" (")[0] for line in incomplete] == [
        "lớp 2A, môn TOAN",
        "lớp 3B, môn HDTN",
    ]
    assert "19/20 học sinh đủ điểm" in incomplete[0]
    assert "TT27_CK1.xlsx, trang 2A, dòng 7–26 (39 mục điểm)" in incomplete[0]
    assert not any("lớp 2A, môn TOAN" in line for line in pairs)
    # the transcript part: 206 issued transcripts of the 266 enrolled students
    assert "học bạ đã ký (206):" in text and "học sinh đang học (266):" in text


def test_reviewer_outputs_link_the_same_rows(run: Path) -> None:
    import re

    html = (run / "out" / f"reviewer_{YEAR}.html").read_text(encoding="utf-8")
    assert f'href="#r-{SCHOOL}-2.3.4"' in html
    part = html.split(f'id="r-{SCHOOL}-2.3.4"')[1].split("</details>")[0]
    cells = re.findall(r'<td>(Tử số|Mẫu số)</td><td>[^<]*</td><td>[^<]*</td><td class="n">(\d+)</td>', part)
    assert cells == [
        ("Tử số", "2"),
        ("Tử số", "5"),
        ("Tử số", "6"),
        ("Mẫu số", "2"),
        ("Mẫu số", "3"),
        ("Mẫu số", "5"),
        ("Mẫu số", "6"),
    ]
    # 266 enrolled students: the HTML shows the first rows of each role and names `cds explain` for the rest
    part = html.split(f'id="r-{SCHOOL}-2.3.2"')[1].split("</details>")[0]
    assert "(532)" in part and f"cds explain --school {SCHOOL} --criterion 2.3.2 --year {YEAR}" in part
    wb = openpyxl.load_workbook(run / "out" / f"reviewer_{YEAR}.xlsx")
    sheet = wb["Dòng được đếm"]
    rows = [tuple(c.value for c in r) for r in sheet.iter_rows(min_row=2)]
    staff = [r for r in rows if r[1] == "2.3.4"]
    assert [(r[2], r[5]) for r in staff] == [
        ("Tử số", 2),
        ("Tử số", 5),
        ("Tử số", 6),
        ("Mẫu số", 2),
        ("Mẫu số", 3),
        ("Mẫu số", 5),
        ("Mẫu số", 6),
    ]
    first = 2 + rows.index(staff[0])
    links = [
        c.hyperlink.location
        for ws in wb.worksheets
        for r in ws.iter_rows(min_row=2)
        for c in r
        if c.hyperlink is not None and c.value == "2.3.4"
    ]
    assert links and all(loc == f"'Dòng được đếm'!A{first}" for loc in links)
