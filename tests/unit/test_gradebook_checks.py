# ruff: noqa: RUF005  (title + header + rows reads best as concatenation)
"""TT22 grade-book warnings at ingest (docs/exports.md §4): `incomplete_tx` and `avg_mismatch` are written
for the right rows only, the rows stay loaded; files built with openpyxl and parsed as the inbox would be."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "connectors"))
import builders as B

from connectors import gradebook_checks
from connectors.filedrop import parse_file
from connectors.messages import reason_text
from connectors.sheet_parser import ParseContext

pytestmark = pytest.mark.unit
YEAR, SCHOOL = "2024-2025", "08000123"


def parse(path: Path):
    ctx = ParseContext(file=path.name, folder_year=YEAR, folder_school=SCHOOL, hash_key="k")
    return parse_file(path, path.name, ctx)


def warned(res) -> list[tuple[int, str]]:
    return sorted(
        (w.row, w.reason_code)
        for s in res.sheets
        for w in s.warnings
        if w.reason_code in ("incomplete_tx", "avg_mismatch")
    )


def test_texts_are_vietnamese() -> None:
    assert reason_text("incomplete_tx") == "Chưa đủ số điểm đánh giá thường xuyên"
    assert reason_text("avg_mismatch") == "Điểm trung bình trong tệp khác điểm tính lại"


def test_required_tx_by_subject_and_grade() -> None:
    table = gradebook_checks.tx_required_table()
    req = {
        (s, g): n for s, g, n in table[["subject_code", "grade_min", "tx_required"]].itertuples(index=False)
    }
    # periods per year ≤ 35 → 2, 36–70 → 3, > 70 → 4 (Công nghệ: 35 periods in grades 6–7, 52 in 8–9)
    got = [req[("TOAN", 6)], req[("GDCD", 6)], req[("GDTC", 6)], req[("CNGH", 6)], req[("CNGH", 8)]]
    assert got == [4, 2, 3, 2, 3]


def test_grade_of_one_class_name_agrees_with_the_series_version() -> None:
    import pandas as pd

    from connectors import normalize as nz

    names = ["6A", "12A1", "1+2A", "3+2B", "10", "13A", "0A", "A6", "7.2", "9"]
    want = nz.grade_of_class(pd.Series(names, dtype="string")).astype("string").fillna("").tolist()
    assert [gradebook_checks.grade_text(n) for n in names] == want


def test_scored_subject_semester_and_year_averages(tmp_path: Path) -> None:
    hdr = [
        "STT",
        "Mã HS",
        "Họ tên",
        "Ngày sinh",
        "Điểm TX1",
        "Điểm TX2",
        "Điểm TX3",
        "Điểm TX4",
        "Điểm GK",
        "Điểm CK",
        "ĐTB HK1",
        "ĐTB HK2",
        "ĐTB CN",
    ]
    data = (
        B.title(
            "TRƯỜNG THCS A", "BẢNG ĐIỂM MÔN HỌC", "Lớp: 6A - Môn học: Toán - Học kỳ: II - Năm học: 2024-2025"
        )
        + [
            hdr,
            # (8 + 7.5 + 9 + 8 + 2·7.5 + 3·8.5) / 9 = 8.11 → 8.1; year (8.0 + 2·8.1) / 3 = 8.07 → 8.1:
            # no warning
            [1, "HS01", "An", "05/09/2012", 8, 7.5, 9, 8, 7.5, 8.5, 8.0, 8.1, 8.1],
            # 3 tx marks (Toán: 140 periods → 4); (24 + 14 + 24) / 8 = 7.75 → 7.8, the file says 7.9
            [2, "HS02", "Bình", "05/09/2012", 8, 7, 9, None, 7, 8, 7.0, 7.9, 7.6],
            # no ck: the semester is not closed for this student; no average to check
            [3, "HS03", "Chi", "05/09/2012", 8, 7, None, None, 7, None, 7.0, None, None],
            # semester average right ((30 + 14 + 24) / 9 = 7.56 → 7.6), year average wrong
            # ((7 + 15.2) / 3 = 7.4)
            [4, "HS04", "Dũng", "05/09/2012", 8, 7, 9, 6, 7, 8, 7.0, 7.6, 9.0],
            # half-up with decimal arithmetic: (3·6.4 + 2·6.5 + 3·7) / 8 = 6.65 → 6.7 (the file is right);
            # 3 tx
            [5, "HS05", "Giang", "05/09/2012", 6.4, 6.4, 6.4, None, 6.5, 7, 6.0, 6.7, 6.5],
            # an out-of-range mark is rejected: the row is not checked (its counts are incomplete)
            [6, "HS06", "Hà", "05/09/2012", 12, 8, None, None, 8, 8, 7.0, 8.0, 7.7],
        ]
        + B.footer(6)
    )
    res = parse(B.write_xlsx(tmp_path / "toan.xlsx", {"TOAN": data}))
    assert res.status == "partly_loaded", res.reason
    assert (res.rows_read, res.rows_kept, res.rows_rejected) == (6, 5, 1)
    assert warned(res) == [
        (9, "avg_mismatch"),
        (9, "incomplete_tx"),
        (11, "avg_mismatch"),
        (12, "incomplete_tx"),
    ]
    details = {(w.row, w.reason_code): w.detail for w in res.sheets[0].warnings}
    assert details[(9, "incomplete_tx")] == "Môn TOAN, học kỳ 2: 3 điểm thường xuyên, cần ít nhất 4"
    assert details[(11, "avg_mismatch")] == "Môn TOAN: ĐTB cả năm trong tệp khác (ĐTBmhkI + 2·ĐTBmhkII) / 3"
    # the warned rows are kept: every mark is written
    recs = res.sheets[0].rows
    assert len(recs[recs["source_row"] == 9]) == 3 + 2 + 3  # 3 tx, gk, ck, three averages


def test_comment_only_subject_and_exempt_student(tmp_path: Path) -> None:
    top = [
        "STT",
        "Mã học sinh",
        "Họ và tên",
        "Ngày sinh",
        "Giới tính",
        "ĐĐGtx",
        None,
        None,
        None,
        None,
        "ĐĐGgk",
        "ĐĐGck",
        "ĐTBmhkI",
        "ĐTBmhkII",
        "ĐTBmcn",
        "Nhận xét",
    ]
    sub = [None] * 5 + ["1", "2", "3", "4", "5"] + [None] * 6
    title = B.title(
        "TRƯỜNG THCS A",
        "BẢNG ĐIỂM MÔN HỌC",
        "Lớp: 7A - Môn học: Giáo dục thể chất - Học kỳ: I - Năm học: 2024-2025",
    )
    d, cd = "Đ", "CĐ"
    data = (
        title
        + [
            top,
            sub,
            [
                1,
                "HS01",
                "An",
                "05/09/2012",
                "Nam",
                d,
                d,
                d,
                None,
                None,
                d,
                d,
                d,
                None,
                None,
                None,
            ],  # all Đ → Đ
            [
                2,
                "HS02",
                "Bình",
                "05/09/2012",
                "Nữ",
                d,
                cd,
                cd,
                None,
                None,
                d,
                d,
                d,
                None,
                None,
                None,
            ],  # 3/5 Đ → CĐ
            [
                3,
                "HS03",
                "Chi",
                "05/09/2012",
                "Nam",
                d,
                d,
                cd,
                None,
                None,
                d,
                d,
                d,
                None,
                None,
                None,
            ],  # 4/5, ck Đ → Đ
            [
                4,
                "HS04",
                "Dũng",
                "05/09/2012",
                "Nam",
                "M",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            ],
            [
                5,
                "HS05",
                "Em",
                "05/09/2012",
                "Nữ",
                d,
                None,
                None,
                None,
                None,
                d,
                d,
                d,
                None,
                None,
                None,
            ],  # 1 tx of 3
        ]
        + B.footer(5)
    )
    res = parse(B.write_xlsx(tmp_path / "gdtc.xlsx", {"GDTC": data}))
    assert res.status == "loaded", res.reason
    assert res.sheets[0].layout.id == "school.tt22_gradebook.v1"
    # GDTC: 70 periods → 3 tx marks; the exempt student (M) is complete
    assert warned(res) == [(10, "avg_mismatch"), (13, "incomplete_tx")]


def test_requirement_follows_the_class_grade(tmp_path: Path) -> None:
    # csdl.tt22_import.v1: one subject (Công nghệ) for classes of several grades; 2 tx marks are enough in
    # grade 7 (35 periods) but not in grade 8 (52 periods → 3)
    data = [
        ["SỞ GD&ĐT LÂM ĐỒNG", None, None, "TRƯỜNG THCS A"],
        ["BẢNG ĐIỂM HỌC KỲ"],
        ["Năm học: 2024-2025 - Học kỳ: 1"],
        ["Môn học: Công nghệ"],
        [
            "STT",
            "Tên lớp",
            "Mã định danh",
            "Họ và tên",
            "Ngày sinh",
            "ĐĐGtx",
            None,
            None,
            None,
            "ĐĐGgk",
            "ĐĐGck",
        ],
        [None, None, None, None, None, "1", "2", "3", "4"],
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"],
        ["1", "7A", "0800012345", "An", "05/09/2012", "8", "7", None, None, "7", "8"],
        ["2", "8A", "0800012346", "Bình", "05/09/2011", "8", "7", None, None, "7", "8"],
        ["3", "8A", "0800012347", "Chi", "05/09/2011", "8", "7", "9", None, "7", "8"],
    ]
    res = parse(B.write_xlsx(tmp_path / "cngh.xlsx", {"CNGH": data}))
    assert res.status == "loaded", res.reason
    assert warned(res) == [(9, "incomplete_tx")]
