"""Blocks: the data rows under a located header, split where the header repeats (each block with its
own title metadata) and ended by footers; blank, column-number and footer rows skipped
(`split_blocks`), and every block's rows collected as one cell matrix (`collect_arrays`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.parsing.cells import _DIGIT, _footer_flags, _footer_mask, _trimmed
from connectors.parsing.model import Grid, HeaderMatch
from connectors.parsing.titles import parse_title

_COLNUM = re.compile(r"^\(?\d{1,3}\)?$")


@dataclass
class Block:
    header_row: int
    data_rows: list[int]
    meta: dict[str, str]


def split_blocks(grid: Grid, match: HeaderMatch) -> tuple[list[Block], int]:
    """Data rows per block; returns blocks and the count of skipped rows (blank, footer, titles)."""
    key_col = next((c for c, n in match.mapping.items() if n == match.layout.key), None)
    body_at = grid.span(match.row + match.depth, None)
    title_rows = grid.values[grid.span(None, match.row - 1)]
    if body_at.start == body_at.stop:
        return [Block(match.row, [], parse_title(title_rows))], 0
    arr = grid.values[body_at]
    idx = grid.row_index[body_at]
    key_j = grid.col_position(key_col) if key_col is not None else None
    rows = _body_rows(grid, match, arr, grid.nonblank[body_at], idx, key_j)
    events = sorted(
        [(int(r), "footer") for r in idx[rows.footer]] + [(int(r), "header") for r in idx[rows.header]]
    )
    bounds = _block_bounds(grid, match, events, idx, rows.key_empty, key_j, parse_title(title_rows))
    blocks: list[Block] = []
    in_block = np.zeros(len(idx), dtype=bool)
    for lo, hi, hdr, m in bounds:
        if hi < lo:
            continue
        sel = (idx >= lo) & (idx <= hi)
        in_block |= sel
        blocks.append(Block(hdr, idx[sel & ~rows.skip].tolist(), m))
    skipped = int((~in_block).sum() + (rows.skip & in_block).sum())
    return blocks, skipped


@dataclass
class _BodyRows:
    """Per body row: key cell empty, footer, repeated header, and skipped (blank, column numbers, footer
    or header)."""

    key_empty: np.ndarray
    footer: np.ndarray
    header: np.ndarray
    skip: np.ndarray


def _body_rows(
    grid: Grid, match: HeaderMatch, arr: np.ndarray, nonblank: np.ndarray, idx: np.ndarray, key_j: int | None
) -> _BodyRows:
    """Classify the rows under the header."""
    is_blank = ~nonblank.any(axis=1)
    key_keys = match.layout.columns[match.layout.key].header_keys()
    is_header = np.zeros(len(idx), dtype=bool)
    key_list = _trimmed(arr[:, key_j]) if key_j is not None else [""] * len(idx)
    if key_list is not None:  # Arrow trim as `.str.strip()`; `\d` searched with `re` as pandas does
        key_empty = np.fromiter((v is None or v == "" for v in key_list), dtype=bool, count=len(idx))
        cand_np = np.fromiter(
            (v is not None and _DIGIT.search(v) is None for v in key_list), dtype=bool, count=len(idx)
        )
        cand_vals = [v for v, c in zip(key_list, cand_np.tolist(), strict=True) if c]
    else:
        key_vals = pd.Series(arr[:, key_j], index=idx, dtype=object).astype("string").str.strip()
        key_empty = (key_vals.isna() | (key_vals == "")).to_numpy(dtype=bool)
        cand = key_vals.notna() & ~key_vals.str.contains(r"\d", regex=True).fillna(True).astype(bool)
        cand_np = cand.to_numpy(dtype=bool)
        cand_vals = key_vals[cand].tolist()  # type: ignore[assignment]
    footer = key_empty & ~is_blank
    if footer.any():
        flags = _footer_flags(arr[footer])
        if flags is None:
            flags = _footer_mask(pd.DataFrame(arr[footer], index=idx[footer], columns=grid.columns)).to_numpy(
                dtype=bool
            )
        footer[footer] = flags
    # a repeated header row: the key column holds one of the key's header texts
    if cand_np.any():  # only digit-free key cells can repeat the header text: few rows, loop is fine
        is_header[cand_np] = [any(f in key_keys for f in nz.header_forms_t(v)) for v in cand_vals]
    # column-number row right under the header
    colnum = np.zeros(len(idx), dtype=bool)
    first_vals = [v for v in arr[0] if isinstance(v, str) and v.strip()]
    if first_vals and all(_COLNUM.match(v.strip()) for v in first_vals) and len(first_vals) >= 3:
        colnum[0] = True
    return _BodyRows(key_empty, footer, is_header, is_blank | colnum | footer | is_header)


def _block_bounds(
    grid: Grid,
    match: HeaderMatch,
    events: list[tuple[int, str]],
    idx: np.ndarray,
    key_empty: np.ndarray,
    key_j: int | None,
    meta: dict[str, str],
) -> list[tuple[int, int, int, dict[str, str]]]:
    """(first row, last row, header row, title metadata) of each block: a footer ends a block, a repeated
    header starts one (its title rows, the key-less rows right above it, give its metadata; the school
    carries over)."""
    current_header = match.row
    in_footer = False
    seg_start = int(idx[0])
    bounds: list[tuple[int, int, int, dict[str, str]]] = []
    key_empty_at = dict(zip(idx.tolist(), key_empty.tolist(), strict=True)) if events else {}
    for r, kind in events:
        if kind == "footer":
            if not in_footer:
                bounds.append((seg_start, r - 1, current_header, meta))
            in_footer = True
            continue
        t0 = r  # header repeat: title rows are the key-less or one-cell title rows right above it
        while t0 - 1 >= seg_start and (bool(key_empty_at.get(t0 - 1, False)) or _title_row(grid, t0 - 1)):
            t0 -= 1
        if not in_footer:
            bounds.append((seg_start, t0 - 1, current_header, meta))
        prev_data = [b for b in bounds if b[1] >= b[0]]
        lo = max((b[1] for b in prev_data), default=match.row) + 1
        above = grid.values[grid.span(lo, r - 1)]
        if len(above) and key_j is not None:  # title rows: key cell not data-like, or a one-cell title
            rows_above = grid.row_index[grid.span(lo, r - 1)].tolist()
            above = above[
                [
                    not _data_like(v) or _title_row(grid, int(k))
                    for v, k in zip(above[:, key_j], rows_above, strict=True)
                ]
            ]
        new_meta = parse_title(above)
        meta = {**{k: v for k, v in meta.items() if k in {"school_code", "school_name"}}, **new_meta}
        current_header = r
        in_footer = False
        seg_start = r + match.depth
    if not in_footer:
        bounds.append((seg_start, int(idx[-1]), current_header, meta))
    return bounds


def _title_row(grid: Grid, row: int) -> bool:
    """A row holding one non-blank cell that reads as a title (e.g. `LỚP 1B` in the key column of a sheet
    with no STT column, R9): a block's title, never a data row, although its text has a digit."""
    at = grid.span(row, row)
    if at.stop - at.start != 1 or int(grid.nonblank[at].sum()) != 1:
        return False
    return bool(parse_title(grid.values[at]))


