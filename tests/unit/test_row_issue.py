# ruff: noqa: RUF005  (title + header + rows reads best as concatenation)
"""One row-issue type: every reject and warning names file, sheet, row and column with a Vietnamese
message from the reason table; a personal value (entities.yaml `pii: true`) is never stored in clear."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "connectors"))
import builders as B

from connectors.filedrop import parse_file
from connectors.issues import RowIssue, mask, personal_columns
from connectors.messages import reason_text
from connectors.sheet_parser import ParseContext

pytestmark = pytest.mark.unit


def test_a_reject_names_where_and_what_in_vietnamese() -> None:
    r = RowIssue.reject(
        "2024-2025/08000001/a.xlsx",
        "DS",
        12,
        "bad_date",
        entity="room_booking_unknown",
        canonical="held_at",
        column=27,
        header="Ngày kiểm tra",
        value="31/02/2025",
        expected="ngày dạng dd/mm/yyyy",
    )
    assert r.column == "AB" and r.value == "31/02/2025"
    assert r.message == (
        "Tệp 2024-2025/08000001/a.xlsx, trang DS, dòng 12, cột AB (Ngày kiểm tra): "
        f"{reason_text('bad_date')} — giá trị '31/02/2025'; yêu cầu: ngày dạng dd/mm/yyyy."
    )


def test_personal_values_are_masked_in_the_value_and_the_message() -> None:
    assert {"citizen_id_hash", "phone_hash", "dob", "full_name"} <= personal_columns("student")
    r = RowIssue.reject(
        "f.xlsx",
        "S",
        3,
        "bad_id_format",
        entity="student",
        canonical="citizen_id_hash",
        column=5,
        header="Số CCCD",
        value="068212000123",
    )
    assert r.value == mask("068212000123") == "**********23"
    assert "068212000123" not in r.message and "**********23" in r.message
    assert mask("12") == "**"


def test_duplicate_keys_of_grade_books_read_in_vietnamese(tmp_path: Path) -> None:
    head = ["STT", "Mã HS", "Họ tên", "Ngày sinh", "Điểm TX1", "Điểm GK", "Điểm CK", "Điểm GK"]  # gk twice
    rows = [
        [1, "HS00000001", "An", "05/09/2012", "8", "7", "9", "6"],
        [2, "HS00000002", "Bình", "05/09/2012", "6", "7", "9", "8"],
    ]
    data = B.title(
        "TRƯỜNG THCS A", "BẢNG ĐIỂM MÔN HỌC", "Lớp: 6A - Môn học: Toán - Học kỳ: I - Năm học: 2024-2025"
    ) + [head, *rows]
    p = B.write_xlsx(tmp_path / "diem.xlsx", {"Toan": data})
    res = parse_file(p, p.name, ParseContext(file=p.name, folder_year="2024-2025", folder_school="08000123"))
    dups = [r for s in res.sheets for r in s.rejects if r.reason_code == "duplicate_key"]
    assert dups and all(r.message.startswith(f"Tệp {p.name}, trang Toan, dòng ") for r in dups)
    assert all(reason_text("duplicate_key") in r.message for r in dups)


def test_student_ids_in_clear_never_reach_rejects(tmp_path: Path) -> None:
    head = ["STT", "Mã lớp", "Mã học sinh", "Họ tên", "Ngày sinh", "Giới tính", "Trạng thái HS", "Số CCCD"]
    rows = [
        [1, "C6A", "0800012345", "Nguyễn An", "05/09/2012", "Nữ", "Đang học", "06821200"],
        [2, "C6A", "0800012346", "Lê Bình", "31/02/2012", "Nam", "Đang học", "068212000124"],
    ]
    p = B.write_xlsx(tmp_path / "hs.xlsx", {"Sheet1": [head, *rows]})
    res = parse_file(
        p, p.name, ParseContext(file=p.name, folder_year="2024-2025", folder_school="08000123", hash_key="k")
    )
    rejects = [r for s in res.sheets for r in s.rejects]
    assert {r.reason_code for r in rejects} == {"bad_id_format", "bad_date"}
    for r in rejects:
        assert r.value is not None and r.value.startswith("*")
        assert "06821200" not in r.message and "31/02/2012" not in r.message
