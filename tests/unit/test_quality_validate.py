"""The validate stage quarantines each kind of violation with the exact Vietnamese message naming file,
sheet, row and column, leaves good rows alone, and re-validates only new or changed files."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from connectors import raw_store
from quality.validate import validate_new_files

pytestmark = pytest.mark.unit

YEAR = "2024-2025"
FILE = "2024-2025/08000001/bad.xlsx"


def _prov(n: int, sheet: str, file: str = FILE, sha: str = "sha1") -> dict[str, list]:
    return {
        "school_code": ["08000001"] * n,
        "school_year": [YEAR] * n,
        "source_system": ["vnedu"] * n,
        "layout_id": ["test.v1"] * n,
        "source_file": [file] * n,
        "source_sheet": [sheet] * n,
        "source_row": list(range(8, 8 + n)),
        "file_sha256": [sha] * n,
        "ingested_at": [dt.datetime(2025, 1, 1)] * n,
    }


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect(":memory:")
    raw_store.ensure_schema(c)
    # grade entries: row 8 good, 9 TT22 > 10, 10 two decimals, 11 TT27 0, 12 TT27 7.5, 13 bad text
    raw_store.insert_rows(
        c,
        "grade_entry",
        pd.DataFrame(
            {
                **_prov(6, "Toan"),
                "scheme": ["TT22", "TT22", "TT22", "TT27", "TT27", "TT27"],
                "student_key": ["0800000001"] * 6,
                "moet_id": ["0800000001"] * 6,
                "subject_code": ["TOAN"] * 6,
                "semester": ["1"] * 6,
                "period": ["CK1"] * 6,
                "component": ["tx", "gk", "ck", "test_score", "test_score", "level"],
                "slot": [1, 0, 0, 0, 0, 0],
                "value_num": [8.5, 10.5, 7.25, 0, 7.5, None],
                "value_text": [None, None, None, None, None, "X"],
            }
        ),
    )
    # health: row 8 good, 9 height 400, 10 weight 0.5, 11 bad moet_id
    raw_store.insert_rows(
        c,
        "health_record",
        pd.DataFrame(
            {
                **_prov(4, "SucKhoe"),
                "student_key": ["0800000001"] * 4,
                "moet_id": ["0800000001"] * 3 + ["12345"],
                "measured_at": [dt.date(2024, 10, 1)] * 4,
                "height_cm": [140.0, 400.0, 140.0, 140.0],
                "weight_kg": [35.0, 35.0, 0.5, 35.0],
            }
        ),
    )
    # computer-based tests: row 8 good, 9 held after the year, 10 more submissions than candidates
    raw_store.insert_rows(
        c,
        "computer_based_test",
        pd.DataFrame(
            {
                **_prov(3, "BaiKiemTra"),
                "test_id": ["K1", "K2", "K3"],
                "held_at": [
                    dt.datetime(2024, 10, 1, 8),
                    dt.datetime(2025, 9, 1, 8),
                    dt.datetime(2024, 10, 1, 8),
                ],
                "n_candidates": [40, 40, 40],
                "n_submitted": [40, 40, 41],
            }
        ),
    )
    # fees: row 8 good, 9 negative amount, 10 unknown channel
    raw_store.insert_rows(
        c,
        "fee_transaction",
        pd.DataFrame(
            {
                **_prov(3, "GiaoDich"),
                "transaction_id": ["T1", "T2", "T3"],
                "amount_due": [100000] * 3,
                "amount_paid": [100000, -5, 100000],
                "channel": ["bank", "cash", "pigeon"],
            }
        ),
    )
    return c


EXPECTED = {
    (
        "grade_entry",
        9,
        "value_num:tt22_mark_0_10",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang Toan, dòng 9, cột value_num: Giá trị nằm ngoài khoảng cho "
    "phép — giá trị '10.5'; yêu cầu: điểm TT22 (tx, gk, ck, trung bình) từ 0 đến 10.",
    (
        "grade_entry",
        9,
        "value_num:max",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang Toan, dòng 9, cột value_num: Giá trị nằm ngoài khoảng cho "
    "phép — giá trị '10.5'; yêu cầu: ≤ 10.",
    (
        "grade_entry",
        10,
        "value_num:tt22_one_decimal",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang Toan, dòng 10, cột value_num: Không phải số hợp lệ — giá trị "
    "'7.25'; yêu cầu: điểm TT22 có tối đa 1 chữ số thập phân.",
    (
        "grade_entry",
        11,
        "value_num:tt27_test_score_1_10",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang Toan, dòng 11, cột value_num: Giá trị nằm ngoài khoảng cho "
    "phép — giá trị '0'; yêu cầu: điểm KTĐK TT27 từ 1 đến 10.",
    (
        "grade_entry",
        12,
        "value_num:tt27_test_score_integer",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang Toan, dòng 12, cột value_num: Không phải số hợp lệ — giá trị "
    "'7.5'; yêu cầu: điểm KTĐK TT27 là số nguyên.",
    (
        "grade_entry",
        13,
        "value_text:allowed_for_component",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang Toan, dòng 13, cột value_text: Giá trị không có "
    "trong danh mục "
    "— giá trị 'X'; yêu cầu: Đ/CĐ (TT22), T/H/C (mức đạt), T/Đ/C (năng lực, phẩm chất), HTXS/HTT/HT/CHT "
    "(xếp loại).",
    (
        "health_record",
        9,
        "height_cm:max",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang SucKhoe, dòng 9, cột height_cm: Giá trị nằm ngoài khoảng cho "
    "phép — giá trị '400'; yêu cầu: ≤ 300.",
    (
        "health_record",
        10,
        "weight_kg:min",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang SucKhoe, dòng 10, cột weight_kg: Giá trị nằm ngoài khoảng cho "
    "phép — giá trị '0.5'; yêu cầu: ≥ 1.",
    (
        "computer_based_test",
        9,
        "held_at:school_year_window",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang BaiKiemTra, dòng 9, cột held_at: Giá trị nằm ngoài khoảng "
    "cho phép — giá trị '01/09/2025 08:00:00'; yêu cầu: trong năm học (01/08 đến 31/07).",
    (
        "computer_based_test",
        10,
        "n_submitted:not_above_candidates",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang BaiKiemTra, dòng 10, cột n_submitted: Giá trị nằm "
    "ngoài khoảng "
    "cho phép — giá trị '41'; yêu cầu: không lớn hơn Số thí sinh.",
    (
        "health_record",
        11,
        "moet_id:pattern",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang SucKhoe, dòng 11, cột moet_id: Mã không đúng định dạng — giá "
    "trị '12345'; yêu cầu: đúng 10 chữ số.",
    (
        "fee_transaction",
        9,
        "amount_paid:min",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang GiaoDich, dòng 9, cột amount_paid: Giá trị nằm ngoài khoảng "
    "cho phép — giá trị '-5'; yêu cầu: ≥ 0.",
    (
        "fee_transaction",
        10,
        "channel:allowed",
    ): "Tệp 2024-2025/08000001/bad.xlsx, trang GiaoDich, dòng 10, cột channel: Giá trị không có trong danh "
    "mục — giá trị 'pigeon'; yêu cầu: một trong: cash, bank, vietqr, ewallet, other.",
}


def test_each_violation_quarantined_with_exact_message(con: duckdb.DuckDBPyConnection) -> None:
    failed = validate_new_files(con, YEAR)
    assert failed == {"grade_entry": 5, "health_record": 3, "computer_based_test": 2, "fee_transaction": 2}
    q = con.execute(
        "SELECT entity, source_row, check_name, message, reason_code, stage FROM dq_quarantine_rows"
    ).df()
    got = {
        (e, int(r), c): m
        for e, r, c, m in zip(q["entity"], q["source_row"], q["check_name"], q["message"], strict=True)
    }
    assert got == EXPECTED
    assert set(q["stage"]) == {"validate"}
    assert 8 not in set(q["source_row"])  # the good rows (row 8 of every sheet) are not quarantined


def test_only_new_or_changed_files_are_validated(con: duckdb.DuckDBPyConnection) -> None:
    validate_new_files(con, YEAR)
    assert validate_new_files(con, YEAR) == {}
    n = con.execute("SELECT count(*) FROM dq_quarantine_rows").fetchone()[0]
    # the file changes: its rows are replaced by good ones
    con.execute("DELETE FROM raw_fee_transaction")
    raw_store.insert_rows(
        con,
        "fee_transaction",
        pd.DataFrame(
            {
                **_prov(1, "GiaoDich", sha="sha2"),
                "transaction_id": ["T1"],
                "amount_due": [1],
                "amount_paid": [1],
                "channel": ["cash"],
            }
        ),
    )
    assert validate_new_files(con, YEAR) == {"fee_transaction": 0}
    left = con.execute("SELECT count(*) FROM dq_quarantine_rows WHERE entity = 'fee_transaction'").fetchone()[
        0
    ]
    assert left == 0
    assert con.execute("SELECT count(*) FROM dq_quarantine_rows").fetchone()[0] == n - 2


def test_other_year_not_validated(con: duckdb.DuckDBPyConnection) -> None:
    assert validate_new_files(con, "2023-2024") == {}


def test_message_names_the_column_header_of_the_platform_layout() -> None:
    c = duckdb.connect(":memory:")
    raw_store.ensure_schema(c)
    rooms = {
        **_prov(2, "Phong"),
        "layout_id": ["csdl.rooms.v1"] * 2,
        "room_code": ["P1", "P2"],
        "room_type": ["it_lab"] * 2,
        "computers_total": [10, 10],
        "computers_working": [9, 12],
    }
    raw_store.insert_rows(c, "facility", pd.DataFrame(rooms))
    marks = {
        **_prov(2, "Toan", file="2024-2025/08000001/diem.xlsx"),
        "layout_id": ["csdl.tt22_import.v1"] * 2,
        "scheme": ["TT22"] * 2,
        "student_key": ["0800000001"] * 2,
        "moet_id": ["0800000001"] * 2,
        "subject_code": ["TOAN"] * 2,
        "semester": ["1"] * 2,
        "period": ["CK1"] * 2,
        "component": ["tx", "gk"],
        "slot": [1, 0],
        "value_num": [11.0, 8.0],
    }
    raw_store.insert_rows(c, "grade_entry", pd.DataFrame(marks))
    validate_new_files(c, YEAR)
    q = c.execute(
        "SELECT entity, header, message FROM dq_quarantine_rows ORDER BY entity, check_name"
    ).fetchall()
    assert q[0] == (
        "facility",
        "Số máy tính hoạt động",
        "Tệp 2024-2025/08000001/bad.xlsx, trang Phong, dòng 9, cột computers_working (Số máy tính "
        "hoạt động): "
        "Giá trị nằm ngoài khoảng cho phép — giá trị '12'; yêu cầu: không lớn hơn Số máy tính.",
    )
    marks_q = q[1:]
    assert marks_q and {(e, h) for e, h, _ in marks_q} == {("grade_entry", "ĐĐGtx")}
    assert all(
        m.startswith(
            "Tệp 2024-2025/08000001/diem.xlsx, trang Toan, dòng 8, cột value_num (ĐĐGtx): Giá "
            "trị nằm ngoài khoảng cho phép — giá trị '11'"
        )
        for _, _, m in marks_q
    )
