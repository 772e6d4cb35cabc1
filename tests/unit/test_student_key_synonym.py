# ruff: noqa: RUF005  (title + header + rows reads best as concatenation)
"""The student-key header follows the header, not the entity (docs/real_exports.md): `Mã số học sinh` is
read by every layout that carries a student key, from the shared synonyms of the vocabulary alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "connectors"))
import builders as B

from connectors.filedrop import parse_file
from connectors.layouts import load_layouts
from connectors.sheet_parser import ParseContext
from connectors.text import norm

pytestmark = pytest.mark.unit
KEY_HEADERS = ("Mã học sinh", "Mã HS", "Mã số học sinh")


def test_every_layout_with_a_student_key_accepts_every_spelling() -> None:
    carrying = 0
    for layout in load_layouts():
        for spec in layout.columns.values():
            keys = spec.header_keys()
            if keys & {norm(h) for h in KEY_HEADERS}:
                carrying += 1
                assert {norm(h) for h in KEY_HEADERS} <= keys, layout.id
    assert carrying >= 10


def _gradebook(key_header: str) -> list[list]:
    head = ["STT", key_header, "Họ tên", "Ngày sinh", "Điểm TX1", "Điểm TX2", "Điểm GK", "Điểm CK"]
    rows = [[i, f"HS0000000{i}", f"Học sinh {i}", "05/09/2012", "8", "7,5", "9", "8.5"] for i in range(1, 4)]
    return (
        B.title(
            "TRƯỜNG THCS A", "BẢNG ĐIỂM MÔN HỌC", "Lớp: 6A - Môn học: Toán - Học kỳ: I - Năm học: 2024-2025"
        )
        + [head, *rows]
        + B.footer(3)
    )


def _records(path: Path) -> pd.DataFrame:
    ctx = ParseContext(file=path.name, folder_year="2024-2025", folder_school="08000123", hash_key="k")
    res = parse_file(path, path.name, ctx)
    assert res.status == "loaded", res.reason
    df = pd.concat([s.rows for s in res.sheets], ignore_index=True)
    return df.sort_values(["student_key", "component", "slot"]).reset_index(drop=True)


def test_a_grade_book_keyed_by_ma_so_hoc_sinh_reads_like_ma_hoc_sinh(tmp_path: Path) -> None:
    want = _records(B.write_xlsx(tmp_path / "a.xlsx", {"Toan": _gradebook("Mã học sinh")}))
    got = _records(B.write_xlsx(tmp_path / "b.xlsx", {"Toan": _gradebook("Mã số học sinh")}))
    cols = ["student_key", "subject_code", "component", "slot", "value_num", "semester", "class_name"]
    assert len(want) == 12
    pd.testing.assert_frame_equal(got[cols], want[cols])
