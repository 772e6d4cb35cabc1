"""`src_extra` (a row's columns no layout reads, as one JSON object) is written as pandas'
`to_json(orient="records", force_ascii=False)` writes the same cells: the stored text did not change
when the core stopped building a DataFrame per sheet to write it."""

from __future__ import annotations

import json

import pandas as pd

from connectors.layouts import load_layouts
from connectors.parsing.shapes import parse_sheets
from connectors.sheet_parser import ParseContext, find_headers, to_grid

TRICKY = ['a/b "c"', "tab\there", "dòng 1\ndòng 2", "ctl\x01\x1f", "back\\slash", "Ứng dụng 😀", "</script>"]


def test_src_extra_as_pandas_writes_it() -> None:
    header = [
        "STT",
        "Mã CBGVNV",
        "Họ tên",
        "Email",
        "Trạng thái",
        "Chức vụ",
        "Môn dạy",
        "Ghi chú / Khác",
        "Cột trống",
        "Ghi chú / Khác",
    ]
    body = [
        [i + 1, f"CB{i:08d}", f"Cô {i}", "", "Đang làm việc", "Giáo viên", "Toán", text, None, "lặp"]
        for i, text in enumerate([*TRICKY, None])
    ]
    grid = to_grid([header, *body], "Sheet1")
    matches = [m for m in find_headers(grid, load_layouts()) if m.layout.entity == "staff"]
    assert matches, "the staff layout reads the sheet"
    (res,) = parse_sheets([grid], [matches[0]], [ParseContext(file="gv.xlsx", folder_year="2024-2025")])
    got = res.rows.set_index("source_row")["src_extra"]
    # what pandas writes for the unknown columns (first of a repeated header; an empty column left out)
    ref = pd.DataFrame({"Ghi chú / Khác": [*TRICKY, None]}, dtype=object)
    expected = ref.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    assert got.tolist() == expected
    assert [json.loads(v)["Ghi chú / Khác"] for v in got] == [*TRICKY, None]
    assert '"Ghi ch\u00fa \\/ Kh\u00e1c":"a\\/b \\"c\\""' in got.iloc[0]
