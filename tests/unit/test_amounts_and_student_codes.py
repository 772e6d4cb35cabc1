"""Amounts in thousands groups (`150.000` is 150000, docs/exports.md §1.5) and student codes whose leading
zeros were lost in numeric cells (§1.4 `ids_as_numbers`, §2 resolution)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "connectors"))
import builders as B

from connectors import raw_store, references
from connectors.derive import parse_vnd
from connectors.filedrop import parse_file
from connectors.sheet_parser import ParseContext

pytestmark = pytest.mark.unit


def test_parse_vnd_thousands_groups_before_dot_zero_tail() -> None:
    vals, bad = parse_vnd(
        pd.Series(
            [
                "150.000",
                "1.250.000",
                "1,250,000",
                "1250000.0",
                "150000",
                "350.000 đ",
                "2.000 VNĐ",
                "15O.000đ",
                None,
                "1,5",
            ]
        )
    )
    assert vals.tolist()[:7] == [150000, 1250000, 1250000, 1250000, 150000, 350000, 2000]
    assert bad.tolist() == [False] * 7 + [True, False, True]


def test_payment_csv_amount_text_with_three_zero_group(tmp_path: Path) -> None:
    data = [
        ["BÁO CÁO ĐỐI SOÁT THU PHÍ"],
        ["Từ ngày: 01/09/2024 - Đến ngày: 30/09/2024"],
        [
            "STT",
            "Mã giao dịch",
            "Mã học sinh",
            "Số tiền phải nộp",
            "Số tiền đã nộp",
            "Hình thức thanh toán",
            "Ngày thanh toán",
            "Trạng thái",
        ],
        [1, "GD1", "0393445932", "150000", "150.000", "MoMo", "05/09/2024 10:15", "Thành công"],
        [2, "GD2", "0393445933", "250000", "25O.000đ", "MoMo", "05/09/2024 10:15", "Thành công"],
    ]
    path = B.write_csv(tmp_path / "DoiSoatThuPhi.csv", data, delimiter=";", bom=False)
    res = parse_file(
        path,
        path.name,
        ParseContext(file=path.name, folder_year="2024-2025", folder_school="08000123", hash_key="k"),
    )
    assert res.status == "partly_loaded", res.reason
    rows = pd.concat([s.rows for s in res.sheets])
    assert rows["amount_paid"].tolist() == [150000]
    assert [(r.row, r.reason_code) for s in res.sheets for r in s.rejects] == [(5, "bad_number")]


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    raw_store.ensure_schema(con)
    con.execute("""INSERT INTO raw_student (school_code, school_year, student_key, moet_id, local_id,
                   layout_id, source_file, source_sheet, source_row) VALUES
        ('08000003', '2024-2025', '0800000001', '0800000001', NULL, 'csdl.student.v1', 'a.xls', 'S', 1),
        ('08000003', '2024-2025', '329535838', '0800000002', '329535838', 'school.student_list.v1',
            'b.xls', 'S', 1),
        ('08000003', '2024-2025', '0329535839', '0800000003', '0329535839', 'school.student_list.v1',
            'b.xls', 'S', 2)
    """)
    return con


def test_student_keys_resolved_through_zero_padding() -> None:
    con = _warehouse()
    con.execute("""INSERT INTO raw_grade_entry (school_code, school_year, student_key, source_file,
                   source_sheet, source_row) VALUES
        ('08000003', '2024-2025', '800000001', 'g.xlsx', 'TOAN', 1),
        ('08000003', '2024-2025', '0329535838', 'g.xlsx', 'TOAN', 2),
        ('08000003', '2024-2025', '329535839', 'g.xlsx', 'TOAN', 3),
        ('08000003', '2024-2025', 'HS12345678', 'g.xlsx', 'TOAN', 4)
    """)
    references.resolve_all(con)
    got = con.execute("SELECT source_row, student_key, moet_id FROM raw_grade_entry ORDER BY 1").fetchall()
    assert got == [
        (1, "0800000001", "0800000001"),
        (2, "0329535838", "0800000002"),
        (3, "0329535839", "0800000003"),
        (4, "HS12345678", None),
    ]
    warned = con.execute(
        "SELECT source_row FROM ingest_warnings WHERE reason_code = 'unresolved_reference'"
    ).fetchall()
    assert warned == [(4,)]
