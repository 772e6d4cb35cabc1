"""Wide sheets to long records, shared by the reshapers (grade books, TT27 results, term summaries,
self-assessments): a group's identity columns finished once, the union of its members' mark columns
(`mark_positions`), the non-blank mark cells in each sheet's own column order, per-cell rejects and
warnings naming the sheet's column, the identity joined onto the long records and the per-sheet
de-duplication on the grain. A sheet parsed alone is a group of one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.issues import RowIssue
from connectors.parsing.finish import finish_group
from connectors.parsing.group import GroupMembers, collect_members
from connectors.parsing.model import Grid, HeaderMatch, ParseContext, SheetResult, sheet_contexts

LONG_GRAIN = (
    "school_code",
    "school_year",
    "student_key",
    "subject_code",
    "semester",
    "period",
    "component",
    "slot",
)


def mark_positions(marks_of: list[list[tuple[int, tuple]]]) -> tuple[list[tuple], np.ndarray]:
    """The union of several sheets' mark columns, by kind: `marks_of[k]` lists sheet k's (column, kind)
    in column order; two columns of one kind in a sheet stay two positions. Returns each position's kind
    and, per sheet and position, the sheet's column (-1: the sheet has none)."""
    index: dict[tuple, int] = {}
    kinds: list[tuple] = []
    placed: list[list[tuple[int, int]]] = []
    for marks in marks_of:
        seen: dict[tuple, int] = {}
        here = []
        for c, k in marks:
            n = seen[k] = seen.get(k, -1) + 1
            if (k, n) not in index:
                index[(k, n)] = len(kinds)
                kinds.append(k)
            here.append((index[(k, n)], c))
        placed.append(here)
    abs_cols = np.full((len(marks_of), len(kinds)), -1, dtype=np.int64)
    for s, here in enumerate(placed):
        for j, c in here:
            abs_cols[s, j] = c
    return kinds, abs_cols


def _column_cells(collected: list, cols_of: list[int | None]) -> np.ndarray:
    """One column per member (None where a member has none), rows in member order."""
    return np.concatenate(
        [
            sr.cells[:, sr.col_pos[c]] if c is not None else np.full(len(sr.rows), None, dtype=object)
            for sr, c in zip(collected, cols_of, strict=True)
        ]
    )


def mark_matrix(gm: GroupMembers, abs_cols: np.ndarray) -> np.ndarray:
    """The cells of every member sheet's mark columns, one column per union position (None where the
    sheet has no such column), rows in member order."""
    parts = []
    for sr, cols in zip(gm.collected, abs_cols, strict=True):
        m = np.full((len(sr.rows), len(cols)), None, dtype=object)
        js = np.flatnonzero(cols >= 0)
        if len(js):
            m[:, js] = sr.cells[:, [sr.col_pos[int(cols[j])] for j in js]]
        parts.append(m)
    return np.concatenate(parts) if parts else np.empty((0, abs_cols.shape[1]), dtype=object)


def stacked_cells(part: pd.DataFrame, rows: np.ndarray, cols: list, keep_blank: bool = False) -> pd.DataFrame:
    """Non-blank cells (every cell with `keep_blank`) of `cols` for the given rows of `part`: columns
    row, col, text (row by row)."""
    if not cols or not len(rows):
        return pd.DataFrame(
            {
                "row": pd.Series(dtype="int64"),
                "col": pd.Series(dtype="int64"),
                "text": pd.Series(dtype="string"),
            }
        )
    block = part.loc[rows, cols]
    st = nz.clean_text(cast(pd.Series, block.stack(future_stack=True).astype("string")))
    st = st if keep_blank else st.dropna()
    out = st.rename("text").reset_index()
    out.columns = ["row", "col", "text"]
    return out


