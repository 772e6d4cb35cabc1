"""The reader's non-blank cells (found in Arrow) equal `cells._nonblank` of the grid's cells, and a
grouped sheet's rows cut from the group frame when asked for equal the slice the parser used to cut."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from connectors.layouts import load_layouts
from connectors.parsing.cells import _nonblank
from connectors.readers import read_grids
from connectors.sheet_parser import SheetResult
from tests.fixtures.connectors.builders import write_xlsx


def test_reader_nonblank_equals_the_cells_kernel(tmp_path: Path) -> None:
    rows = [
        ["Họ và tên", None, "   ", 7.5],
        ["  Nguyễn Văn A ", None, "\t", 10],
        [None, None, None, None],
        ["x", None, "\u3000", "0"],
    ]
    path = write_xlsx(tmp_path / "a.xlsx", {"S1": rows, "S2": [["", "  "], ["b", None]]})
    grids = read_grids(path)
    assert [g.sheet for g in grids] == ["S1", "S2"]
    for grid in grids:
        assert "nonblank" in grid.__dict__  # given by the reader, not computed from the cells
        assert (grid.nonblank == _nonblank(grid.values)).all()
    first = grids[0]
    at = {int(c): j for j, c in enumerate(first.columns)}
    assert first.nonblank[0, at[0]] and not first.nonblank[0, at[2]]  # whitespace only: blank
    assert not first.nonblank[2].any()  # an empty row


def test_grouped_sheet_rows_are_cut_when_asked() -> None:
    layout = load_layouts()[0]
    whole = pd.DataFrame({"school_code": ["A", "B", "C", "D"], "source_row": [5, 6, 7, 8]})
    s = SheetResult(layout, "S", None, [], [], 2, 0, parent=(whole, 1, 3))
    assert s.frame is None and s.records == 2
    col = s.rows_column("school_code")
    assert col is not None and col.tolist() == ["B", "C"]
    assert s.rows_column("nope") is None
    assert s.frame is None  # one column read: the slice is still not cut
    pd.testing.assert_frame_equal(s.rows, whole.iloc[1:3])
    assert s.records == 2
    s.rows = s.rows[s.rows["source_row"] == 6]
    assert s.records == 1 and s.rows_column("source_row").tolist() == [6]  # type: ignore[union-attr]
