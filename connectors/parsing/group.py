"""Groups: sheets of one layout and header structure parsed together (grade books: a sheet per
subject; plain tables with the same canonical columns, from one file or several). A sheet parsed
alone is a group of one. Each member's data rows are collected once (`collect_members`) into one raw
frame (`group_raw`), finished once (`finish.finish_group`), and split back per sheet.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from connectors.layouts import Layout
from connectors.parsing.blocks import SheetRows, collect_arrays
from connectors.parsing.finish import finish_group
from connectors.parsing.model import Grid, HeaderMatch, ParseContext, SheetResult, sheet_contexts


def groupable(layout: Layout) -> bool:
    """Layouts whose sheets may share a group: no school-name column (a registry lookup per row whose
    fallback is per sheet) and only post-processors registered as row-wise
    (`derive.register(..., row_wise=True)`). The sheets of other layouts are groups of one."""
    from connectors import derive

    if layout.options.get("school_name_column"):
        return False
    return all(derive.is_row_wise(name) for name in layout.post)


def group_key(match: HeaderMatch) -> tuple:
    """Sheets with equal keys can be parsed together: same layout and the same canonical columns (their
    positions, header texts, extra and mark columns may differ per sheet: a reshaper reads the union of
    their mark kinds)."""
    return (match.layout.id, tuple(sorted(match.mapping.values())))


def parse_tables(
    grids: list[Grid], matches: list[HeaderMatch], ctx: ParseContext | list[ParseContext]
) -> list[SheetResult]:
    """Plain-table sheets of one group (from one file or several: `ctx` is then one context per sheet):
    value parsing runs once over all their rows."""
    layout = matches[0].layout
    ctxs = sheet_contexts(ctx, len(grids))
    results: list[SheetResult | None] = [None] * len(grids)
    gm = collect_members(grids, matches, results, empty=lambda: pd.DataFrame(columns=[*layout.columns]))
    if not gm.members:
        return results  # type: ignore[return-value]
    sid, srow, raw = gm.row_arrays()
    grp = finish_group(
        raw,
        sid,
        srow,
        layout,
        [grids[i].sheet for i in gm.members],
        [ctxs[i] for i in gm.members],
        gm.texts_of,
        gm.cols_of,
        gm.skipped,
    )
    for k, r in enumerate(grp.results):
        results[gm.members[k]] = r
    return results  # type: ignore[return-value]


@dataclass
class GroupMembers:
    """The sheets of a group that have data rows, collected once for the group parsers: per member its
    position in the group, rows (`collect_arrays`), match, special columns (`kinds`: e.g. TT22 mark
    columns, kept out of src_extra), rows skipped, header text and grid column of each canonical column,
    the (canonical name, grid column) of its value columns and its src_extra values."""

    members: list[int] = field(default_factory=list)
    collected: list[SheetRows] = field(default_factory=list)
    matches: list[HeaderMatch] = field(default_factory=list)
    kinds: list[dict[int, Any]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    texts_of: list[dict[str, str]] = field(default_factory=list)
    cols_of: list[dict[str, int]] = field(default_factory=list)
    value_of: list[list[tuple[str, int]]] = field(default_factory=list)
    extras: list[np.ndarray | None] = field(default_factory=list)

    def row_arrays(self) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        """(member index of each row, its sheet row, the group's raw frame) over every member's rows."""
        sizes = [len(sr.rows) for sr in self.collected]
        sid = np.repeat(np.arange(len(self.members)), sizes)
        srow = np.concatenate([sr.rows for sr in self.collected])
        return sid, srow, group_raw(self.collected, self.value_of, self.extras, sizes)


def collect_members(
    grids: list[Grid],
    matches: list[HeaderMatch],
    results: list[SheetResult | None],
    empty: Callable[[], pd.DataFrame],
    kinds_of: Callable[[HeaderMatch], dict[int, Any]] | None = None,
) -> GroupMembers:
    """Collect the group's sheets; a sheet without data rows gets its (empty) result in `results` now."""
    layout = matches[0].layout
    gm = GroupMembers()
    for i, (grid, m) in enumerate(zip(grids, matches, strict=True)):
        kinds = kinds_of(m) if kinds_of is not None else {}
        sr = collect_arrays(grid, m)
        if not len(sr.rows):
            results[i] = SheetResult(layout, grid.sheet, empty(), [], [], 0, sr.skipped)
            continue
        gm.members.append(i)
        gm.collected.append(sr)
        gm.matches.append(m)
        gm.kinds.append(kinds)
        gm.extras.append(extra_values(sr, m, [c for c in m.paths if c not in m.mapping and c not in kinds]))

        name_col = layout.options.get("school_name_column")  # read for the school even when not stored
        gm.value_of.append(
            [(n, c) for c, n in m.mapping.items() if layout.columns[n].role == "value" or n == name_col]
        )
        gm.skipped.append(sr.skipped)
        gm.texts_of.append({n: " / ".join(m.paths.get(c, [n])) for c, n in m.mapping.items()})
        gm.cols_of.append({n: c for c, n in m.mapping.items()})
    return gm


def extra_values(sr: SheetRows, match: HeaderMatch, extra: list[int]) -> np.ndarray | None:
    """`src_extra` of each data row of a sheet: its unknown columns as one JSON object (raw storage only),
    keyed by the header tiers joined by " / " (a repeated header: its first column), columns without a
    value left out; None when there is none. Written as pandas' `to_json(orient="records")` writes it
    (`/` escaped as `\\/`, non-ASCII kept), each distinct cell encoded once per column."""
    parts: list[list[str]] = []
    seen: set[str] = set()
    for c in extra:
        label = " / ".join(match.paths[c])
        if label in seen:
            continue
        seen.add(label)
        codes, uniques = pd.factorize(sr.cells[:, sr.col_pos[c]], use_na_sentinel=True)
        if not len(uniques):  # every cell missing: the column is left out
            continue
        key = _json(label) + ":"
        enc = [key + _json(u) for u in uniques.tolist()] + [key + "null"]
        parts.append([enc[k] for k in codes.tolist()])  # code -1 (missing) → the last: null
    if not parts:
        return None
    return np.array(["{" + ",".join(row) + "}" for row in zip(*parts, strict=True)], dtype=object)


def _json(value: object) -> str:
    """One JSON value as pandas' `to_json` writes a cell (`force_ascii=False`)."""
    return json.dumps(value, ensure_ascii=False).replace("/", "\\/")


def group_raw(
    collected: list[SheetRows],
    value_of: list[list[tuple[str, int]]],
    extras: list[np.ndarray | None],
    sizes: list[int],
) -> pd.DataFrame:
    """The `mapped_frame` of every member sheet, concatenated (index 0..n-1), built from the sheets'
    cell matrices in one DataFrame: value columns, src_extra, block metadata (missing → None)."""
    n = sum(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    cols: dict[str, np.ndarray] = {}

    def column(name: str) -> np.ndarray:
        if name not in cols:
            cols[name] = np.full(n, None, dtype=object)
        return cols[name]

    for k, sr in enumerate(collected):
        lo, hi = starts[k], starts[k + 1]
        for name, c in value_of[k]:
            column(name)[lo:hi] = sr.cells[:, sr.col_pos[c]]
        if extras[k] is not None:
            column("src_extra")[lo:hi] = extras[k]
        at = lo
        for size, meta in sr.metas:
            for name, v in meta.items():
                column(name)[at : at + size] = v
            at += size
    return pd.DataFrame(cols, index=pd.RangeIndex(n))
