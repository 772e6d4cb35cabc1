"""Accounting (docs/real_exports.md, no silent loss): every column of a parsed sheet with what the
parser does with it (`account_columns`), and each result's header rows, score and runner-up
(`annotate`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from connectors.messages import column_letter
from connectors.parsing.model import ColumnUse, Grid, HeaderMatch, SheetResult
from connectors.parsing.tt22 import _tt22_kinds
from connectors.parsing.tt27 import _tt27_kinds
from connectors.parsing.wide import self_assessment_kinds, summary_kinds

#: per shape, the wide columns its reshaper reads (column → kind): what `account_columns` calls read
MARK_KINDS: dict[str, Callable[[HeaderMatch], dict[int, tuple]]] = {
    "tt22": _tt22_kinds,
    "tt27": _tt27_kinds,
    "self_assessment_wide": self_assessment_kinds,
    "term_summary": summary_kinds,
}


def account_columns(grid: Grid, match: HeaderMatch) -> list[ColumnUse]:
    """Every column of a parsed sheet that has a header or a non-blank data cell, with what the parser
    does with it (docs/real_exports.md, no silent loss): a canonical column (stored, or `ignored:` when
    the layout reads it and drops it, e.g. names), a mark read by the sheet's reshaper (`mark:` and its
    kind), or `not_read`. Data cells are those between the header and the last row carrying a key
    (footers and signatures below it are not data)."""
    layout = match.layout
    kinds = MARK_KINDS.get(layout.shape, lambda m: {})(match)
    body = grid.span(match.row + match.depth, None)
    arr = grid.values[body]
    cols = [int(c) for c in grid.columns]
    key_col = next((c for c, n in match.mapping.items() if n == layout.key), None)
    key_j = grid.col_position(key_col) if key_col is not None else None
    filled = grid.nonblank[body] if arr.size else np.zeros((0, len(cols)), dtype=bool)
    if key_j is not None and len(arr):
        keyed = np.flatnonzero(filled[:, key_j])
        filled = filled[: int(keyed[-1]) + 1] if len(keyed) else filled[:0]
    non_empty = {cols[j] for j in np.flatnonzero(filled.any(axis=0)).tolist()} if len(filled) else set()
    out: list[ColumnUse] = []
    for c in sorted(set(match.paths) | non_empty):
        header = " / ".join(match.paths.get(c, []))
        if c in match.mapping:
            name = match.mapping[c]
            role = layout.columns[name].role
            use = name if role == "value" else (f"mark:{name}" if role == "mark" else f"ignored:{name}")
        elif c in kinds:
            use = "mark:" + ":".join(str(k) for k in kinds[c] if k is not None)
        else:
            use = "not_read"
        out.append(ColumnUse(column_letter(c), header, use, c in non_empty))
    return out


def annotate(results: list[SheetResult], grids: list[Grid], matches: list[HeaderMatch]) -> None:
    """Give each parsed sheet's result its accounting: header rows, score, runner-up, columns' uses."""
    for res, grid, match in zip(results, grids, matches, strict=True):
        res.columns = account_columns(grid, match)
        res.header_row, res.header_depth, res.score = match.row, match.depth, match.score
        res.runner_up = match.runner_up
