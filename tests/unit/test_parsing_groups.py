"""One parsing core, a sheet alone is a group of one: grade-book sheets parsed together in one group give
exactly what each sheet gives parsed alone (rows, rejects, warnings, counts and file errors), so a
sheet's result never depends on the sheets it shares a batch with."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import pytest

from connectors import filedrop
from connectors.layouts import load_layouts
from connectors.parsing.shapes import can_group, parse_sheets, sheet_group_key
from connectors.readers import read_grids
from connectors.sheet_parser import Grid, ParseContext, SheetResult, find_headers, to_grid

ROOT = Path(__file__).resolve().parents[2]
HDR = [
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


def _sheet(
    name: str, rows: list[list], title_subject: str | None, offset: int = 0, school_year: str = "2024-2025"
) -> Grid:
    subj = f" - Môn học: {title_subject}" if title_subject else ""
    title = [["BẢNG ĐIỂM MÔN HỌC"], [f"Lớp: 6A{subj} - Học kỳ: I - Năm học: {school_year}"]]
    body = [[None] * offset + r for r in [*title, HDR, *rows, ["Giáo viên bộ môn"]]]
    return to_grid(body, name)


def _rows(seed: int) -> list[list]:
    out = []
    for i in range(1, 9):
        code = f"25012345{i + seed:02d}"
        marks = [str(5 + (i + seed) % 5), "7,5", None, "8", "6.25", "9", None, None, None]
        out.append([i, code, f"HS {i}", "01/01/2012", *marks])
    out.append([9, None, "Không mã", "01/01/2012", "8"] + [None] * 8)  # missing key
    out.append([10, "2501234598", "Điểm lạ", "01/01/2012", "abc", "11", "Đ"] + [None] * 6)  # bad cells
    out.append([11, "2501234599", "Trùng", "01/01/2012", "6"] + [None] * 8)  # duplicate student
    return out


def _canon(res: SheetResult) -> tuple:
    rows = res.rows.astype(object).where(res.rows.notna(), None)
    recs = sorted(
        tuple(sorted((k, str(v)) for k, v in r.items() if v is not None)) for r in rows.to_dict("records")
    )
    rej = sorted(str(astuple(d)) + d.message for d in res.rejects)
    warn = sorted(str(astuple(d)) for d in res.warnings)
    return (
        res.sheet,
        res.rows_read,
        res.rows_skipped,
        res.duplicates_dropped,
        res.file_error,
        recs,
        rej,
        warn,
    )


def _compare(grids: list[Grid], ctx: ParseContext) -> int:
    layouts = load_layouts()
    found = []
    for g in grids:
        m, _ = filedrop.choose(find_headers(g, layouts))
        assert m is not None and m.layout.shape == "tt22" and can_group(m.layout)
        found.append((g, m))
    groups: dict[tuple, list] = {}
    for g, m in found:
        groups.setdefault(sheet_group_key(m, 0), []).append((g, m))
    n = 0
    for items in groups.values():
        together = parse_sheets([g for g, _ in items], [m for _, m in items], [ctx] * len(items))
        for (g, m), got in zip(items, together, strict=True):
            assert _canon(got) == _canon(parse_sheets([g], [m], [ctx])[0]), g.sheet
            n += 1
    return n


def test_grouped_tt22_equals_per_sheet() -> None:
    grids = [
        _sheet("TOAN", _rows(0), "Toán"),
        _sheet("VAN", _rows(1), None),  # subject from the sheet name
        _sheet("NN1", _rows(2), "Tiếng Anh", offset=2),  # columns elsewhere: same group, other letters
        _sheet("XYZ", _rows(3), None, school_year="2023-2024"),  # unknown subject, folder-year mismatch
        _sheet("TIN", _rows(4), "Tin học"),
    ]
    ctx = ParseContext(
        file="2024-2025/08000001/SoDiem.xlsx", folder_year="2024-2025", folder_school="08000001", hash_key="k"
    )
    keys = {sheet_group_key(filedrop.choose(find_headers(g, load_layouts()))[0], 0) for g in grids}
    assert len(keys) == 1  # one group: the parsing runs once
    assert _compare(grids, ctx) == 5


def test_grouped_tt22_without_school_is_per_sheet_error() -> None:
    grids = [_sheet("TOAN", _rows(0), "Toán"), _sheet("VAN", _rows(1), "Ngữ văn")]
    ctx = ParseContext(file="x.xlsx", hash_key="k")  # no folder: school unresolved in every sheet
    assert _compare(grids, ctx) == 2


@pytest.mark.parametrize(
    "rel", ["2024-2025/08000004/BangDiem_HK1.xlsx", "2024-2025/08000005/SoDiem_10A_HK1.xlsx"]
)
def test_grouped_tt22_on_sample_grade_books(rel: str) -> None:
    path = ROOT / "sample_exports" / "inbox" / rel
    if not path.exists():
        pytest.skip("sample inbox not generated")
    fy, fs = filedrop.delivery_of(Path(rel))
    ctx = ParseContext(file=rel, folder_year=fy, folder_school=fs, hash_key="test")
    grids = [g for g in read_grids(path) if not g.cells.empty and find_headers(g, load_layouts())]
    assert _compare(grids, ctx) >= 2


def test_arrow_grid_cells_are_text_or_none() -> None:
    path = ROOT / "sample_exports" / "inbox" / "2024-2025" / "08000004" / "BangDiem_HK1.xlsx"
    if not path.exists():
        pytest.skip("sample inbox not generated")
    for g in read_grids(path, path.read_bytes()):
        assert all(v is None or type(v) is str for v in g.cells.to_numpy().ravel())
        assert all(str(dt) == "object" for dt in g.cells.dtypes)
        assert g.cells.index[0] == 1


@pytest.mark.parametrize("name", ["PhanCong_HK1.xlsx", "KhamSucKhoe.xlsx", "TT27_CK1.xlsx"])
def test_sheets_of_several_files_in_one_group_equal_each_alone(name: str) -> None:
    """Plain tables and TT27 books of several schools' files parsed in one group (each sheet with its own
    file's context) give what each sheet gives alone."""
    members = []
    for path in sorted((ROOT / "sample_exports" / "inbox" / "2024-2025").glob(f"*/{name}")):
        rel = str(path.relative_to(ROOT / "sample_exports" / "inbox"))
        fy, fs = filedrop.delivery_of(Path(rel))
        ctx = ParseContext(file=rel, folder_year=fy, folder_school=fs, hash_key="test")
        for g in read_grids(path):
            m, _ = filedrop.choose(find_headers(g, load_layouts()))
            if m is not None:
                members.append((g, m, ctx))
    if len(members) < 2:
        pytest.skip("sample inbox not generated")
    groups: dict[tuple, list] = {}
    for x, (g, m, ctx) in enumerate(members):
        groups.setdefault(sheet_group_key(m, x), []).append((g, m, ctx))
    assert max(len(v) for v in groups.values()) >= 2  # the files share a group: the parse runs once
    for items in groups.values():
        together = parse_sheets([g for g, _, _ in items], [m for _, m, _ in items], [c for _, _, c in items])
        for (g, m, ctx), got in zip(items, together, strict=True):
            assert _canon(got) == _canon(parse_sheets([g], [m], [ctx])[0]), (ctx.file, g.sheet)
