"""Each school's feedback pack on the committed sample inbox (both years through the whole pipeline):
a pack (xlsx + html) for every school, one school's pack checked by hand against the sample's figures,
the workbook read back with openpyxl, no other school's code in any pack, and a privacy scan of every
pack against every personal value the run loaded (names, birth dates, e-mails, MOET ids; all schools, both
years)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import openpyxl
import pytest

from reports.data_quality import _pii_columns
from tests.integration.test_privacy import _leaks, _people, _text_of
from tests.integration.truth_compare import run_years

pytestmark = pytest.mark.integration
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
YEARS = ["2023-2024", "2024-2025"]
SCHOOLS = [f"0800000{i}" for i in range(1, 6)]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return run_years(INBOX, tmp_path_factory.mktemp("packs"), YEARS)


@pytest.fixture(scope="module")
def out(run: tuple[Path, Path]) -> Path:
    return run[1]


def _sheet(path: Path, name: str) -> list[dict]:
    """A sheet of a pack as header → value dicts (read back with openpyxl)."""
    ws = openpyxl.load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    return [dict(zip(head, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


def test_a_pack_for_every_school_and_year(out: Path) -> None:
    for school_year in YEARS:
        for code in SCHOOLS:
            for ext in ("xlsx", "html"):
                assert (out / "schools" / school_year / f"{code}.{ext}").is_file(), (school_year, code, ext)
        wb = openpyxl.load_workbook(out / "schools" / school_year / f"{SCHOOLS[0]}.xlsx", read_only=True)
        assert wb.sheetnames[:4] == ["Tổng quan", "Việc cần làm", "Tiêu chí", "Phát hiện"]


def test_one_school_checked_by_hand(out: Path) -> None:
    """08000002 in 2024-2025 (THCS Thạnh Vân). Figures from the sample inbox: 4 of its 11 classrooms
    have a projector/TV and Internet (1.7.1, max 8: 8 × 4/11 = 2.909 → 2.91; it declared 8), 1 of its
    8 scored subjects had a periodic test on computers (1.5.1, max 15: 15 × 1/8 = 1.875 → 1.88, 7 more
    subjects reach the maximum, 13.12 points at stake), no LMS rows (1.3.x no data)."""
    book = out / "schools" / "2024-2025" / "08000002.xlsx"
    overview = {r["Nội dung"]: r["Giá trị"] for r in _sheet(book, "Tổng quan")}
    assert overview["Mã trường"] == "08000002"
    assert overview["Tên trường"] == "Trường THCS Thạnh Vân"
    assert overview["Tự đánh giá – nhóm I / nhóm II"] == "64 / 50"
    assert overview["Mức tính từ dữ liệu"].startswith("Mức 1")

    crit = {r["Mã tiêu chí"]: r for r in _sheet(book, "Tiêu chí")}
    assert crit["1.7.1"]["Điểm tự đánh giá"] == 8
    assert crit["1.7.1"]["Điểm tính từ dữ liệu"] == pytest.approx(2.91)
    assert (crit["1.7.1"]["Tử số"], crit["1.7.1"]["Mẫu số"]) == (4, 11)
    assert crit["1.7.1"]["Số liệu"] == "4/11 phòng học có máy chiếu/ti vi và Internet"
    assert crit["1.7.1"]["Tệp nguồn"] == "2024-2025/08000002/DanhSachPhong.xlsx"
    assert crit["1.5.1"]["Số liệu"] == "1/8 môn tính điểm có bài kiểm tra định kỳ trên máy tính"
    assert crit["1.3.1"]["Trạng thái số liệu"] == "Thiếu dữ liệu"

    findings = {(r["Mã tiêu chí"], r["Phát hiện"]): r for r in _sheet(book, "Phát hiện")}
    over = findings[("1.7.1", "Tự đánh giá cao hơn dữ liệu")]
    assert over["Trường đã khai"] == "Tự chấm 8/8 điểm."
    assert over["Dữ liệu cho thấy"] == "Dữ liệu: 4/11 phòng học có máy chiếu/ti vi và Internet → 2,91 điểm."
    assert "điều chỉnh điểm tự chấm về 2,91" in over["Cần làm để làm rõ"]
    no_data = findings[("1.3.1", "Không có dữ liệu để kiểm tra")]
    assert no_data["Cần làm để làm rõ"] == "Gửi tệp Hoạt động dạy học trực tuyến của năm học 2024-2025."

    acts = _sheet(book, "Việc cần làm")
    assert 3 <= len(acts) <= 5
    stakes = [a["Điểm có thể thay đổi"] for a in acts]
    assert stakes == sorted(stakes, reverse=True)
    assert acts[0]["Mã tiêu chí"] == "1.5.1" and acts[0]["Điểm có thể thay đổi"] == pytest.approx(13.12)
    assert acts[0]["Việc cần làm"] == (
        "1.5.1: 1/8 môn tính điểm có bài kiểm tra định kỳ trên máy tính — thêm 7 môn có bài kiểm tra "
        "định kỳ trên máy tính để đạt tối đa 15 điểm (hiện 1,88)"
    )

    problems = _sheet(book, "Lỗi dữ liệu")
    assert {"Tệp", "Trang tính", "Dòng", "Cột", "Cần sửa"} <= set(problems[0])
    sync = [p for p in problems if p["Tệp"] == "2024-2025/08000002/LichSuDongBo.xlsx"]
    assert sync and sync[0]["Dòng"] == 19 and sync[0]["Cột"] == "B (Thời gian gửi)"
    assert all(p["Tệp"].startswith("2024-2025/08000002/") for p in problems)

    audits = _sheet(book, "Kiểm tra chéo")  # 3 grade-book marks of pupils not enrolled at the school
    assert [(a["Số trường hợp"], a["Mức độ"]) for a in audits] == [(3, "Cảnh báo")]
    assert audits[0]["Nội dung kiểm tra chéo"].startswith("Điểm trong sổ điểm của học sinh không đang học")

    changes = {r["Mã tiêu chí"]: r for r in _sheet(book, "So với năm trước")}
    assert changes["2.3.3"]["Điểm năm trước"] == pytest.approx(6.39)
    assert changes["2.3.3"]["Điểm năm nay"] == pytest.approx(3.04)
    assert changes["2.3.3"]["Kết quả"] == "Giảm điểm"
    assert changes["1.7.1"]["Số liệu năm trước"] == "4/12 phòng học có máy chiếu/ti vi và Internet"

    page = (out / "schools" / "2024-2025" / "08000002.html").read_text(encoding="utf-8")
    assert "Phản hồi kết quả đánh giá mức độ chuyển đổi số — năm học 2024-2025" in page
    assert "4/11 phòng học có máy chiếu/ti vi và Internet" in page
    assert "thêm 7 môn có bài kiểm tra định kỳ trên máy tính" in page


def test_first_year_says_there_is_no_previous_year(out: Path) -> None:
    page = (out / "schools" / "2023-2024" / "08000001.html").read_text(encoding="utf-8")
    assert "Chưa có kết quả năm học trước của trường để so sánh." in page


def test_packs_carry_no_personal_data_nor_other_schools(out: Path) -> None:
    people = _people()
    for school_year in YEARS:
        for code in SCHOOLS:
            others = [c for c in SCHOOLS if c != code]
            for ext in ("xlsx", "html"):
                text = _text_of(out / "schools" / school_year / f"{code}.{ext}")
                assert not _leaks(text, people), (school_year, code, ext)
                found = [c for c in others if re.search(rf"(?<!\d){c}(?!\d)", text)]
                assert not found, (school_year, code, ext, found)


#: Columns that identify a pupil without being personal data by the entity files (the MOET id).
_ID_COLUMNS = [
    (e, "moet_id")
    for e in (
        "student",
        "transcript",
        "grade_entry",
        "health_record",
        "fee_transaction",
        "parent_app_account",
    )
]


def _personal_values(warehouse: Path) -> dict[str, tuple[str, str]]:
    """Every personal value the run loaded, both years, every school (value → (entity, column)): the
    entities' personal-data columns and the MOET ids of raw/staging storage, names and e-mails longer
    than 6 characters, dates as dd/mm/yyyy and yyyy-mm-dd; hashes are left out (they are not clear)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        types = {
            (t, c): d
            for t, c, d in con.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
            ).fetchall()
        }
        values: dict[str, tuple[str, str]] = {}
        for entity, col in sorted(_pii_columns()) + _ID_COLUMNS:
            kind = types.get((f"raw_{entity}", col))
            if kind is None:
                continue
            for (v,) in con.execute(
                f'SELECT DISTINCT "{col}" FROM raw_{entity} WHERE "{col}" IS NOT NULL'
            ).fetchall():
                if kind == "DATE":
                    values[v.strftime("%d/%m/%Y")] = values[v.isoformat()] = (entity, col)
                elif isinstance(v, str) and len(v.strip()) > 6 and not re.fullmatch(r"[0-9a-f]{64}", v):
                    values[v.strip()] = (entity, col)
        return values
    finally:
        con.close()


def test_privacy_scan_of_every_pack_against_the_runs_people(run: tuple[Path, Path]) -> None:
    """Every name, birth date, e-mail and MOET id the run loaded (all schools, both years) is absent
    from every pack, workbook and page."""
    warehouse, out = run
    values = _personal_values(warehouse)
    kinds = {k for k in values.values()}
    assert (
        len(values) > 5000
        and {("student", "full_name"), ("student", "dob"), ("staff", "email"), ("student", "moet_id")}
        <= kinds
    ), "the scan sees the people"
    packs = sorted((out / "schools").rglob("*.*"))
    assert len(packs) == 2 * len(YEARS) * len(SCHOOLS)
    leaks = [(p.name, v, values[v]) for p in packs for v in _found(_text_of(p), values)]
    assert not leaks, leaks[:10]


def _found(text: str, values: dict[str, tuple[str, str]]) -> list[str]:
    return [v for v in values if v in text]
