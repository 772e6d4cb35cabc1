"""Unit tests of the generator's pure helpers: rounding, levels, IDs, quirk choice, rendering."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from sample_exports.generator import rules as R
from sample_exports.generator.ids import citizen_id, phone
from sample_exports.generator.quirks import QuirkPicker, eligible
from sample_exports.generator.sheets import QUIRKS, Block, C, Col, Grid, Sheet, render_sheet

pytestmark = pytest.mark.unit


def test_round_half_up_and_points() -> None:
    assert R.round_half_up(Decimal("6.65"), 1) == Decimal("6.7")
    assert R.points_for(8, Fraction(2, 3)) == Decimal("5.33")
    assert R.points_for(6, Fraction(3, 2)) == Decimal(6)


def test_levels() -> None:
    assert R.level_of(Decimal(75), False) == 2
    assert R.level_of(Decimal("75.01"), False) == 3
    assert R.level_of(Decimal("49.99"), False) == 1
    assert R.level_of(Decimal(90), True) == 1
    assert sum(m for _g, m, _k in R.CRITERIA.values() if m and _g == "DH") == 100
    assert sum(m for _g, m, _k in R.CRITERIA.values() if m and _g == "QT") == 90


def test_ids_are_structurally_valid() -> None:
    rng = random.Random(1)
    cid = citizen_id(rng, "08", date(2012, 5, 1), female=True)
    assert len(cid) == 12 and cid[:3] == "008" and cid[3] == "3" and cid[4:6] == "12"
    p = phone(rng)
    assert len(p) == 10 and p.startswith("0") and p.isdigit()


def test_quirk_picker_forces_every_switch_once() -> None:
    picker = QuirkPicker(1.0, 7)
    allowed = eligible("xlsx", single_tier=True, has_title=False, repeat=True, bad_rows=True) | {
        "xls_corrupt"
    }
    for _ in range(10):
        picker.pick(allowed)
    assert set(QUIRKS) <= picker.seen
    assert QuirkPicker(0.0, 7).pick(allowed) == frozenset()


def test_render_records_bad_row_positions_and_merges() -> None:
    b = Block(
        [C("STT", "int"), Col(("ĐĐGtx", "1")), Col(("ĐĐGtx", "2"))],
        [[1, 5.0, 6.0], [2, 11.0, 6.0]],
        title=[["T1"], ["T2"]],
        tags=[None, "out_of_range"],
    )
    g = render_sheet(Sheet("S", [b], shuffle_ok=False), frozenset(), random.Random(0))
    assert g.bad == [(6, "out_of_range")]  # 2 title rows + 2 header tiers + 2nd data row
    assert (2, 1, 2, 2) in g.merges and (2, 0, 3, 0) in g.merges


# ------------------------------------------------------------------ fast paths: same bytes as the slow ones
def _tricky_grid() -> Grid:
    rows: list[list[object]] = [
        ["Tiêu đề", None, None, None, "CỘNG HÒA"],
        [],
        ["STT", "Mã HS", "Họ tên\nđầy đủ", "Điểm", "Ghi chú"],
        [1, "0812345678", "Nguyễn Văn An", 7.5, True],
        [2, "'08123", " dẫn đầu", 10, False],
        [3, "a & b <c>", "cuối ", 1e17, "x_x0041_y\x01"],
        [4, None, "", -2.25, 0],
        [None, None, None, None, None, None, None, "xa"],
    ] + [[k, f"HS{k:08d}", f"Tên {k % 7}", k / 3, None] for k in range(5, 60)]
    return Grid(rows, [(0, 0, 0, 3), (2, 3, 3, 3)], [])


def _slow_xlsx(path, grids) -> None:  # type: ignore[no-untyped-def]
    """The generator's original per-cell xlsxwriter loop."""
    import xlsxwriter

    from sample_exports.generator.writers import FIXED_CREATED

    wb = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties({"created": FIXED_CREATED, "author": "cds-generator"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for name, grid in grids:
        ws = wb.add_worksheet(name[:31])
        merged = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in grid.merges}
        covered = {
            (r, c)
            for (r0, c0), (r1, c1) in merged.items()
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
        }
        for r, row in enumerate(grid.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in covered:
                    continue
                if isinstance(v, bool):
                    ws.write_string(r, c, "x" if v else "")
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, str(v), wrap if "\n" in str(v) else None)
        for (r0, c0), (r1, c1) in merged.items():
            v = grid.rows[r0][c0] if c0 < len(grid.rows[r0]) else None
            ws.merge_range(r0, c0, r1, c1, "" if v is None else v, wrap)
    wb.close()


def _slow_xls(path, grids) -> None:  # type: ignore[no-untyped-def]
    import io

    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    for name, grid in grids:
        ws = wb.add_sheet(name[:31], cell_overwrite_ok=True)
        covered: set[tuple[int, int]] = set()
        for r0, c0, r1, c1 in grid.merges:
            v = grid.rows[r0][c0] if c0 < len(grid.rows[r0]) else None
            ws.write_merge(r0, r1, c0, c1, "" if v is None else v)
            covered |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        for r, row in enumerate(grid.rows):
            for c, v in enumerate(row):
                if v is not None and (r, c) not in covered:
                    ws.write(r, c, v if isinstance(v, (int, float)) else str(v)[:32767])
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def test_fast_writers_write_the_same_bytes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sample_exports.generator.writers import write_xls, write_xlsx

    grids = [("Sheet1", _tricky_grid()), ("Khác", _tricky_grid())]
    write_xlsx(tmp_path / "fast.xlsx", grids)
    _slow_xlsx(tmp_path / "slow.xlsx", grids)
    assert (tmp_path / "fast.xlsx").read_bytes() == (tmp_path / "slow.xlsx").read_bytes()
    write_xls(tmp_path / "fast.xls", grids)
    _slow_xls(tmp_path / "slow.xls", grids)
    assert (tmp_path / "fast.xls").read_bytes() == (tmp_path / "slow.xls").read_bytes()


def _slow_data_rows(block, order, offset, quirks, rng, styler):  # type: ignore[no-untyped-def]
    """The original per-cell data-row loop of `render_sheet`."""
    from sample_exports.generator.sheets import _raw

    out, bad = [], []
    for i, drow in enumerate(block.rows):
        tag = block.tags[i] if i < len(block.tags) else None
        row = [None] * offset
        for src in order:
            if src is None:
                row.append(rng.choice((None, "", f"{rng.randrange(10**8):08d}", "x")))
                continue
            v = drow[src]
            row.append(_raw(v, quirks) if block.raw_cells else styler.cell(v, block.cols[src].kind))
        out.append(row)
        if tag:
            bad.append((len(out), tag))
        if "blank_rows" in quirks and rng.random() < 0.05 and i < len(block.rows) - 1:
            out.append([])
    return out, bad


@pytest.mark.parametrize("seed", range(12))
def test_fast_data_rows_match_per_cell_styling(seed: int) -> None:
    from datetime import datetime

    from sample_exports.generator.sheets import CellStyler, _data_rows

    qrng = random.Random(seed)
    quirks = frozenset(
        q
        for q in ("nfd", "ids_as_numbers", "decimal_comma", "date_style", "blank_rows")
        if qrng.random() < 0.5
    )
    cols = [
        C("STT", "int"),
        C("Mã", "id"),
        C("SĐT", "phone"),
        C("Tên"),
        C("Điểm", "num"),
        C("Ngày", "date"),
        C("Lúc", "datetime"),
        C("Tiền", "money"),
        C("Cờ", "flag"),
    ]
    rows = [
        [
            k,
            f"{k:010d}" if k % 3 else f"HS{k}",
            "0912345678",
            "Đặng Thị Ánh" if k % 4 else "",
            k / 4 if k % 5 else k,
            date(2024, 1 + k % 12, 1 + k % 28),
            datetime(2024, 9, 1, k % 24, 5),
            150000,
            "x" if k % 2 else None,
        ]
        for k in range(300)
    ]
    block = Block(
        cols, rows, tags=[("bad_date" if k % 50 == 7 else None) for k in range(300)], raw_cells=seed % 6 == 5
    )
    order = [0, None, *range(1, 9)] if seed % 2 else list(range(9))
    got_out: list[list[object]] = []
    got_bad: list[tuple[int, str]] = []
    r1, r2 = random.Random(seed), random.Random(seed)
    _data_rows(block, order, seed % 3, quirks, r1, CellStyler(quirks, r1), got_out, got_bad)
    want_out, want_bad = _slow_data_rows(block, order, seed % 3, quirks, r2, CellStyler(quirks, r2))
    assert got_out == want_out and got_bad == want_bad
    assert r1.random() == r2.random()


def test_id_budget_bounds_what_build_year_draws() -> None:
    from sample_exports.generator.plan import IdCounter, build_year, id_budget
    from sample_exports.generator.presets import PRESETS, build_schools

    schools = build_schools(PRESETS["province-mountain"], 3)
    picked = {}
    for s in schools:  # the largest school of every level
        if s.level not in picked or s.pupils > picked[s.level].pupils:
            picked[s.level] = s
    for s in picked.values():
        ids = IdCounter("14")
        build_year(s, "2024-2025", ids, small=False)
        used = (ids.student, ids.staff, ids.parent)
        assert all(u <= b for u, b in zip(used, id_budget(s), strict=True)), (s.code, used, id_budget(s))
