"""The parser's data types: a sheet as text cells (`Grid`), a located header (`HeaderMatch`), what the
parser knows about the file (`ParseContext`) and what it gives back per sheet (`SheetResult`, with
each column's use, `ColumnUse`). No parsing step belongs here.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from connectors.issues import RowIssue
from connectors.layouts import Layout
from connectors.parsing.cells import _nonblank


class Grid:
    """One sheet as text cells (str or None): rows are 1-based sheet rows, columns 0-based absolute
    columns.

    The parser reads the cells as an object matrix (`values`) with the sheet row of each matrix row
    (`row_index`) and the column of each matrix column (`columns`); `cells` is the same as a DataFrame,
    built only when something asks for it (readers hand over the matrix)."""

    def __init__(
        self,
        sheet: str,
        cells: pd.DataFrame | None = None,
        *,
        values: np.ndarray | None = None,
        columns: list[int] | None = None,
        nonblank: np.ndarray | None = None,
    ) -> None:
        self.sheet = sheet
        if nonblank is not None:  # a reader that found them already (`nonblank` is then not computed)
            self.__dict__["nonblank"] = nonblank
        self._cells = cells
        self._values = values
        self._columns = None if columns is None else pd.Index(columns)
        self._col_pos: dict[int, int] | None = None
        if cells is None and values is None:
            raise ValueError("a grid needs its cells")

    @property
    def cells(self) -> pd.DataFrame:
        if self._cells is None:
            self._cells = pd.DataFrame(
                self.values, index=self.row_index, columns=self.columns, dtype=object, copy=False
            )
        return self._cells

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            self._values = self.cells.to_numpy(dtype=object)
        return self._values

    @property
    def columns(self) -> pd.Index:
        if self._columns is None:
            self._columns = (
                self.cells.columns if self._cells is not None else pd.RangeIndex(self.values.shape[1])  # type: ignore[assignment]
            )
        return self._columns  # type: ignore[return-value]

    @functools.cached_property
    def row_index(self) -> np.ndarray:
        if self._cells is not None:
            return self._cells.index.to_numpy(dtype=np.int64)
        return np.arange(1, len(self.values) + 1, dtype=np.int64)

    @functools.cached_property
    def nonblank(self) -> np.ndarray:
        """`cells._nonblank` of every cell, computed once (blocks, accounting and not-read reasons use it)."""
        return _nonblank(self.values)

    @property
    def empty(self) -> bool:
        """No cell at all (as `DataFrame.empty`: no row or no column)."""
        return self.cells.empty if self._cells is not None else self.values.size == 0

    def col_position(self, col: int) -> int | None:
        """The matrix column of an absolute column (None when the sheet has no such column)."""
        if self._col_pos is None:
            self._col_pos = {int(c): j for j, c in enumerate(self.columns)}
        return self._col_pos.get(int(col))

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """Matrix positions of sheet rows (all present)."""
        idx = self.row_index
        if len(idx) and idx[-1] - idx[0] == len(idx) - 1:  # contiguous rows, as every reader makes them
            return np.asarray(rows, dtype=np.int64) - idx[0]
        return self.cells.index.get_indexer(rows)  # type: ignore[arg-type]

    def span(self, lo: int | None, hi: int | None) -> slice:
        """The matrix rows of sheet rows lo..hi (inclusive, like `.loc[lo:hi]`; None = open end)."""
        idx = self.row_index
        a = 0 if lo is None else int(np.searchsorted(idx, lo, side="left"))
        b = len(idx) if hi is None else int(np.searchsorted(idx, hi, side="right"))
        return slice(a, max(a, b))


@dataclass
class HeaderMatch:
    layout: Layout
    row: int  # 1-based sheet row of the top header row
    depth: int
    mapping: dict[int, str]  # grid column → canonical column
    paths: dict[int, list[str]]  # grid column → header tier labels
    score: int
    runner_up: tuple[str, int] | None = None  # the best other layout found on the sheet and its score


@dataclass(frozen=True)
class ColumnUse:
    """What the parser does with one column of a parsed sheet (`reshapers.account_columns`)."""

    letter: str  # Excel column letter
    header: str  # header tiers, top first, joined by " / " ("" for a column without a header)
    use: str  # canonical column | `ignored:<column>` | `mark:<kind>` | `not_read`
    non_empty: bool  # a data cell of the column holds text

    @property
    def read(self) -> bool:
        return self.use != "not_read"


@dataclass
class ParseContext:
    """What the parser needs to know about the file it reads."""

    file: str  # path relative to the inbox
    folder_year: str | None = None
    folder_school: str | None = None
    school_names: dict[str, str] = field(default_factory=dict)  # norm(name) → school_code
    hash_key: str = ""
    platform_by_school: dict[str, str] = field(default_factory=dict)


@dataclass
class SheetResult:
    """Canonical rows and rejects of one sheet.

    `rows` holds the records written to the raw table: one per source row for plain tables, several
    per source row where a layout explodes, melts or reshapes (grade books: one per mark).
    `rows_read` counts source data rows (not skipped: blank, title, header, footer or subtotal rows);
    a source row is rejected when `rejects` names it at least once, otherwise it is kept."""

    layout: Layout
    sheet: str
    frame: pd.DataFrame | None  # `rows`; None while they are only `parent`'s slice (sliced when asked)
    rejects: list[RowIssue]
    warnings: list[RowIssue]
    rows_read: int
    rows_skipped: int
    duplicates_dropped: int = 0
    file_error: str | None = None  # a reason code that quarantines the whole file
    file_error_detail: str | None = (
        None  # what is missing, where the parser looked, how to fix it (Vietnamese)
    )
    n_records: int | None = None  # records in `rows` once its rows have been handed over (packed)
    parent: tuple[pd.DataFrame, int, int] | None = None  # `rows` is parent.iloc[a:b] of a grouped parse
    columns: list[ColumnUse] = field(default_factory=list)  # every column and its use (accounting)
    header_row: int = 0  # top header row and tiers (accounting, `cds inspect`)
    header_depth: int = 0
    runner_up: tuple[str, int] | None = None  # the next-best layout and its score
    score: int = 0

    @property
    def rows(self) -> pd.DataFrame:
        """The sheet's records (a grouped parse's slice is cut from `parent` the first time it is asked
        for: storing uses `parent` itself, so most slices are never cut)."""
        if self.frame is None:
            if self.parent is None:
                raise ValueError(f"sheet {self.sheet!r}: no rows and no parent frame")
            whole, a, b = self.parent
            self.frame = whole.iloc[a:b]
        return self.frame

    @rows.setter
    def rows(self, value: pd.DataFrame) -> None:
        self.frame = value

    def rows_column(self, name: str) -> pd.Series | None:
        """One column of `rows` (None when the rows have no such column), without cutting the whole
        slice from `parent`."""
        if self.frame is None and self.parent is not None:
            whole, a, b = self.parent
            return whole[name].iloc[a:b] if name in whole.columns else None
        return self.rows[name] if name in self.rows.columns else None

    @property
    def records(self) -> int:
        """Records for the raw table (`rows`, or their count once packed for storing)."""
        if self.n_records is not None:
            return self.n_records
        if self.frame is None and self.parent is not None:
            return self.parent[2] - self.parent[1]
        return len(self.rows)

    @property
    def rows_rejected(self) -> int:
        """Source rows named by at least one reject (a grade-book row with one bad mark is rejected,
        though its other marks are written)."""
        return len({r.row for r in self.rejects})

    @property
    def rows_kept(self) -> int:
        """Source rows read and not rejected."""
        return self.rows_read - self.rows_rejected


def sheets_report(sheets: list[SheetResult], unread: list[tuple[str, str, str]]) -> str | None:
    """The accounting of one file as JSON (the manifest's `sheets_report`): per parsed sheet its layout,
    score, runner-up, header rows, the letters of the columns read and the non-empty columns not read
    (letter, header);
    per sheet not parsed its reason code and Vietnamese detail. None when there is nothing to say."""

    parsed = [
        {
            "sheet": s.sheet,
            "layout": s.layout.id,
            "score": s.score,
            "runner_up": list(s.runner_up) if s.runner_up else None,
            "header_rows": [s.header_row, s.header_row + s.header_depth - 1] if s.header_row else None,
            "read": [c.letter for c in s.columns if c.read],
            "not_read": [[c.letter, c.header] for c in s.columns if not c.read and c.non_empty],
        }
        for s in sheets
        if s.columns or s.header_row
    ]
    other = [{"sheet": name, "reason_code": code, "detail": detail} for name, code, detail in unread]
    if not parsed and not other:
        return None
    return json.dumps({"sheets": parsed, "not_parsed": other}, ensure_ascii=False)


def to_grid(rows: list[list[Any]], sheet: str) -> Grid:
    """Build a Grid from Python rows (tests and small readers)."""
    frame = pd.DataFrame(rows).astype("object")
    frame = frame.where(frame.notna(), None)
    frame = frame.map(lambda v: v if v is None or isinstance(v, str) else _cell_text(v))
    frame.index = np.arange(1, len(frame) + 1)
    return Grid(sheet, frame)


def _cell_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def sheet_contexts(ctx: ParseContext | list[ParseContext], n: int) -> list[ParseContext]:
    """One parse context per sheet of a group (sheets of several files carry their own)."""
    if isinstance(ctx, ParseContext):
        return [ctx] * n
    if len(ctx) != n:
        raise ValueError(f"{len(ctx)} contexts for {n} sheets")
    return list(ctx)