def _data_like(v: object) -> bool:
    """A key cell that looks like data (a code, a number), not like a title text."""
    return isinstance(v, str) and bool(v.strip()) and not v.strip().isalpha()


@dataclass
class SheetRows:
    """The data rows of every block of a sheet, in order, as one cell matrix."""

    rows: np.ndarray  # sheet row of each data row (int64)
    cells: np.ndarray  # object matrix: data rows × grid columns
    col_pos: dict[int, int]  # grid column → position in `cells`
    metas: list[tuple[int, dict[str, str]]]  # per block with data: (rows, `_meta_*` columns)
    skipped: int


def collect_arrays(grid: Grid, match: HeaderMatch) -> SheetRows:
    """The data rows of every block as an object matrix plus each block's title metadata (`_meta_*`)."""
    blocks, skipped = split_blocks(grid, match)
    col_pos = {int(c): j for j, c in enumerate(grid.columns)}
    rows: list[int] = []
    metas: list[tuple[int, dict[str, str]]] = []
    for b in blocks:
        if not b.data_rows:
            continue
        rows.extend(b.data_rows)
        m = {f"_meta_{k}": v for k, v in b.meta.items() if not k.startswith("_")}
        m["_meta_texts"] = b.meta.get("_texts", "")
        metas.append((len(b.data_rows), m))
    row_arr = np.asarray(rows, dtype=np.int64)
    if not len(row_arr):
        return SheetRows(row_arr, np.empty((0, len(col_pos)), dtype=object), col_pos, [], skipped)
    return SheetRows(row_arr, grid.values[grid.positions(row_arr)], col_pos, metas, skipped)
