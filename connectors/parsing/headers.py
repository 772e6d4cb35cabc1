"""Header location: which layouts' anchors appear in a row of the first 40 rows (`find_headers`),
their evidence scores, the header depth read from the file (1 to 4 tiers), each column's tier path
with merged parents filled (`header_paths`) and the mapping of columns to canonical names
(`map_columns`). Why a sheet gives no rows (`sheet_not_read`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.layouts import Layout
from connectors.parsing.model import Grid, HeaderMatch

HEADER_SCAN_ROWS = 40


def _row_forms(arr: np.ndarray, columns: list[int], i: int) -> list[tuple[int, tuple[str, ...]]]:
    """(column, header forms) of every non-blank text cell of matrix row i (forms cached per text)."""
    return [
        (columns[j], nz.header_forms_t(v))
        for j, v in enumerate(arr[i].tolist())
        if isinstance(v, str) and v.strip()
    ]


def _cell_matches(forms: Sequence[str], keys: set[str]) -> bool:
    return any(f in keys for f in forms)


@dataclass
class _AnchorIndex:
    """Anchor header form → the anchors having it (numbered; `owners` gives each its layout position and
    column), a cache of cell text → the anchors one of its header forms is a form of, and whether every
    anchor form holds a letter (then a text without one, a mark, a date or a code, never matches and
    needs no header forms)."""

    layouts: tuple[Layout, ...]
    forms: dict[str, tuple[int, ...]]
    owners: list[tuple[int, str]]
    by_text: dict[str, frozenset[int]]
    needs_letter: bool

    def anchors_of(self, text: object) -> frozenset[int]:
        """The anchors one of whose header forms a cell text is (empty for most data cells)."""
        if not isinstance(text, str):
            return _NO_ANCHOR
        hit = self.by_text.get(text)
        if hit is None:
            if not text.strip() or (self.needs_letter and not _LETTER.search(text)):
                hit = _NO_ANCHOR
            else:
                hit = frozenset(a for f in nz.header_forms_t(text) for a in self.forms.get(f, ()))
            if len(self.by_text) >= 1 << 17:
                self.by_text.clear()
            self.by_text[text] = hit
        return hit


_NO_ANCHOR: frozenset[int] = frozenset()
_LETTER = re.compile(r"[^\W\d_]")  # a letter of any script (header forms keep a-z and 0-9 only)
_ANCHOR_INDEX: list[_AnchorIndex] = []


def _anchor_index(layouts: tuple[Layout, ...]) -> _AnchorIndex:
    """The anchor index of a layouts tuple (kept for the last one asked)."""
    for ai in _ANCHOR_INDEX:
        if ai.layouts is layouts:
            return ai
    acc: dict[str, list[int]] = {}
    owners: list[tuple[int, str]] = []
    for li, layout in enumerate(layouts):
        for name, keys in layout.anchors.items():
            for k in keys:
                acc.setdefault(k, []).append(len(owners))
            owners.append((li, name))
    forms = {k: tuple(v) for k, v in acc.items()}
    _ANCHOR_INDEX[:] = [_AnchorIndex(layouts, forms, owners, {}, all(_LETTER.search(k) for k in forms))]
    return _ANCHOR_INDEX[0]


@dataclass(frozen=True)
class NearMiss:
    """A layout whose anchors all but one appear in one header row (docs/real_exports.md: a sheet so
    close to a layout is reported with the missing header, never dropped in silence)."""

    layout: Layout
    row: int
    missing: str  # the first header text of the missing anchor column


def _distinct_weights(layouts: tuple[Layout, ...]) -> dict[str, dict[str, int]]:
    """Per entity: header form → weight 3 when no layout of another entity accepts that header (a
    column only this entity has), else 1 (docs/real_exports.md: layout choice by evidence)."""
    cached = _WEIGHTS.get(id(layouts))
    if cached is not None and cached[0] is layouts:
        return cached[1]
    entities_of: dict[str, set[str]] = {}
    for lay in layouts:
        for f in lay.header_index():
            entities_of.setdefault(f, set()).add(lay.entity)
    out: dict[str, dict[str, int]] = {}
    for f, ents in entities_of.items():
        for e in ents:
            out.setdefault(e, {})[f] = 3 if len(ents) == 1 else 1
    _WEIGHTS.clear()
    _WEIGHTS[id(layouts)] = (layouts, out)
    return out


_WEIGHTS: dict[int, tuple[tuple[Layout, ...], dict[str, dict[str, int]]]] = {}


def evidence_score(
    match_layout: Layout, paths: dict[int, list[str]], mapping: dict[int, str], layouts: tuple[Layout, ...]
) -> int:
    """A mapped column counts 1, or 3 when its header is one only this layout's entity has (a student
    list's `Lớp học`, a summary book's `HỌ VÀ TÊN HỌC SINH`): shared anchors never outweigh them."""
    weights = _distinct_weights(layouts).get(match_layout.entity, {})
    score = 0
    for c in mapping:
        forms = nz.header_forms_t(paths[c][-1]) if c in paths else ()
        score += max((weights.get(f, 1) for f in forms), default=1)
    return score


def find_headers(
    grid: Grid, layouts: tuple[Layout, ...], near: list[NearMiss] | None = None
) -> list[HeaderMatch]:
    """Every layout whose anchors all appear in one row of the first 40 rows, with its score (by
    evidence, `evidence_score`) and the best other layout's (`runner_up`). With `near`, layouts missing
    one anchor in a row are added to it (each layout once, when it has no full match).

    Only rows holding enough of a layout's anchors can match it: the distinct texts of the top rows are
    looked up once in the anchor index, and the header forms of a row's cells are gathered only for
    those rows (with `near`: for every row holding one of the layout's anchors)."""
    top = _TopRows(grid)
    cand = _candidate_rows(top.values, _anchor_index(layouts))
    matches: list[HeaderMatch] = []
    for li, layout in enumerate(layouts):
        if not layout.anchors or li not in cand:
            continue
        need = layout.min_anchor_count or len(layout.anchors)
        rows = sorted(r for r, got in cand[li].items() if near is not None or len(got) >= need)
        if not rows:
            continue
        found, missed = _match_layout(grid, top, layout, rows, layouts, near is not None)
        if found is not None:
            matches.append(found)
        elif missed is not None and near is not None:
            near.append(missed)
    for m in matches:  # each match knows the best other candidate (kept for reports and `cds inspect`)
        others = [o for o in matches if o is not m]
        if others:
            best = max(others, key=lambda o: o.score)  # ties: the first listed
            m.runner_up = (best.layout.id, best.score)
    return matches


class _TopRows:
    """The first rows of a sheet, with the header forms of a row's text cells gathered once per row."""

    def __init__(self, grid: Grid) -> None:
        self.values = grid.values[:HEADER_SCAN_ROWS]
        self.rows = grid.row_index[:HEADER_SCAN_ROWS].tolist()
        self.columns = [int(c) for c in grid.columns]
        self._cells: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        self._forms: dict[int, set[str]] = {}

    def forms_of(self, i: int) -> tuple[list[tuple[int, tuple[str, ...]]], set[str]]:
        if i not in self._cells:
            self._cells[i] = _row_forms(self.values, self.columns, i)
            self._forms[i] = {f for _, fs in self._cells[i] for f in fs}
        return self._cells[i], self._forms[i]


def _candidate_rows(top: np.ndarray, index: _AnchorIndex) -> dict[int, dict[int, set[str]]]:
    """Layout → matrix row → its anchors found in that row (each distinct text looked up once)."""
    codes, uniques = pd.factorize(top.ravel(), use_na_sentinel=True)
    by_text = index.by_text
    hits = [by_text.get(u) if type(u) is str else None for u in uniques.tolist()]
    for k, h in enumerate(hits):  # texts not seen before (and anything that is not text)
        if h is None:
            hits[k] = index.anchors_of(uniques[k])
    cand: dict[int, dict[int, set[str]]] = {}
    hit = np.fromiter((bool(h) for h in hits), dtype=bool, count=len(hits))
    if not hit.any():
        return cand
    width = top.shape[1] if top.ndim == 2 else 0
    at = np.flatnonzero((codes >= 0) & np.append(hit, False)[codes])  # cells holding an anchor form
    owners = index.owners
    for pos, u in zip(at.tolist(), codes[at].tolist(), strict=True):
        for a in hits[u] or ():
            li, name = owners[a]
            cand.setdefault(li, {}).setdefault(pos // width, set()).add(name)
    return cand


def _match_layout(
    grid: Grid, top: _TopRows, layout: Layout, rows: list[int], layouts: tuple[Layout, ...], want_near: bool
) -> tuple[HeaderMatch | None, NearMiss | None]:
    """The first candidate row where a layout's anchors all appear (its match), else the first row
    missing one anchor (a near miss, when asked)."""
    anchors = layout.anchors
    need = layout.min_anchor_count or len(anchors)
    missed: NearMiss | None = None
    for i in rows:
        cells, forms_here = top.forms_of(i)
        r = top.rows[i]
        found = {a for a, keys in anchors.items() if keys & forms_here}
        if (
            want_near
            and missed is None
            and not layout.min_anchor_count
            and len(anchors) >= 2
            and len(found) == len(anchors) - 1
        ):
            (lost,) = set(anchors) - found
            missed = NearMiss(layout, r, layout.columns[lost].headers[0])
        if len(found) >= need and (layout.min_anchor_count or found == set(anchors)):
            n_codes = _code_columns(top, layout, i)
            if n_codes is None:
                continue
            key_col = next(
                (c for c, f in cells if _cell_matches(f, layout.columns[layout.key].header_keys())), None
            )
            depth = header_depth(grid, r, key_col, int(layout.options.get("header_rows", 1)))
            mapping, paths = map_columns(grid, r, depth, layout)
            score = evidence_score(layout, paths, mapping, layouts) + n_codes
            return HeaderMatch(layout, r, depth, mapping, paths, score), None
    return None, missed


def _code_columns(top: _TopRows, layout: Layout, i: int) -> int | None:
    """With `options.code_regex`: the distinct codes in the header row and the two below it (None when
    fewer than `min_code_columns`); 0 for other layouts."""
    code_rx = layout.options.get("code_regex")
    if not code_rx:
        return 0
    r = top.rows[i]
    texts = [
        str(v)
        for k in (i, i + 1, i + 2)
        if k < len(top.values) and top.rows[k] - r == k - i
        for v in top.values[k].tolist()
        if isinstance(v, str)
    ]
    n_codes = len({m.group(0) for t in texts for m in [re.search(code_rx, t)] if m})
    return None if n_codes < int(layout.options.get("min_code_columns", 1)) else n_codes


def sheet_not_read(grid: Grid, layouts: tuple[Layout, ...]) -> tuple[str, str]:
    """Why a sheet gives no rows: (`empty_sheet` | `incomplete_header` | `no_layout`, Vietnamese detail)."""
    if grid.empty or not grid.nonblank.any():
        return "empty_sheet", "trang trống"
    near: list[NearMiss] = []
    find_headers(grid, layouts, near)
    if near:
        nm = near[0]
        return (
            "incomplete_header",
            f"trang «{grid.sheet}» giống mẫu {nm.layout.id} (dòng {nm.row}) nhưng thiếu cột «{nm.missing}»",
        )
    return "no_layout", f"trang «{grid.sheet}» không khớp mẫu báo cáo nào (không đủ các cột bắt buộc)"


def header_depth(grid: Grid, row: int, key_col: int | None, max_depth: int) -> int:
    """1 + the rows under the header (at most `max_depth - 1`) that hold sub-labels: the key cell is
    blank while some other cell is not (data rows always carry a key)."""
    depth = 1
    if key_col is None:
        return max_depth
    key_j = grid.col_position(key_col)
    for r in range(row + 1, row + max_depth):
        at = grid.span(r, r)
        if at.start == at.stop:
            break
        vals = grid.values[at.start]
        key = vals[key_j] if key_j is not None else None
        others = any(isinstance(v, str) and v.strip() for v in vals)
        if (isinstance(key, str) and key.strip()) or not others:
            break
        depth += 1
    return depth


def header_paths(grid: Grid, row: int, depth: int) -> dict[int, list[str]]:
    """Tier labels per column: merged/blank cells forward-filled rightward (parents) and downward."""
    block = grid.values[grid.span(row, row + depth - 1)]
    tiers: list[list[str]] = []
    cols = list(grid.columns)
    raw_tiers = [[nz.nfc(v) if isinstance(v, str) else "" for v in r] for r in block]
    for i, labels in enumerate(raw_tiers):
        labels = list(labels)
        if i < depth - 1:
            # a merged parent fills rightward only over columns that have a label in a lower tier
            # (a vertically merged column ends the span) and never across a grandparent boundary
            last = ""
            for j, lab in enumerate(labels):
                below = any(raw_tiers[k][j] for k in range(i + 1, len(raw_tiers)))
                same_parent = i == 0 or (j > 0 and tiers[i - 1][j] == tiers[i - 1][j - 1])
                if lab:
                    last = lab
                elif last and below and same_parent:
                    labels[j] = last
                else:
                    last = ""
        tiers.append(labels)
    paths: dict[int, list[str]] = {}
    for j, c in enumerate(cols):
        path: list[str] = []
        for t in tiers:
            lab = t[j] if j < len(t) else ""
            if lab and (not path or path[-1] != lab):
                path.append(lab)
        if path:
            paths[int(c)] = path
    return paths


def map_columns(
    grid: Grid, row: int, depth: int, layout: Layout
) -> tuple[dict[int, str], dict[int, list[str]]]:
    """Map grid columns to canonical columns by leaf label (parent decides when ambiguous)."""
    paths = header_paths(grid, row, depth)
    index = layout.header_index()
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for c, path in paths.items():
        leaf = path[-1]
        cands: list[str] = []
        for f in nz.header_forms(leaf):
            cands = index.get(f, [])
            if cands:
                break
        if len(cands) > 1:
            parents = {nz.norm(p) for p in path[:-1]}
            narrowed = [n for n in cands if layout.columns[n].parent in parents]
            cands = narrowed or [n for n in cands if layout.columns[n].parent is None] or cands
        for name in cands:
            if name not in used:
                mapping[c] = name
                used.add(name)
                break
    return mapping, paths
