"""Turn one sheet grid (all cells as text) into canonical rows of a layout (docs/exports.md §1.2–§1.6).

Steps: detect the layout by anchors in the first 40 rows, build column paths from the header rows,
read title metadata, split repeated blocks, skip footers, parse and map values column by column
(vectorised), and collect rejected rows with a reason a school data officer understands.
Layouts whose shape is not a plain table hand the located header to a reshaper
(`connectors.reshapers`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors import normalize as nz
from connectors.issues import RowIssue
from connectors.layouts import ColumnSpec, Layout, value_lookup
from connectors.vocabulary import vocabulary

HEADER_SCAN_ROWS = 40
_COLNUM = re.compile(r"^\(?\d{1,3}\)?$")
_TITLE_SPLIT = re.compile(r"\s+-\s+(?=[^\d\s])")


# ---------------------------------------------------------------------------------------------
class Grid:
    """One sheet as text cells (str or None): rows are 1-based sheet rows, columns 0-based absolute
    columns.

    The parser reads the cells as an object matrix (`values`) with the sheet row of each matrix row
    (`row_index`) and the column of each matrix column (`columns`); `cells` is the same as a DataFrame,
    built only when something asks for it (readers hand over the matrix)."""

    def __init__(self, sheet: str, cells: pd.DataFrame | None = None, *, values: np.ndarray | None = None,
                 columns: list[int] | None = None) -> None:  # fmt: skip
        self.sheet = sheet
        self._cells = cells
        self._values = values
        self._columns = None if columns is None else pd.Index(columns)
        self._col_pos: dict[int, int] | None = None
        if cells is None and values is None:
            raise ValueError("a grid needs its cells")

    @property
    def cells(self) -> pd.DataFrame:
        if self._cells is None:
            self._cells = pd.DataFrame(self.values, index=self.row_index, columns=self.columns, dtype=object,
                                       copy=False)  # fmt: skip
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


def sheets_report(sheets: list[SheetResult], unread: list[tuple[str, str, str]]) -> str | None:
    """The accounting of one file as JSON (the manifest's `sheets_report`): per parsed sheet its layout,
    score, runner-up, header rows, the letters of the columns read and the non-empty columns not read
    (letter, header);
    per sheet not parsed its reason code and Vietnamese detail. None when there is nothing to say."""
    import json

    parsed = [
        {"sheet": s.sheet, "layout": s.layout.id, "score": s.score,
         "runner_up": list(s.runner_up) if s.runner_up else None,
         "header_rows": [s.header_row, s.header_row + s.header_depth - 1] if s.header_row else None,
         "read": [c.letter for c in s.columns if c.read],
         "not_read": [[c.letter, c.header] for c in s.columns if not c.read and c.non_empty]}
        for s in sheets if s.columns or s.header_row
    ]  # fmt: skip
    other = [{"sheet": name, "reason_code": code, "detail": detail} for name, code, detail in unread]
    if not parsed and not other:
        return None
    return json.dumps({"sheets": parsed, "not_parsed": other}, ensure_ascii=False)


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
    rows: pd.DataFrame
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
    def records(self) -> int:
        """Records for the raw table (`rows`, or their count once packed for storing)."""
        return len(self.rows) if self.n_records is None else self.n_records

    @property
    def rows_rejected(self) -> int:
        """Source rows named by at least one reject (a grade-book row with one bad mark is rejected,
        though its other marks are written)."""
        return len({r.row for r in self.rejects})

    @property
    def rows_kept(self) -> int:
        """Source rows read and not rejected."""
        return self.rows_read - self.rows_rejected


# ---------------------------------------------------------------------------------------------
# Header detection
# ---------------------------------------------------------------------------------------------
def _row_forms(arr: np.ndarray, columns: list[int], i: int) -> list[tuple[int, tuple[str, ...]]]:
    """(column, header forms) of every non-blank text cell of matrix row i (forms cached per text)."""
    return [(columns[j], nz.header_forms_t(v)) for j, v in enumerate(arr[i].tolist())
            if isinstance(v, str) and v.strip()]  # fmt: skip


def _cell_matches(forms: Sequence[str], keys: set[str]) -> bool:
    return any(f in keys for f in forms)


@dataclass
class _AnchorIndex:
    """Anchor header form → positions of the layouts having it, a cache of cell text → the layouts one of
    its header forms is an anchor of, and whether every anchor form holds a letter (then a text without
    one, a mark, a date or a code, never matches and needs no header forms)."""

    layouts: tuple[Layout, ...]
    forms: dict[str, tuple[int, ...]]
    by_text: dict[str, frozenset[int]]
    needs_letter: bool

    def layouts_of(self, text: object) -> frozenset[int]:
        """The layouts one of whose anchors a cell text is a header form of (empty for most data cells)."""
        if not isinstance(text, str):
            return frozenset()
        hit = self.by_text.get(text)
        if hit is None:
            if not text.strip() or (self.needs_letter and not _LETTER.search(text)):
                return frozenset()
            hit = frozenset(li for f in nz.header_forms_t(text) for li in self.forms.get(f, ()))
            if len(self.by_text) >= 1 << 16:
                self.by_text.clear()
            self.by_text[text] = hit
        return hit


_LETTER = re.compile(r"[^\W\d_]")  # a letter of any script (header forms keep a-z and 0-9 only)
_ANCHOR_INDEX: list[_AnchorIndex] = []


def _anchor_index(layouts: tuple[Layout, ...]) -> _AnchorIndex:
    """The anchor index of a layouts tuple (kept for the last one asked)."""
    for ai in _ANCHOR_INDEX:
        if ai.layouts is layouts:
            return ai
    acc: dict[str, set[int]] = {}
    for li, layout in enumerate(layouts):
        for keys in layout.anchors.values():
            for k in keys:
                acc.setdefault(k, set()).add(li)
    forms = {k: tuple(sorted(v)) for k, v in acc.items()}
    _ANCHOR_INDEX[:] = [_AnchorIndex(layouts, forms, {}, all(_LETTER.search(k) for k in forms))]
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


def evidence_score(match_layout: Layout, paths: dict[int, list[str]], mapping: dict[int, str],
                   layouts: tuple[Layout, ...]) -> int:  # fmt: skip
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

    Only rows holding a cell that is a header form of some layout's anchor can match that layout: the
    distinct texts of the top rows are looked up once, and the header forms of a row's cells are
    gathered only for those rows."""
    top = grid.values[:HEADER_SCAN_ROWS]
    top_rows = grid.row_index[:HEADER_SCAN_ROWS].tolist()
    columns = [int(c) for c in grid.columns]
    index = _anchor_index(layouts)
    codes, uniques = pd.factorize(top.ravel(), use_na_sentinel=True)
    by_text = index.by_text
    hits = [by_text.get(u) if type(u) is str else None for u in uniques.tolist()]
    for k, h in enumerate(hits):  # texts not seen before (and anything that is not text)
        if h is None:
            hits[k] = index.layouts_of(uniques[k])
    cand: dict[int, set[int]] = {}  # layout → matrix rows holding one of its anchor forms
    width = top.shape[1] if top.ndim == 2 else 0
    for u in [u for u, h in enumerate(hits) if h]:
        for pos in np.flatnonzero(codes == u).tolist():
            for li in hits[u] or ():
                cand.setdefault(li, set()).add(pos // width)
    by_row: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
    row_forms: dict[int, set[str]] = {}

    def forms_of(i: int) -> tuple[list[tuple[int, tuple[str, ...]]], set[str]]:
        if i not in by_row:
            by_row[i] = _row_forms(top, columns, i)
            row_forms[i] = {f for _, fs in by_row[i] for f in fs}
        return by_row[i], row_forms[i]

    matches: list[HeaderMatch] = []
    for li, layout in enumerate(layouts):
        anchors = layout.anchors
        if not anchors or li not in cand:
            continue
        need = layout.min_anchor_count or len(anchors)
        code_rx = layout.options.get("code_regex")
        missed: NearMiss | None = None
        for i in sorted(cand[li]):
            cells, forms_here = forms_of(i)
            r = top_rows[i]
            found = {a for a, keys in anchors.items() if keys & forms_here}
            if near is not None and missed is None and not layout.min_anchor_count and len(anchors) >= 2 \
                    and len(found) == len(anchors) - 1:  # fmt: skip
                (lost,) = set(anchors) - found
                missed = NearMiss(layout, r, layout.columns[lost].headers[0])
            if len(found) >= need and (layout.min_anchor_count or found == set(anchors)):
                n_codes = 0
                if code_rx:
                    texts = [str(v) for k in (i, i + 1, i + 2) if k < len(top) and top_rows[k] - r == k - i
                             for v in top[k].tolist() if isinstance(v, str)]  # fmt: skip
                    n_codes = len({m.group(0) for t in texts for m in [re.search(code_rx, t)] if m})
                    if n_codes < int(layout.options.get("min_code_columns", 1)):
                        continue
                key_col = next((c for c, f in cells if _cell_matches(f, layout.columns[layout.key].header_keys())),
                               None)  # fmt: skip
                depth = header_depth(grid, r, key_col, int(layout.options.get("header_rows", 1)))
                mapping, paths = map_columns(grid, r, depth, layout)
                score = evidence_score(layout, paths, mapping, layouts) + n_codes
                matches.append(HeaderMatch(layout, r, depth, mapping, paths, score))
                missed = None
                break
        if missed is not None and near is not None:
            near.append(missed)
    for m in matches:  # each match knows the best other candidate (kept for reports and `cds inspect`)
        others = [o for o in matches if o is not m]
        if others:
            best = max(others, key=lambda o: o.score)  # ties: the first listed
            m.runner_up = (best.layout.id, best.score)
    return matches


def sheet_not_read(grid: Grid, layouts: tuple[Layout, ...]) -> tuple[str, str]:
    """Why a sheet gives no rows: (`empty_sheet` | `incomplete_header` | `no_layout`, Vietnamese detail)."""
    if grid.empty or not _nonblank(grid.values).any():
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


# ---------------------------------------------------------------------------------------------
# Title metadata
# ---------------------------------------------------------------------------------------------
def parse_title(rows: pd.DataFrame | np.ndarray) -> dict[str, str]:
    """`Key: value` segments (separated by ` - ` or cells), a school year anywhere, `LỚP x` endings."""
    arr = rows.to_numpy(dtype=object) if isinstance(rows, pd.DataFrame) else rows
    texts = tuple(nz.nfc(v) for r in arr for v in r if isinstance(v, str) and v.strip())
    return dict(_parse_title_texts(texts))


@functools.lru_cache(maxsize=4096)
def _parse_title_texts(texts: tuple[str, ...]) -> dict[str, str]:
    """`parse_title` of the title texts (titles repeat from sheet to sheet: parsed once each; callers
    get a copy)."""
    meta: dict[str, str] = {}
    common = vocabulary().common
    title_keys, class_title = common.title_lookup, common.class_title_rx
    for text in texts:
        segments = _TITLE_SPLIT.split(text)
        for seg in segments:
            if ":" in seg:
                k, _, val = seg.partition(":")
                key = title_keys.get(nz.norm(k))
                if key and val.strip():
                    meta.setdefault(key, val.strip())
        # `… LỚP 6A` ends the text or one of its ` - ` segments (`Khối 6 - Lớp 6A - (Học kỳ 2)`)
        m = next((m for seg in [text, *segments[:-1]] if (m := class_title.search(seg.strip()))), None)
        if m:
            meta.setdefault("class_name", m.group(1).strip())
    for text in texts:  # a period or semester named by a phrase of the title line (no `Key:`)
        padded = f" {nz.norm(text)} "
        for phrase, item, value in common.title_phrases:
            if item not in meta and phrase in padded:
                meta[item] = value
                meta[f"_{item}_title"] = text
    for text in texts:
        try:
            sy = nz.school_year_of(text)
        except ValueError:
            meta.setdefault("school_year_error", text)
            continue
        if sy and not re.fullmatch(r"\d{4}", text.strip()):
            meta.setdefault("school_year", sy)
            break
    if "school_year" in meta:
        try:
            meta["school_year"] = nz.school_year_of(meta["school_year"]) or meta["school_year"]
        except ValueError:
            meta["school_year_error"] = meta.pop("school_year")
    meta["_texts"] = "\n".join(texts)
    return meta


# ---------------------------------------------------------------------------------------------
# Row classification and blocks
# ---------------------------------------------------------------------------------------------
def _footer_flags(arr: np.ndarray) -> np.ndarray | None:
    """`_footer_mask` of the rows of an object matrix of str/None cells with the same kernels
    (NFC by unicodedata, Arrow trim and lower, Arrow starts_with, the date pattern by `re` as pandas
    runs it); None when a cell is not text."""
    firsts: list[str | None] = []
    for row in arr:
        first = next((v for v in row if v is not None), None)
        if first is not None and type(first) is not str:
            return None
        firsts.append(first)
    return np.fromiter((v is not None and _footer_text(v) for v in firsts), dtype=bool, count=len(firsts))


@functools.lru_cache(maxsize=1 << 14)
def _footer_text(first: str) -> bool:
    """`_footer_flags` of one row's first text (footer texts repeat from sheet to sheet)."""
    return bool(_footer_flags_texts([first])[0])


def _footer_flags_texts(firsts: list[str | None]) -> np.ndarray:
    nfc = [None if v is None else unicodedata.normalize("NFC", v) for v in firsts]
    texts = pa.array(nfc, type=pa.large_string())
    texts = pc.utf8_lower(pc.utf8_trim_whitespace(texts))
    common = vocabulary().common
    prefixes = common.footer_prefixes
    starts = pc.starts_with(texts, pattern=prefixes[0])
    for prefix in prefixes[1:]:
        starts = pc.or_(starts, pc.starts_with(texts, pattern=prefix))
    out = pc.fill_null(starts, False).to_numpy(zero_copy_only=False).astype(bool)
    date_rx = common.footer_date_rx
    for i, t in enumerate(texts.to_pylist()):
        if t is not None and not out[i] and date_rx.search(t):
            out[i] = True
    return out


def _footer_mask(data: pd.DataFrame) -> pd.Series:
    arr = data.to_numpy(dtype=object)
    present = pd.notna(arr)
    first_pos = present.argmax(axis=1) if arr.shape[1] else np.zeros(len(arr), dtype=int)
    first_vals = (
        arr[np.arange(len(arr)), first_pos] if arr.shape[1] else np.full(len(arr), None, dtype=object)
    )
    first_vals = np.where(present.any(axis=1) if arr.shape[1] else False, first_vals, None)  # type: ignore[arg-type]
    first = pd.Series(first_vals, index=data.index, dtype=object).astype("string")
    first = first.str.normalize("NFC").str.strip().str.lower()
    common = vocabulary().common
    starts = first.str.startswith(tuple(common.footer_prefixes)).fillna(False)
    dated = first.str.contains(common.footer_date_rx.pattern, regex=True).fillna(False)
    return (starts | dated).astype(bool)


def _sure_text(vals: list) -> np.ndarray | None:
    """For text cells: True where the text starts and ends with a letter or digit (trimming cannot
    change it, it is not blank); None when a value is not text."""
    try:
        return np.array([v[:1].isalnum() and v[-1:].isalnum() for v in vals], dtype=bool)
    except (TypeError, AttributeError):
        return None


def _nonblank(arr: np.ndarray) -> np.ndarray:
    """Cells (an object matrix) that hold text other than whitespace; each distinct text checked once.
    Text that starts and ends with a letter or digit is not blank without looking further."""
    flat = arr.ravel()
    present = pd.notna(flat)
    vals = flat[present]
    sure = _sure_text(vals.tolist())
    if sure is not None:
        out = np.zeros(flat.shape, dtype=bool)
        if not sure.all():
            rest = vals[~sure]
            sure[~sure] = _nonblank_exact(rest.reshape(-1, 1)).ravel()
        out[present] = sure
        return out.reshape(arr.shape)
    return _nonblank_exact(arr)


def _nonblank_exact(arr: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(arr.ravel(), use_na_sentinel=True)
    if not len(uniques):
        return np.zeros(arr.shape, dtype=bool)
    texts = uniques.tolist()
    if all(type(u) is str for u in texts):  # what `.astype("string").str.strip()` runs, without pandas
        trimmed = pc.utf8_trim_whitespace(pa.array(texts, type=pa.large_string()))
        ok = pc.not_equal(trimmed, "").to_numpy(zero_copy_only=False).astype(bool)
    else:
        ok = (
            (pd.Series(uniques, dtype=object).astype("string").str.strip() != "")
            .fillna(False)
            .to_numpy(dtype=bool)
        )
    ok = np.append(ok, False)  # code -1 (missing) → position -1
    return ok[codes].reshape(arr.shape)


_DIGIT = re.compile(r"\d")


def _trimmed(values: np.ndarray) -> list[str | None] | None:
    """Text cells (str/None) trimmed by Arrow as `.astype("string").str.strip()` does; None when a
    cell is not text."""
    vals = values.tolist()
    if not all(v is None or type(v) is str for v in vals):
        return None
    need = [i for i, v in enumerate(vals) if v is not None and not (v[:1].isalnum() and v[-1:].isalnum())]
    if need:  # only text with other characters at its ends can change
        trimmed = pc.utf8_trim_whitespace(
            pa.array([vals[i] for i in need], type=pa.large_string())
        ).to_pylist()
        for i, t in zip(need, trimmed, strict=True):
            vals[i] = t
    return vals


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
    nonblank = _nonblank(arr)
    is_blank = ~nonblank.any(axis=1)
    key_keys = match.layout.columns[match.layout.key].header_keys()
    is_header = np.zeros(len(idx), dtype=bool)
    key_list = _trimmed(arr[:, key_j]) if key_j is not None else [""] * len(idx)
    if key_list is not None:  # Arrow trim as `.str.strip()`; `\d` searched with `re` as pandas does
        key_empty = np.fromiter((v is None or v == "" for v in key_list), dtype=bool, count=len(idx))
        cand_np = np.fromiter((v is not None and _DIGIT.search(v) is None for v in key_list), dtype=bool,
                              count=len(idx))  # fmt: skip
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

    events = sorted([(int(r), "footer") for r in idx[footer]] + [(int(r), "header") for r in idx[is_header]])
    skip = is_blank | colnum | footer | is_header
    blocks: list[Block] = []
    current_header = match.row
    meta = parse_title(title_rows)
    in_footer = False
    seg_start = int(idx[0])
    bounds: list[tuple[int, int, int, dict[str, str]]] = []
    key_empty_at = dict(zip(idx.tolist(), key_empty.tolist(), strict=True)) if events else {}
    for r, kind in events:
        if kind == "footer":
            if not in_footer:
                bounds.append((seg_start, r - 1, current_header, meta))
            in_footer = True
        else:  # header repeat: title rows are the key-less rows right above it
            t0 = r
            while t0 - 1 >= seg_start and bool(key_empty_at.get(t0 - 1, False)):
                t0 -= 1
            if not in_footer:
                bounds.append((seg_start, t0 - 1, current_header, meta))
            prev_data = [b for b in bounds if b[1] >= b[0]]
            lo = max((b[1] for b in prev_data), default=match.row) + 1
            above = grid.values[grid.span(lo, r - 1)]
            if len(above) and key_j is not None:  # title rows: those whose key cell is not data-like
                above = above[[not _data_like(v) for v in above[:, key_j]]]
            new_meta = parse_title(above)
            meta = {**{k: v for k, v in meta.items() if k in {"school_code", "school_name"}}, **new_meta}
            current_header = r
            in_footer = False
            seg_start = r + match.depth
    if not in_footer:
        bounds.append((seg_start, int(idx[-1]), current_header, meta))
    in_block = np.zeros(len(idx), dtype=bool)
    for lo, hi, hdr, m in bounds:
        if hi < lo:
            continue
        sel = (idx >= lo) & (idx <= hi)
        in_block |= sel
        blocks.append(Block(hdr, idx[sel & ~skip].tolist(), m))
    skipped = int((~in_block).sum() + (skip & in_block).sum())
    return blocks, skipped


def _data_like(v: object) -> bool:
    """A key cell that looks like data (a code, a number), not like a title text."""
    return isinstance(v, str) and bool(v.strip()) and not v.strip().isalpha()


# ---------------------------------------------------------------------------------------------
# Value parsing
# ---------------------------------------------------------------------------------------------
_EXPECTED = {
    "id": "mã dạng chữ số, không ở dạng số mũ (E+)",
    "school_code": "mã trường 1–20 ký tự chữ/số",
    "int": "số nguyên",
    "float": "số (dấu thập phân là , hoặc .)",
    "amount": "số tiền nguyên (VNĐ)",
    "date": "ngày dạng dd/mm/yyyy",
    "datetime": "ngày giờ dạng dd/mm/yyyy hh:mm",
    "flag": "x hoặc để trống",
    "school_year": "năm học dạng 2024-2025",
}


def _distinct(raw: pd.Series) -> tuple[pd.Series, np.ndarray] | None:
    """The distinct values of a column (missing ones as one None at the end) and each row's position
    in them; None when the column is short or mostly distinct (parsing it directly is as cheap)."""
    n = len(raw)
    if n < 16:
        return None
    codes, uniques = pd.factorize(raw.to_numpy(dtype=object), use_na_sentinel=True)
    k = len(uniques)
    if k + 1 > n // 2 or not all(type(u) is str for u in uniques):
        return None
    small = pd.Series([*uniques.tolist(), None], dtype=object, name=raw.name)
    return small, np.where(codes < 0, k, codes)


def _expand(vals: pd.Series, pos: np.ndarray, index: pd.Index) -> pd.Series:
    out = vals.take(pos)
    out.index = index
    return out


def parse_column(
    spec: ColumnSpec, raw: pd.Series, ctx: ParseContext
) -> tuple[pd.Series, pd.Series, str, str]:
    """Parse one column: returns values, bad mask, reason code for bad cells, expected text.

    Every parser is elementwise (and starts by cleaning the text, so all missing values are alike):
    a column with repeated values is parsed once per distinct value and expanded back."""
    if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
        d = _distinct(raw)
        if d is not None:
            small, pos = d
            vals, bad, code, expected = _parse_column(spec, small, ctx)
            return _expand(vals, pos, raw.index), _expand(bad, pos, raw.index), code, expected
    return _parse_column(spec, raw, ctx)


def _parse_column(
    spec: ColumnSpec, raw: pd.Series, ctx: ParseContext
) -> tuple[pd.Series, pd.Series, str, str]:
    p = spec.parse
    bad = pd.Series(False, index=raw.index)
    reason = "bad_number"
    if spec.values is not None:
        lookup = value_lookup(spec)
        text = nz.clean_text(raw)
        keys = text.fillna("").pipe(nz.norm_series)
        mapped = keys.map(lambda k: lookup.get(k, _MISSING))
        unknown = mapped.map(lambda v: v is _MISSING)
        if spec.unknown == "reject":
            bad = unknown & text.notna()
            out = mapped.where(~unknown, None)
        elif spec.unknown in (None, "null"):
            out = mapped.where(~unknown, None)
        elif spec.unknown == "keep":
            out = mapped.where(~unknown, text)
        else:
            out = mapped.where(~unknown, spec.unknown)
            out = out.where(text.notna() | ~unknown, None)
        vals = pd.Series(out, index=raw.index, dtype="object")
        allowed = ", ".join(str(k) for k in (spec.values or {}) if k)
        return vals, bad.astype(bool), "unknown_value", f"một trong: {allowed}"
    if p == "text":
        return nz.clean_text(raw), bad, reason, ""
    if p in ("id", "school_code"):
        vals, bad = nz.parse_id(raw, width=spec.width, upper=spec.upper)
        if p == "school_code":
            ok = vals.str.fullmatch(r"[0-9A-Za-z]{1,20}").fillna(True).astype(bool)
            digits = vals.str.fullmatch(r"\d{1,7}").fillna(False).astype(bool)
            vals = vals.where(~digits, vals.str.zfill(8))
            bad = bad | ~ok
        return vals, bad, "bad_id_format", _EXPECTED["id"]
    if p == "subject":
        vals, unknown = nz.parse_subject(raw)
        return vals, pd.Series(False, index=raw.index), "unknown_value", ""
    if p == "grade":
        vals, bad = nz.parse_grade(raw)
        return vals, bad, "out_of_range", "khối từ 1 đến 12"
    if p in ("int", "float"):
        vals, bad = nz.parse_number(raw)
        if p == "int":
            frac = vals.notna() & (vals % 1 != 0)
            bad = bad | frac
            vals = vals.where(~frac).round().astype("Int64")
        return vals, bad, "bad_number", _EXPECTED["int" if p != "float" else "float"]
    if p == "amount":
        vals, bad = nz.parse_amount(raw)
        return vals, bad, "bad_number", _EXPECTED["amount"]
    if p in ("date", "datetime"):
        vals, bad = nz.parse_date(raw) if p == "date" else nz.parse_datetime(raw)
        return vals, bad, "bad_date", _EXPECTED[p]
    if p == "flag":
        vals, bad = nz.parse_flag(raw)
        return vals, bad, "unknown_value", _EXPECTED["flag"]
    if p == "sex":
        return nz.parse_sex(raw), bad, reason, ""
    if p == "female_flag":
        return nz.parse_female_flag(raw), bad, reason, ""
    if p == "class_name":
        return nz.class_name_of(raw), bad, reason, ""
    if p == "school_year":
        vals, bad = nz.parse_school_year(raw)
        return vals, bad, "bad_school_year", _EXPECTED["school_year"]
    if p == "semester":
        text = nz.clean_text(raw)
        vals = text.map(lambda v: nz.semester_of(v) if isinstance(v, str) else None)
        return vals, text.notna() & vals.isna(), "unknown_value", "1, 2 hoặc Cả năm"
    if p == "period":
        text = nz.clean_text(raw)
        vals = text.map(lambda v: nz.period_of(v, numeric_codes=True) if isinstance(v, str) else None)
        return vals, text.notna() & vals.isna(), "unknown_value", "Đầu năm, Giữa/Cuối học kỳ I, Cuối năm…"
    if p == "citizen_id":
        v = nz.normalise_citizen_id(raw)
        bad = v.notna() & ~v.str.fullmatch(r"\d{12}").fillna(False).astype(bool)
        return nz.hmac_hex(v.where(~bad), ctx.hash_key), bad, "bad_id_format", "số định danh 12 chữ số"
    if p == "phone":
        v = nz.normalise_phone(raw)
        bad = v.notna() & ~v.str.fullmatch(r"0\d{9}").fillna(False).astype(bool)
        return nz.hmac_hex(v.where(~bad), ctx.hash_key), bad, "bad_id_format", "số điện thoại 10 chữ số"
    raise ValueError(f"unknown parse kind {p}")  # pragma: no cover


class _Missing:
    pass


_MISSING = _Missing()


def collect_rows(grid: Grid, match: HeaderMatch) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The data rows of every block: (grid cells, block metadata per row, rows skipped)."""
    blocks, skipped = split_blocks(grid, match)
    parts: list[pd.DataFrame] = []
    metas: list[pd.DataFrame] = []
    for b in blocks:
        if not b.data_rows:
            continue
        part = grid.cells.loc[b.data_rows]
        parts.append(part)
        m = {f"_meta_{k}": v for k, v in b.meta.items() if not k.startswith("_")}
        m["_meta_texts"] = b.meta.get("_texts", "")
        metas.append(pd.DataFrame(m, index=part.index))
    if not parts:
        return grid.cells.iloc[0:0], pd.DataFrame(), skipped
    return pd.concat(parts), pd.concat(metas), skipped


@dataclass
class SheetRows:
    """`collect_rows` as arrays (no DataFrame per block): the data rows of every block in order."""

    rows: np.ndarray  # sheet row of each data row (int64)
    cells: np.ndarray  # object matrix: data rows × grid columns
    col_pos: dict[int, int]  # grid column → position in `cells`
    metas: list[tuple[int, dict[str, str]]]  # per block with data: (rows, `_meta_*` columns)
    skipped: int


def collect_arrays(grid: Grid, match: HeaderMatch) -> SheetRows:
    """The data rows of every block as an object matrix plus block metadata (`collect_rows` without
    building a DataFrame per block; same rows, same `_meta_*` values)."""
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


def extra_json(part: pd.DataFrame, match: HeaderMatch, cols: list[int]) -> pd.Series | None:
    """Unknown columns of each row as one JSON object (`src_extra`, raw storage only)."""
    if not cols:
        return None
    ex = part[cols].copy()
    ex.columns = [" / ".join(match.paths[c]) for c in cols]
    ex = ex.loc[:, ~ex.columns.duplicated()].dropna(how="all", axis=1)
    if not len(ex.columns):
        return None
    return pd.Series(
        ex.to_json(orient="records", lines=True, force_ascii=False).splitlines(), index=part.index
    )


def mapped_frame(
    part: pd.DataFrame, meta: pd.DataFrame, match: HeaderMatch, extra_cols: list[int]
) -> pd.DataFrame:
    """Canonical raw columns (still text) + src_extra + block metadata, indexed by sheet row."""
    layout = match.layout
    data: dict[str, pd.Series] = {}
    name_col = layout.options.get("school_name_column")  # read for the school even when not stored
    for c, name in match.mapping.items():
        if layout.columns[name].role == "value" or name == name_col:
            data[name] = part[c]
    ex = extra_json(part, match, extra_cols)
    if ex is not None:
        data["src_extra"] = ex
    if meta.index.equals(part.index) and not (set(meta.columns) & set(data)):  # one frame, no setitem/concat
        for col in meta.columns:
            data[col] = meta[col]
        return pd.DataFrame(data, index=part.index)
    f = pd.DataFrame(data, index=part.index)
    return pd.concat([f, meta], axis=1)


def parse_table(grid: Grid, match: HeaderMatch, ctx: ParseContext) -> SheetResult:
    """Parse a plain-table layout into canonical rows plus rejects."""
    layout = match.layout
    part, meta, skipped = collect_rows(grid, match)
    header_texts = {name: " / ".join(match.paths.get(c, [name])) for c, name in match.mapping.items()}
    col_of = {name: c for c, name in match.mapping.items()}
    if part.empty:
        empty = pd.DataFrame(columns=[*layout.columns])
        return SheetResult(layout, grid.sheet, empty, [], [], 0, skipped)
    extra_cols = [c for c in match.paths if c not in match.mapping]
    raw = mapped_frame(part, meta, match, extra_cols)
    return finish_rows(raw, layout, grid.sheet, ctx, header_texts, col_of, skipped)


def _parse_values(
    raw: pd.DataFrame,
    out: pd.DataFrame,
    layout: Layout,
    ctx: ParseContext,
    reject: Callable[[pd.Series, str, str, str], None],
    warn: Callable[..., None],
) -> None:
    """Shared by `finish_rows` and `finish_rows_group`: key check, per-column parsing with rejects and
    warnings, row checks, derived and constant columns, written into `out`."""
    key = layout.key
    if key in raw.columns:
        key_text = nz.clean_text(raw[key])
        reject(key_text.isna(), key, "missing_key", "không được để trống")
    for name, spec in layout.columns.items():
        if spec.role != "value" or name not in raw.columns:
            continue
        vals, bad, code, expected = parse_column(spec, raw[name], ctx)
        if spec.parse == "subject":
            warn(nz.clean_text(raw[name]).notna() & (vals == "UNKNOWN").fillna(False), "unknown_value",
                 f"{name}: môn học không có trong danh mục")  # fmt: skip
        if spec.values is not None and spec.unknown not in (None, "reject", "null", "keep"):
            text = nz.clean_text(raw[name])
            unk = text.notna() & ~text.fillna("").pipe(nz.norm_series).isin(set(value_lookup(spec)))
            warn(unk, "unknown_value", f"{name}: {spec.unknown}")
        reject(bad & raw[name].notna(), name, code, expected)
        if spec.min is not None or spec.max is not None:
            num = pd.to_numeric(vals, errors="coerce")
            oor = pd.Series(False, index=raw.index)
            if spec.min is not None:
                oor |= num < spec.min
            if spec.max is not None:
                oor |= num > spec.max
            rng = f"từ {spec.min:g}" if spec.min is not None else ""
            rng += f" đến {spec.max:g}" if spec.max is not None else ""
            reject(oor.fillna(False).astype(bool), name, "out_of_range", rng.strip())
        out[name] = vals
    for chk in layout.row_checks:
        try:
            ok = cast(pd.Series, out.eval(chk.rule))
        except Exception:  # columns absent in this file: nothing to check
            continue
        failed = ~ok.fillna(True).astype(bool)
        reject(failed, chk.column, chk.reason, chk.expected)
    for name, d in layout.derived.items():
        src = out.get(d.get("from"))
        if src is not None and "prefixes" in d:
            res = pd.Series(None, index=out.index, dtype="object")
            for prefix, val in d["prefixes"].items():
                hit = src.astype("string").str.startswith(prefix).fillna(False).astype(bool)
                res = res.where(~(hit & res.isna()), val)
            out[name] = res
    for name, val in layout.constants.items():
        out[name] = val


def _fill_title_fields(out: pd.DataFrame, meta: pd.DataFrame, layout: Layout) -> None:
    """Columns a layout takes from the title (class, semester, period, grade, subject, dates)."""
    title_fields = set(layout.required_metadata) | set(layout.options.get("title_meta", []))
    for m in ("class_name", "semester", "period", "grade", "subject", "date_from", "date_to"):
        col = f"_meta_{m}"
        target = "subject_code" if m == "subject" else m
        if col not in meta.columns or (m not in title_fields and target not in title_fields):
            continue
        from_title = _title_value(m, meta[col])
        out[target] = out[target].fillna(from_title) if target in out.columns else from_title


def finish_rows(
    raw: pd.DataFrame,
    layout: Layout,
    sheet: str,
    ctx: ParseContext,
    header_texts: dict[str, str],
    col_of: dict[str, int],
    skipped: int,
) -> SheetResult:
    """Parse values, resolve school and year, apply row checks and de-duplicate (shared by reshapers)."""
    rows_read = len(raw)
    out = pd.DataFrame(index=raw.index)
    rejects: list[RowIssue] = []
    warnings: list[RowIssue] = []
    bad_any = pd.Series(False, index=raw.index)

    def reject(mask: pd.Series, column: str, code: str, expected: str) -> None:
        nonlocal bad_any
        mask = mask & ~bad_any
        if not mask.any():
            return
        header = header_texts.get(column, "")
        for r in mask[mask].index:
            value = raw.at[r, column] if column in raw.columns else None
            rejects.append(RowIssue.reject(ctx.file, sheet, int(r), code, entity=layout.entity, canonical=column,
                                           column=col_of.get(column), header=header, value=value,
                                           expected=expected))  # fmt: skip
        bad_any = bad_any | mask

    def warn(mask: pd.Series, code: str, detail: str = "") -> None:
        mask = mask.fillna(False).astype(bool) & ~bad_any
        warnings.extend(RowIssue.warning(ctx.file, sheet, int(r), code, detail) for r in mask[mask].index)

    _parse_values(raw, out, layout, ctx, reject, warn)

    # metadata: school and year from columns, title, or delivery folder
    meta = raw.filter(like="_meta_")
    if "school_year" not in out.columns or out["school_year"].isna().all():
        sy = meta.get("_meta_school_year")
        out["school_year"] = sy if sy is not None else ctx.folder_year
        out["school_year"] = (
            out["school_year"].fillna(ctx.folder_year) if ctx.folder_year else out["school_year"]
        )
    name_col = str(layout.options.get("school_name_column") or "")
    names = out[name_col] if name_col in out.columns else raw.get(name_col) if name_col else None
    if names is not None and ctx.school_names:  # province files: a school per row
        by_name = names.astype("string").map(lambda v: ctx.school_names.get(nz.norm(v)) if isinstance(v, str)
                                             else None)  # fmt: skip
        out["school_code"] = out["school_code"].fillna(by_name) if "school_code" in out.columns else by_name
        if layout.options.get("school_name_strict"):
            left_out = _other_level(names, layout) & out["school_code"].isna()
            if left_out.any():  # rows of other education levels: left out with a count, never rejected
                first = int(left_out[left_out].index[0])
                n_left = int(left_out.sum())
                warnings.append(RowIssue.warning(ctx.file, sheet, first, "other_level",
                                                 f"{n_left} dòng của trường cấp học khác (mầm non…) không đọc"))  # fmt: skip
                raw, out, bad_any = raw[~left_out], out[~left_out], bad_any[~left_out]
                rows_read -= n_left
                skipped += n_left
            # a row whose school is not in the registry is named, never given to the folder's school
            reject(
                out["school_code"].isna(),
                name_col,
                "unknown_school_name",
                "tên trường có trong danh sách trường của Sở",
            )
    if "school_code" not in out.columns or out["school_code"].isna().all():
        out["school_code"] = _resolve_school(meta, ctx)
    elif out["school_code"].isna().any():
        out["school_code"] = out["school_code"].fillna(_resolve_school(meta, ctx))
    _fill_title_fields(out, meta, layout)
    _fill_file_name_fields(out, layout, pd.Series(ctx.file, index=out.index, dtype="object"))
    if "_meta_school_year_error" in meta.columns:
        reject(meta["_meta_school_year_error"].notna(), "school_year", "bad_school_year", "năm học liên tiếp")
    if "src_extra" in raw.columns:
        out["src_extra"] = raw["src_extra"]
    file_error = file_error_detail = None
    for req in layout.required_metadata:
        if req not in out.columns or out[req].isna().all():
            file_error = "school_unresolved" if req == "school_code" else "missing_metadata"
            file_error_detail = missing_metadata_detail(layout, req, ctx.file)
    if ctx.folder_year and "school_year" in out.columns:
        mism = out["school_year"].notna() & (out["school_year"] != ctx.folder_year)
        if mism.any():
            warnings.append(RowIssue.warning(ctx.file, sheet, int(mism[mism].index[0]), "folder_mismatch",
                                             str(int(mism.sum()))))  # fmt: skip

    if layout.options.get("platform_source") and ctx.platform_by_school and "school_code" in out.columns:
        out["source_system"] = out["school_code"].map(ctx.platform_by_school).fillna(layout.source_system)
    if layout.post:
        from connectors import derive

        ops = derive.RowOps(raw=raw, reject=reject, warn=warn, ctx=ctx, layout=layout, sheet=sheet,
                            header_texts=header_texts, col_of=col_of)  # fmt: skip
        for name in layout.post:
            out = derive.get(name)(out, ops)
        bad_any = bad_any.loc[out.index]
        skipped += ops.skipped
        rows_read -= ops.skipped  # rows a post-processor skips (subtotals) are skipped, not read
    good = explode_and_melt(out[~bad_any].copy(), layout)
    good["source_sheet"] = sheet
    good["source_row"] = good.index.astype("int64")
    good, dups, n_exact = _dedupe(good, layout)
    for r in dups:
        rejects.append(RowIssue.reject(ctx.file, sheet, int(r), "duplicate_key", entity=layout.entity,
                                       canonical=layout.key))  # fmt: skip
    return SheetResult(layout, sheet, good.reset_index(drop=True), rejects, warnings, rows_read, skipped,
                       n_exact, file_error, file_error_detail=file_error_detail)  # fmt: skip


def _other_level(names: pd.Series, layout: Layout) -> pd.Series:
    """Rows whose school name starts with a name of another education level (`options.other_level_names`,
    compared by `norm`: `TRƯỜNG MẦM NON …`, NFD or not, is a preschool)."""
    prefixes = tuple(nz.norm(p) + " " for p in layout.options.get("other_level_names", []))
    if not prefixes:
        return pd.Series(False, index=names.index)
    return names.map(lambda v: isinstance(v, str) and (nz.norm(v) + " ").startswith(prefixes)).astype(bool)


def _fill_file_name_fields(out: pd.DataFrame, layout: Layout, files: pd.Series) -> None:
    """Items a layout takes from the file name when no cell gives them (`options.file_name_meta`; today
    the period: `…_HK1.xlsx` → CK1, vocabulary `values.file_name_periods`)."""
    if "period" not in layout.options.get("file_name_meta", []) or out.empty:
        return
    if "period" in out.columns and out["period"].notna().all():
        return
    by_name = files.map({f: nz.period_of_file_name(f) for f in pd.unique(files.to_numpy(dtype=object))})
    out["period"] = out["period"].fillna(by_name) if "period" in out.columns else by_name


#: how the data officer names a metadata item, and an example of where it goes
_ITEM_VI = {
    "period": "kỳ đánh giá",
    "semester": "học kỳ",
    "school_year": "năm học",
    "class_name": "lớp",
    "school_code": "mã trường",
}


def missing_metadata_detail(layout: Layout, item: str, file: str) -> str:
    """The Vietnamese detail of a `missing_metadata` quarantine: what is missing, where the parser looked,
    and how the school can fix it (for an item read from the file name: how to name the file)."""
    name = file.rsplit("/", 1)[-1]
    places = ["dòng tiêu đề", "các cột"]
    from_name = item in layout.options.get("file_name_meta", [])
    if from_name:
        places.append(f"tên tệp «{name}»")
    if item in ("school_year", "school_code"):
        places.append("thư mục nộp")
    what = _ITEM_VI.get(item, item)
    text = f"không tìm thấy {what}; đã tìm ở " + ", ".join(places[:-1]) + " và " + places[-1]
    if from_name and item == "period":
        stem, dot, ext = name.rpartition(".")
        stem, ext = (stem, f".{ext}") if dot else (name, "")
        text += (f". Hãy đặt tên tệp có kỳ đánh giá, ví dụ {stem}_GK1{ext} (giữa học kỳ I), {stem}_HK1{ext} "
                 f"(cuối học kỳ I), {stem}_GK2{ext} (giữa học kỳ II) hoặc {stem}_CuoiNam{ext} (cuối năm)")  # fmt: skip
    elif item in _ITEM_VI:
        text += (
            f". Hãy ghi {what} ở dòng tiêu đề (ví dụ «{_TITLE_EXAMPLE.get(item, what)}») hoặc trong một cột"
        )
    return text


_TITLE_EXAMPLE = {"period": "Kỳ đánh giá: Cuối năm", "semester": "Học kỳ: 1", "school_year": "Năm học: 2024-2025",
                  "class_name": "Lớp: 6A", "school_code": "Mã trường: 08000001"}  # fmt: skip


def explode_and_melt(good: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """The kept rows as records: a cell listing several values gives one record per value (`explode`),
    metric columns give one record per non-blank cell (`melt`). Each record keeps its row's index; the
    order within a sheet is the same whether the rows of one sheet or of several are reshaped."""
    explode = layout.options.get("explode")
    if explode and explode in good.columns:  # a cell listing several values → one row per value
        good[explode] = good[explode].astype("string").str.split(r"[,;]+", regex=True)
        good = good.explode(explode)
        good[explode] = good[explode].astype("string").str.strip().replace("", pd.NA)
        good = good[good[explode].notna()]
        if explode == "class_name":
            good[explode] = nz.class_name_of(good[explode])
    melt = layout.options.get("melt")  # metric columns → one row per non-blank cell
    if melt:
        cols = [c for c in melt["columns"] if c in good.columns]
        ids = [c for c in good.columns if c not in melt["columns"]]
        good = good.rename_axis("_row").reset_index()
        good = good.melt(
            id_vars=["_row", *ids], value_vars=cols, var_name=melt["var"], value_name=melt["value"]
        )
        good = good[good[melt["value"]].notna()].set_index("_row").rename_axis(None)
    return good


_TITLE_CACHE: dict[tuple[str, object, tuple[str | None, ...]], pd.Series] = {}


def _title_value(field_name: str, values: pd.Series) -> pd.Series:
    """A title metadata value parsed like its column would be (once per distinct value: a title
    value is the same for every row of its block). The parsers are elementwise and title texts repeat
    from file to file, so the parsed distinct values are cached for the process."""
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        d = _distinct(values)
        if d is not None:
            small, pos = d
            key = (field_name, small.name, tuple(small.tolist()))
            parsed = _TITLE_CACHE.get(key)
            if parsed is None:
                if len(_TITLE_CACHE) >= 4096:
                    _TITLE_CACHE.clear()
                parsed = _TITLE_CACHE[key] = _title_value_of(field_name, small)
            return _expand(parsed, pos, values.index)
    return _title_value_of(field_name, values)


def _title_value_of(field_name: str, values: pd.Series) -> pd.Series:
    text = nz.clean_text(values)
    if field_name == "class_name":
        return nz.class_name_of(text)
    if field_name == "semester":
        return text.map(lambda v: nz.semester_of(v) if isinstance(v, str) else None)
    if field_name == "period":
        return text.map(lambda v: nz.period_of(v) if isinstance(v, str) else None)
    if field_name == "grade":
        return nz.parse_grade(text)[0]
    if field_name == "subject":
        return nz.parse_subject(text)[0]
    if field_name in ("date_from", "date_to"):
        return nz.parse_date(text)[0]
    return text


def _resolve_school(
    meta: pd.DataFrame, ctx: ParseContext, folder_school: pd.Series | None = None
) -> pd.Series:
    """Title `Mã trường`, then the school name in the title against the registry, then the folder
    (`folder_school`: each row's delivery folder when the rows come from several files)."""
    idx = meta.index
    res = pd.Series(pd.NA, index=idx, dtype="string")
    if "_meta_school_code" in meta.columns:
        codes, _ = nz.parse_id(meta["_meta_school_code"])
        codes = codes.where(~codes.str.fullmatch(r"\d{1,7}").fillna(False).astype(bool), codes.str.zfill(8))
        res = res.fillna(codes)
    if ctx.school_names and "_meta_texts" in meta.columns:

        def by_name(texts: object) -> object:
            for line in str(texts).splitlines():
                code = ctx.school_names.get(nz.norm(line))
                if code:
                    return code
            return pd.NA

        texts = meta["_meta_texts"]  # the same for every row of a block: looked up once per distinct text
        codes_of = {t: by_name(t) for t in pd.unique(texts.to_numpy(dtype=object))}
        res = res.fillna(texts.map(codes_of).astype("string"))
    if folder_school is not None:
        res = res.fillna(folder_school.astype("string"))
    elif ctx.folder_school:
        res = res.fillna(ctx.folder_school)
    return res


def _dedupe(df: pd.DataFrame, layout: Layout) -> tuple[pd.DataFrame, list[int], int]:
    """Exact duplicates are dropped and counted; same grain key with other values: last row wins."""
    from connectors.entities import load_entities

    grain = [g for g in load_entities()[layout.entity].grain if g in df.columns]
    if not grain or df.empty:
        return df, [], 0
    value_cols = [c for c in df.columns if c not in ("source_row", "source_sheet", "src_extra")]
    exact = df.duplicated(subset=value_cols, keep="last")
    n_exact = int(exact.sum())
    df = df[~exact]
    dup = df.duplicated(subset=grain, keep="last")
    dropped = [int(x) for x in df.loc[dup, "source_row"].tolist()]
    return df[~dup], dropped, n_exact


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


# ---------------------------------------------------------------------------------------------
# Several sheets of one layout and header structure at once (grade books: a sheet per subject)
# ---------------------------------------------------------------------------------------------
def sheet_contexts(ctx: ParseContext | list[ParseContext], n: int) -> list[ParseContext]:
    """One parse context per sheet of a group (sheets of several files carry their own)."""
    if isinstance(ctx, ParseContext):
        return [ctx] * n
    if len(ctx) != n:
        raise ValueError(f"{len(ctx)} contexts for {n} sheets")
    return list(ctx)


def groupable(layout: Layout) -> bool:
    """Layouts whose `finish_rows` work is row-wise apart from the per-sheet checks that
    `finish_rows_group` keeps per sheet: no school-name column (a registry lookup per row whose fallback
    is per sheet) and only post-processors registered as row-wise (`derive.register(..., row_wise=True)`)."""
    from connectors import derive

    if layout.options.get("school_name_column"):
        return False
    return all(derive.is_row_wise(name) for name in layout.post)


def table_group_key(match: HeaderMatch) -> tuple:
    """Plain-table sheets with equal keys can be parsed together: same layout and the same canonical
    columns (their positions, header texts and extra columns may differ per sheet)."""
    return (match.layout.id, tuple(sorted(match.mapping.values())))


def parse_table_group(grids: list[Grid], matches: list[HeaderMatch],
                      ctx: ParseContext | list[ParseContext]) -> list[SheetResult]:  # fmt: skip
    """`parse_table` of several sheets with one `table_group_key` (from one file or several: `ctx` is
    then one context per sheet): value parsing runs once over all their rows; each result equals
    `parse_table` of its sheet alone."""
    layout = matches[0].layout
    ctxs = sheet_contexts(ctx, len(grids))
    results: list[SheetResult | None] = [None] * len(grids)
    gm = collect_members(grids, matches, results, empty=lambda: pd.DataFrame(columns=[*layout.columns]))
    if not gm.members:
        return results  # type: ignore[return-value]
    sid, srow, raw = gm.row_arrays()
    grp = finish_rows_group(raw, sid, srow, layout, [grids[i].sheet for i in gm.members],
                            [ctxs[i] for i in gm.members], gm.texts_of, gm.cols_of, gm.skipped)  # fmt: skip
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
        gm.value_of.append([(n, c) for c, n in m.mapping.items() if layout.columns[n].role == "value"])
        gm.skipped.append(sr.skipped)
        gm.texts_of.append({n: " / ".join(m.paths.get(c, [n])) for c, n in m.mapping.items()})
        gm.cols_of.append({n: c for c, n in m.mapping.items()})
    return gm


def extra_values(sr: SheetRows, match: HeaderMatch, extra: list[int]) -> np.ndarray | None:
    """`src_extra` of each data row of a sheet (its unknown columns as JSON), None when it has none."""
    if not extra:
        return None
    part = pd.DataFrame(sr.cells[:, [sr.col_pos[c] for c in extra]], index=sr.rows, columns=extra)
    ex = extra_json(part, match, extra)
    return None if ex is None else ex.to_numpy(dtype=object)


def group_raw(collected: list[SheetRows], value_of: list[list[tuple[str, int]]], extras: list[np.ndarray | None],
              sizes: list[int]) -> pd.DataFrame:  # fmt: skip
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


@dataclass
class GroupRows:
    """`finish_rows_group` output: per-sheet results and the kept rows of every sheet together
    (index = position in the concatenated raw frame, `sid` = the sheet's position in the group)."""

    results: list[SheetResult]
    good: pd.DataFrame
    sid: np.ndarray
    counts: np.ndarray  # kept rows per sheet


def finish_rows_group(
    raw: pd.DataFrame,
    sid: np.ndarray,
    srow: np.ndarray,
    layout: Layout,
    sheets: list[str],
    ctx: ParseContext | list[ParseContext],
    header_texts: list[dict[str, str]],
    col_of: list[dict[str, int]],
    skipped: list[int],
    sheet_rows: bool = True,
) -> GroupRows:
    """`finish_rows` of several sheets concatenated (raw index 0..n-1; `sid`/`srow` give each row's
    sheet and sheet row). Value parsing runs once; the whole-column tests, required metadata,
    folder-year warning and de-duplication stay per sheet, so each result equals `finish_rows` of
    its sheet alone. `header_texts`/`col_of` are per sheet (columns may sit elsewhere in each).
    `ctx` is one context, or one per sheet when the sheets come from several files (their file names
    and delivery folders differ; registry lookups and the hash key are the same for all of them).
    With `sheet_rows=False` the results of sheets with kept rows carry no rows (callers that reshape
    `good` themselves need not split it per sheet)."""
    n_sheets = len(sheets)
    ctxs = sheet_contexts(ctx, n_sheets)
    ctx = ctxs[0]
    rows_read = np.bincount(sid, minlength=n_sheets)
    out = pd.DataFrame(index=raw.index)
    rejects: list[list[RowIssue]] = [[] for _ in sheets]
    warnings: list[list[RowIssue]] = [[] for _ in sheets]
    bad_any = pd.Series(False, index=raw.index)

    def reject(mask: pd.Series, column: str, code: str, expected: str) -> None:
        nonlocal bad_any
        mask = mask & ~bad_any
        if not mask.any():
            return
        for g in mask[mask].index:
            k, r = int(sid[g]), int(srow[g])
            value = raw.at[g, column] if column in raw.columns else None
            rejects[k].append(RowIssue.reject(ctxs[k].file, sheets[k], r, code, entity=layout.entity,
                                              canonical=column, column=col_of[k].get(column),
                                              header=header_texts[k].get(column, ""), value=value,
                                              expected=expected))  # fmt: skip
        bad_any = bad_any | mask

    def warn(mask: pd.Series, code: str, detail: str = "") -> None:
        mask = mask.fillna(False).astype(bool) & ~bad_any
        for g in mask[mask].index:
            k = int(sid[g])
            warnings[k].append(RowIssue.warning(ctxs[k].file, sheets[k], int(srow[g]), code, detail))

    def all_na(s: pd.Series) -> pd.Series:
        """Per row: is the column missing in every row of that row's sheet."""
        present = np.bincount(sid[s.notna().to_numpy(dtype=bool)], minlength=n_sheets)
        return pd.Series(present[sid] == 0, index=s.index)

    _parse_values(raw, out, layout, ctx, reject, warn)

    meta = raw.filter(like="_meta_")
    sy = meta.get("_meta_school_year")
    years = {c.folder_year for c in ctxs}
    folder_year = pd.Series(np.array([c.folder_year for c in ctxs], dtype=object)[sid], index=out.index,
                            dtype="object") if len(years) > 1 else None  # fmt: skip
    if folder_year is None:  # one delivery year (always within one file)
        fill = sy if sy is not None else pd.Series(ctx.folder_year, index=out.index, dtype="object")
        if ctx.folder_year:
            fill = fill.fillna(ctx.folder_year)
    else:  # several: each row takes its own file's (where that file has one)
        fill = sy if sy is not None else folder_year
        fill = fill.where(fill.notna() | folder_year.isna(), folder_year)
    if "school_year" not in out.columns:
        out["school_year"] = fill
    else:
        out["school_year"] = out["school_year"].astype("object").where(~all_na(out["school_year"]), fill)
    schools = {c.folder_school for c in ctxs}
    folder_school = None if len(schools) == 1 else pd.Series(
        np.array([c.folder_school for c in ctxs], dtype=object)[sid], index=out.index, dtype="object")  # fmt: skip
    resolved = _resolve_school(meta, ctx, folder_school)
    out["school_code"] = out["school_code"].fillna(resolved) if "school_code" in out.columns else resolved
    _fill_title_fields(out, meta, layout)
    if layout.options.get("file_name_meta"):
        files = pd.Series(
            np.array([c.file for c in ctxs], dtype=object)[sid], index=out.index, dtype="object"
        )
        _fill_file_name_fields(out, layout, files)
    if "_meta_school_year_error" in meta.columns:
        reject(meta["_meta_school_year_error"].notna(), "school_year", "bad_school_year", "năm học liên tiếp")
    if "src_extra" in raw.columns:
        out["src_extra"] = raw["src_extra"]
    file_errors: list[str | None] = [None] * n_sheets
    file_error_details: list[str | None] = [None] * n_sheets
    for req in layout.required_metadata:
        if req not in out.columns:
            missing = np.ones(n_sheets, dtype=bool)
        else:
            missing = np.bincount(sid[out[req].notna().to_numpy(dtype=bool)], minlength=n_sheets) == 0
        for k in np.flatnonzero(missing):
            file_errors[k] = "school_unresolved" if req == "school_code" else "missing_metadata"
            file_error_details[k] = missing_metadata_detail(layout, req, ctxs[k].file)
    if "school_year" in out.columns and (ctx.folder_year or folder_year is not None):
        expect = ctx.folder_year if folder_year is None else folder_year
        mism = (out["school_year"].notna() & (out["school_year"] != expect)).fillna(False).astype(bool)
        if folder_year is not None:
            mism &= folder_year.notna().to_numpy()
        if mism.any():
            hit = mism.to_numpy()
            counts = np.bincount(sid[hit], minlength=n_sheets)
            first: dict[int, int] = {}
            for g in np.flatnonzero(hit):
                first.setdefault(int(sid[g]), int(srow[g]))
            for k, r in first.items():  # type: ignore[assignment]
                warnings[k].append(RowIssue.warning(ctxs[k].file, sheets[k], r, "folder_mismatch",
                                                    str(int(counts[k]))))  # fmt: skip

    if layout.options.get("platform_source") and ctx.platform_by_school and "school_code" in out.columns:
        out["source_system"] = out["school_code"].map(ctx.platform_by_school).fillna(layout.source_system)
    if layout.post:
        from connectors import derive

        ops = derive.RowOps(raw=raw, reject=reject, warn=warn, ctx=ctx, layout=layout, sheet=sheets[0],
                            header_texts=header_texts[0], col_of=col_of[0])  # fmt: skip
        for name in layout.post:
            out = derive.get(name)(out, ops)
        bad_any = bad_any.loc[out.index]
    keep = ~bad_any.to_numpy(dtype=bool)
    good = explode_and_melt(out[keep].copy(), layout)
    gsid = sid[good.index.to_numpy()]
    good["source_sheet"] = np.array(sheets, dtype=object)[gsid]
    good["source_row"] = srow[good.index.to_numpy()].astype("int64")
    # de-duplicate per sheet (as `_dedupe` of each sheet alone)
    from connectors.entities import load_entities

    grain = [g for g in load_entities()[layout.entity].grain if g in good.columns]
    n_exact = np.zeros(n_sheets, dtype=np.int64)
    if grain and not good.empty:
        value_cols = [c for c in good.columns if c not in ("source_row", "source_sheet", "src_extra")]
        tmp = (
            good[value_cols].assign(_sid=gsid)
            if value_cols
            else pd.DataFrame({"_sid": gsid}, index=good.index)
        )
        exact = tmp.duplicated(subset=[*value_cols, "_sid"], keep="last").to_numpy()
        n_exact = np.bincount(gsid[exact], minlength=n_sheets)
        good, gsid, tmp = good[~exact], gsid[~exact], tmp[~exact]
        dup = tmp.duplicated(subset=[*grain, "_sid"], keep="last").to_numpy()
        for k, r in zip(gsid[dup].tolist(), good.loc[dup, "source_row"].tolist(), strict=True):
            rejects[k].append(RowIssue.reject(ctxs[k].file, sheets[k], int(r), "duplicate_key",
                                              entity=layout.entity, canonical=layout.key))  # fmt: skip
        good, gsid = good[~dup], gsid[~dup]
    results: list[SheetResult] = []
    in_order = bool(len(gsid) < 2 or (np.diff(gsid) >= 0).all())  # sheet by sheet already (no melt)
    order = np.arange(len(gsid)) if in_order else np.argsort(gsid, kind="stable")
    bounds = np.searchsorted(gsid[order], np.arange(n_sheets + 1))
    counts = np.diff(bounds)
    for k in range(n_sheets):  # type: ignore[assignment]
        parent = None
        if sheet_rows or not counts[k]:
            if in_order:  # a slice: the index is not meaningful
                rows_k = good.iloc[bounds[k] : bounds[k + 1]]
                parent = (good, int(bounds[k]), int(bounds[k + 1])) if counts[k] else None
            else:
                rows_k = good.iloc[order[bounds[k] : bounds[k + 1]]]
        else:
            rows_k = good.iloc[0:0]
        results.append(SheetResult(layout, sheets[k], rows_k, rejects[k], warnings[k], int(rows_read[k]),
                                   skipped[k], int(n_exact[k]), file_errors[k], parent=parent,
                                   file_error_detail=file_error_details[k]))  # fmt: skip
    return GroupRows(results, good, gsid, counts)
