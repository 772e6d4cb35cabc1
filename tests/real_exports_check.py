"""Reading a real-export file back (python-calamine) and checking it against its expected reading:
shared by the writer unit tests and the generator's real-export tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import python_calamine as pc

from sample_exports.generator.real_common import TICK, Expected, col_letter


def cells_of(path: Path, sheet: str) -> tuple[dict[tuple[int, int], Any], list[tuple[int, int, int, int]]]:
    """Non-blank cells (0-based absolute row, col) and merges (r0, c0, r1, c1) of one sheet."""
    sh = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet)
    r0, c0 = sh.start or (0, 0)
    cells = {}
    for r, row in enumerate(sh.to_python()):
        for c, v in enumerate(row):
            if v != "" and v is not None:
                cells[(r0 + r, c0 + c)] = v
    merges = [(a[0], a[1], b[0], b[1]) for a, b in sh.merged_cell_ranges or []]
    return cells, merges


def header_path(cells: dict, merges: list, c: int, tiers: list[int]) -> list[str]:
    """A column's header path as a reader builds it: a tier's label is the cell's own, or the label of a
    merge starting in that tier that covers the column; a merge from an upper tier adds nothing."""
    out = []
    for t in tiers:
        v = cells.get((t, c))
        if v is None:
            for r0, c0, r1, c1 in merges:
                if r0 == t and c0 <= c <= c1 and r0 <= t <= r1:
                    v = cells.get((r0, c0))
        if v is not None:
            out.append(str(v))
    return out


def as_key(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) else str(v)


def same(cell: Any, value: Any) -> bool:
    if isinstance(value, bool):
        raise AssertionError("booleans are checked through their tick column")
    if isinstance(value, (int, float)):
        return (isinstance(cell, (int, float)) and float(cell) == float(value)) or str(cell) == f"{value:g}"
    return cell == value


def check_expected(path: Path, exp: Expected, tick: Any = TICK) -> None:
    """The expected reading agrees with the file: sheets, header paths (merges included), each record's
    values in the cell of its meaning, the key, and the non-empty columns."""
    wb = pc.CalamineWorkbook.from_path(str(path))
    assert wb.sheet_names == [s.name for s in exp.sheets]
    json.loads(exp.to_json())  # serialisable
    tick = exp.metadata.get("tick", tick)
    for es in exp.sheets:
        if not es.read:
            continue
        cells, merges = cells_of(path, es.name)
        tiers = [r - 1 for r in es.header_rows]
        col_of = {}
        for j, col in enumerate(es.columns):
            assert col.letter == col_letter(j)
            if len(set(tiers)) == len(tiers) and tiers == list(range(tiers[0], tiers[-1] + 1)):
                assert header_path(cells, merges, j, tiers) == col.path, (es.name, col)
            col_of[col.meaning] = j
        width = max(c for (r, c) in cells if r in tiers) + 1
        assert width == len(es.columns), "every header column is described"
        data_rows = {rec["row"] - 1 for rec in es.records}
        if not es.records and es.first_data_row:  # a list described by its summary (R8)
            data_rows = {r for (r, _c) in cells if r >= es.first_data_row - 1}
        seen = {col_letter(c) for (r, c), v in cells.items() if r in data_rows and str(v).strip()}
        assert sorted(seen, key=lambda x: (len(x), x)) == es.non_empty
        assert set(es.non_empty) <= {c.letter for c in es.columns}
        for rec in es.records:
            r = rec["row"] - 1
            if "key" in rec:
                assert as_key(cells[(r, col_of[exp.metadata["key"]])]) == rec["key"]
            for subj, comp, value in rec.get("values", []):
                if comp == "final" and f"final:{value}" in col_of:  # a tick in the column of the result
                    assert cells.get((r, col_of[f"final:{value}"])) == tick
                    others = [m for m in col_of if m.startswith("final:") and m != f"final:{value}"]
                    assert all((r, col_of[m]) not in cells for m in others)
                elif comp == "promoted" and "not_promoted" in col_of:
                    assert ((r, col_of["not_promoted"]) in cells) is (not value)
                elif comp in ("completed", "promoted"):
                    assert ((r, col_of[comp]) in cells) is value
                elif comp == "final":
                    assert cells.get((r, col_of["final"])) == value
                else:
                    assert same(cells.get((r, col_of[f"{comp}:{subj}"])), value), (rec["row"], subj, comp)