@dataclass
class WideGroup:
    """A group of wide sheets being reshaped: its members, the union of their mark columns
    (`kinds`, `abs_cols`), every member row's mark cells (`part`, by group row and union position), the
    finished identity rows (`good`, by group row) and the rejects and warnings per member."""

    layout: Any
    gm: GroupMembers
    sheets: list[str]
    ctxs: list[ParseContext]
    sid: np.ndarray
    srow: np.ndarray
    kinds: list[tuple]
    abs_cols: np.ndarray
    part: pd.DataFrame
    idents: list[SheetResult]
    good: pd.DataFrame
    nonempty: np.ndarray
    rejects: list[list[RowIssue]] = field(default_factory=list)
    warnings: list[list[RowIssue]] = field(default_factory=list)

    def cells(self) -> pd.DataFrame:
        """The non-blank mark cells of the kept rows (row = group row, col = union position), ordered
        within each row by the sheet's own column order."""
        cells = stacked_cells(self.part, self.good.index.to_numpy(), list(range(len(self.kinds))))
        if len(cells):
            r = cells["row"].to_numpy()
            order = np.lexsort((self.abs_cols[self.sid[r], cells["col"].to_numpy()], r))
            cells = cells.iloc[order].reset_index(drop=True)
        return cells

    def cell_rejects(self, cells: pd.DataFrame, mask: pd.Series, code: str, expected: str) -> None:
        """A reject per bad cell, naming the sheet's column, its header and the value."""
        bad = cells[mask.to_numpy()]
        for g, j, t in zip(bad["row"].tolist(), bad["col"].tolist(), bad["text"].tolist(), strict=True):
            k, r = int(self.sid[g]), int(self.srow[g])
            c = int(self.abs_cols[k][int(j)])
            self.rejects[k].append(
                RowIssue.reject(
                    self.ctxs[k].file,
                    self.sheets[k],
                    r,
                    code,
                    entity=self.layout.entity,
                    canonical="value",
                    column=c,
                    header=" / ".join(self.gm.matches[k].paths.get(c, [])),
                    value=t,
                    expected=expected,
                )
            )

    def cell_warnings(self, cells: pd.DataFrame, mask: pd.Series, code: str, detail: str) -> None:
        for g in cells["row"].to_numpy()[mask.to_numpy(dtype=bool)].tolist():
            k = int(self.sid[g])
            self.warnings[k].append(
                RowIssue.warning(self.ctxs[k].file, self.sheets[k], int(self.srow[g]), code, detail)
            )

    def close(
        self, long: pd.DataFrame, grain: tuple[str, ...] = LONG_GRAIN
    ) -> tuple[list[SheetResult], pd.DataFrame, np.ndarray]:
        """Join the identity columns onto the long records (sheet by sheet), drop the records that repeat
        a grain within their sheet (the last wins; each dropped one a `duplicate_key` reject) and give
        each member its result: a slice of the group's records. Returns the results, records, and the
        member of each record."""
        lsid = self.sid[long["row"].to_numpy()]
        if len(lsid) > 1 and not (np.diff(lsid) >= 0).all():  # records sheet by sheet (already, mostly)
            long = long.iloc[np.argsort(lsid, kind="stable")]
        drop = [c for c in ("src_extra",) if c in self.good.columns]
        long = long.join(self.good.drop(columns=drop), on="row", how="inner", rsuffix="__ident")
        long = long.drop(columns=[c for c in long.columns if c.endswith("__ident")])
        lsid = self.sid[long["row"].to_numpy()]
        keys = [g for g in grain if g in long.columns]
        dup = long[keys].assign(_sid=lsid).duplicated(subset=[*keys, "_sid"], keep="last").to_numpy()
        for k, g in zip(lsid[dup].tolist(), long.loc[dup, "row"].tolist(), strict=True):
            self.rejects[k].append(
                RowIssue.reject(
                    self.ctxs[k].file,
                    self.sheets[k],
                    int(self.srow[g]),
                    "duplicate_key",
                    entity=self.layout.entity,
                )
            )
        long = long[~dup].drop(columns=["row", "col", "text"], errors="ignore")
        lsid = lsid[~dup]
        bounds = np.searchsorted(lsid, np.arange(len(self.sheets) + 1))
        single = len(self.sheets) == 1
        done = []
        for k, ident in enumerate(self.idents):
            a, b = int(bounds[k]), int(bounds[k + 1])
            rows = long.reset_index(drop=True) if single else (None if b > a else long.iloc[a:b])
            done.append(
                SheetResult(
                    self.layout,
                    ident.sheet,
                    rows,
                    ident.rejects + self.rejects[k],
                    ident.warnings + self.warnings[k],
                    ident.rows_read,
                    ident.rows_skipped,
                    ident.duplicates_dropped,
                    ident.file_error,
                    parent=(long, a, b) if b > a and not single else None,
                    file_error_detail=ident.file_error_detail,
                )
            )
        return done, long, lsid


def open_group(
    grids: list[Grid],
    matches: list[HeaderMatch],
    ctx: ParseContext | list[ParseContext],
    kinds_of: Callable[[HeaderMatch], dict[int, Any]],
    results: list[SheetResult | None],
    marks_of: Callable[[dict[int, Any]], list[tuple[int, tuple]]] = lambda kinds: list(kinds.items()),
) -> WideGroup | None:
    """Collect and finish the identity of a group of wide sheets. Sheets without data rows, or whose
    rows are all rejected, get their result in `results` now; None when no sheet is left to reshape."""
    layout = matches[0].layout
    ctxs = sheet_contexts(ctx, len(grids))
    gm = collect_members(grids, matches, results, empty=pd.DataFrame, kinds_of=kinds_of)
    if not gm.members:
        return None
    kinds, abs_cols = mark_positions([marks_of(k) for k in gm.kinds])
    sheets = [grids[i].sheet for i in gm.members]
    member_ctxs = [ctxs[i] for i in gm.members]
    sid, srow, raw = gm.row_arrays()
    part = pd.DataFrame(mark_matrix(gm, abs_cols), dtype=object)
    grp = finish_group(
        raw, sid, srow, layout, sheets, member_ctxs, gm.texts_of, gm.cols_of, gm.skipped, sheet_rows=False
    )
    nonempty = grp.counts > 0
    for k, r in enumerate(grp.results):
        if not nonempty[k]:
            results[gm.members[k]] = r
    if not nonempty.any():
        return None
    n = len(sheets)
    return WideGroup(
        layout,
        gm,
        sheets,
        member_ctxs,
        sid,
        srow,
        kinds,
        abs_cols,
        part,
        grp.results,
        grp.good,
        nonempty,
        [[] for _ in range(n)],
        [[] for _ in range(n)],
    )


def member_column(wg: WideGroup, cols_of: list[int | None]) -> np.ndarray:
    """A column of each member (None where a member has none), by group row."""
    return _column_cells(wg.gm.collected, cols_of)


def place(wg: WideGroup, done: list[SheetResult], results: list[SheetResult | None]) -> list[SheetResult]:
    """Put the reshaped results of the members with kept rows into the group's result list."""
    for k, r in enumerate(done):
        if wg.nonempty[k]:
            results[wg.gm.members[k]] = r
    return results  # type: ignore[return-value]
