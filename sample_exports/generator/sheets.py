"""Layout-neutral spreadsheet model and its rendering to a cell grid, with the quirk switches.

A layout builder describes a file as `Book` → `Sheet` → `Block` (title rows, a possibly multi-tier
header of `Col`s, data rows, footer rows). `render_sheet` turns a sheet into a `Grid` (rows of cell
values plus merges), applying the quirk switches of docs/exports.md §1.4 that act on cells, and records the
final 1-based sheet row of every planted bad row. Writing grids to files lives in `writers.py`.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

QUIRKS: tuple[str, ...] = (
    "title_rows",
    "col_offset",
    "repeat_blocks",
    "header_linebreaks",
    "header_case",
    "nfd",
    "extra_cols",
    "shuffle_cols",
    "synonyms",
    "ids_as_numbers",
    "decimal_comma",
    "date_style",
    "blank_rows",
    "code_sheets",
    "bad_dimension",
    "xls_corrupt",
    "bad_rows",
)
EXCEL_EPOCH = date(1899, 12, 30)
EXTRA_COL_NAMES = ("Mã vạch", "Cột 1", "Cột 2", "Người cập nhật", "Ghi chú", "Cột 3")
NBSP = "\u00a0"


@dataclass(frozen=True)
class Col:
    """One column: its header path (tier labels, top first), value kind and leaf synonyms.

    kind: text | id | num | int | date | datetime | money | flag.
    """

    path: tuple[str, ...]
    kind: str = "text"
    syn: tuple[str, ...] = ()


def C(label: str, kind: str = "text", syn: tuple[str, ...] = ()) -> Col:
    """Shorthand for a single-tier column."""
    return Col((label,), kind, syn)


@dataclass
class Block:
    """Title rows, header, data rows (with optional bad-row tags) and footer rows."""

    cols: list[Col]
    rows: list[list[Any]] = field(default_factory=list)
    title: list[list[Any]] = field(default_factory=list)
    footer: list[list[Any]] = field(default_factory=list)
    tags: list[str | None] = field(default_factory=list)
    merge_title_row: int | None = None  # index in `title` of the row merged across the table
    numbering_row: bool = False  # a `1, 2, 3…` column-number row under the header
    raw_cells: bool = False  # cells are final text: no value quirks (csdl.tt22_import)


@dataclass
class Sheet:
    name: str
    blocks: list[Block]
    shuffle_ok: bool = True  # single-tier layouts whose columns may be reordered / extended


@dataclass
class Book:
    """One output file. fmt: xlsx | xls | csv."""

    relpath: str
    fmt: str
    sheets: list[Sheet]
    quirks: frozenset[str] = frozenset()
    csv_delimiter: str = ","


@dataclass
class Grid:
    rows: list[list[Any]]
    merges: list[tuple[int, int, int, int]]  # r0, c0, r1, c1 (0-based, inclusive)
    bad: list[tuple[int, str]]  # (1-based sheet row, reason)


def excel_serial(d: date | datetime) -> float | int:
    """Excel 1900-system serial of a date or datetime."""
    if isinstance(d, datetime):
        delta = d - datetime(1899, 12, 30)
        return round(delta.days + delta.seconds / 86400, 6)
    return (d - EXCEL_EPOCH).days


class CellStyler:
    """Applies the value quirks of one book deterministically."""

    def __init__(self, quirks: frozenset[str], rng: random.Random) -> None:
        self.q = quirks
        self.rng = rng
        self.date_style = (
            rng.choice(("dmy_slash", "dmy_dash", "serial", "mix")) if "date_style" in quirks else "dmy_slash"
        )

    def _date(self, d: date) -> Any:
        style = self.date_style
        if style == "mix":
            style = self.rng.choice(("dmy_slash", "dmy_dash", "serial"))
        if style == "serial":
            return excel_serial(d)
        if style == "dmy_dash":
            return f"{d.day}-{d.month}-{d.year}"
        return f"{d.day:02d}/{d.month:02d}/{d.year}"

    def _datetime(self, d: datetime) -> Any:
        style = self.date_style
        if style == "mix":
            style = self.rng.choice(("dmy_slash", "dmy_dash", "serial"))
        if style == "serial":
            return excel_serial(d)
        if style == "dmy_dash":
            return f"{d.day}-{d.month}-{d.year} {d.hour:02d}:{d.minute:02d}"
        return f"{d.day:02d}/{d.month:02d}/{d.year} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"

    def cell(self, v: Any, kind: str) -> Any:
        if v is None:
            return None
        if kind == "datetime" and isinstance(v, datetime):
            return self._datetime(v)
        if kind == "date" and isinstance(v, date):
            return self._date(v.date() if isinstance(v, datetime) else v)
        if kind in ("id", "phone") and isinstance(v, str):
            if "ids_as_numbers" in self.q and v.isdigit() and len(v) <= 15:
                return float(int(v))
            r = self.rng.random()
            if r < 0.01:
                return "'" + v
            if r < 0.02:
                return v + NBSP
            return v
        if kind == "num" and isinstance(v, float):
            if "decimal_comma" in self.q:
                return f"{v:g}".replace(".", ",")
            return v
        if isinstance(v, str):
            if "nfd" in self.q:
                v = unicodedata.normalize("NFD", v)
            if kind == "text" and v and self.rng.random() < 0.01:
                v = v + " "
            return v
        return v


def _header_label(col: Col, tier: int, quirks: frozenset[str], rng: random.Random) -> str:
    label = col.path[tier]
    if tier == len(col.path) - 1 and "synonyms" in quirks and col.syn and rng.random() < 0.7:
        label = rng.choice(col.syn)
    if "header_case" in quirks:
        label = label.upper()
    if "header_linebreaks" in quirks and " " in label and len(label) > 10 and rng.random() < 0.6:
        words = label.split(" ")
        cut = len(words) // 2
        label = " ".join(words[:cut]) + "\n" + " ".join(words[cut:])
    if "nfd" in quirks:
        label = unicodedata.normalize("NFD", label)
    return label


def prepare_columns(
    sheet: Sheet, quirks: frozenset[str], rng: random.Random
) -> tuple[list[int | None], list[Col]]:
    """Column order after shuffle/extra quirks: source indexes (None = extra column) and the extra Cols."""
    cols = sheet.blocks[0].cols
    order: list[int | None] = list(range(len(cols)))
    extra: list[Col] = []
    if sheet.shuffle_ok and "shuffle_cols" in quirks and len(order) > 3:
        rest = order[1:]
        rng.shuffle(rest)
        order = [order[0], *rest]
    if sheet.shuffle_ok and "extra_cols" in quirks:
        existing = {c.path[-1] for c in cols}
        names = [n for n in EXTRA_COL_NAMES if n not in existing]
        for name in names[: rng.randint(1, min(5, len(names)))]:
            pos = rng.randint(1, len(order))
            order.insert(pos, None)
            extra.append(C(name))
    return order, extra


def render_sheet(sheet: Sheet, quirks: frozenset[str], rng: random.Random) -> Grid:
    """Lay a sheet out as a grid, applying the cell-level quirks."""
    styler = CellStyler(quirks, rng)
    order, extra = prepare_columns(sheet, quirks, rng)
    offset = rng.randint(1, 2) if "col_offset" in quirks else 0
    out: list[list[Any]] = []
    merges: list[tuple[int, int, int, int]] = []
    bad: list[tuple[int, str]] = []
    extra_at: dict[int, Col] = {}
    it = iter(extra)
    for j, src in enumerate(order):
        if src is None:
            extra_at[j] = next(it)
    for block in sheet.blocks:
        cols = block.cols
        ncols = len(order)
        # title rows
        for i, trow in enumerate(block.title):
            r = len(out)
            row = [None] * offset + [styler.cell(v, "text") if isinstance(v, str) else v for v in trow]
            out.append(row)
            if block.merge_title_row == i and ncols > 1:
                merges.append((r, offset, r, offset + ncols - 1))
        # header tiers
        ntier = max(len(c.path) for c in cols)
        h0 = len(out)
        for t in range(ntier):
            row: list[Any] = [None] * (offset + ncols)
            for j, src in enumerate(order):
                col = cols[src] if src is not None else extra_at[j]
                if t < len(col.path):
                    row[offset + j] = _header_label(col, t, quirks, rng)
            out.append(row)
        if ntier > 1:
            # vertical merges for short paths, horizontal merges for shared parents
            for j, src in enumerate(order):
                col = cols[src] if src is not None else None
                plen = len(col.path) if col is not None else 1
                if plen < ntier:
                    merges.append((h0 + plen - 1, offset + j, h0 + ntier - 1, offset + j))
            for t in range(ntier - 1):
                j = 0
                while j < len(order):
                    src = order[j]
                    col = cols[src] if src is not None else None
                    if col is None or len(col.path) <= t + 1:
                        j += 1
                        continue
                    prefix = col.path[: t + 1]
                    k = j + 1
                    while k < len(order):
                        s2 = order[k]
                        c2 = cols[s2] if s2 is not None else None
                        if c2 is None or len(c2.path) <= t + 1 or c2.path[: t + 1] != prefix:
                            break
                        out[h0 + t][offset + k] = None
                        k += 1
                    if k - j > 1:
                        merges.append((h0 + t, offset + j, h0 + t, offset + k - 1))
                    j = k
        if block.numbering_row:
            out.append([None] * offset + [str(j + 1) for j in range(ncols)])
        # data rows
        _data_rows(block, order, offset, quirks, rng, styler, out, bad)
        for frow in block.footer:
            out.append([None] * offset + [styler.cell(v, "text") if isinstance(v, str) else v for v in frow])
    return Grid(out, merges, bad)


# column modes of the data-row fast path (`_data_rows`)
_EXTRA, _ID, _TEXT, _NUM, _OTHER, _PLAIN = range(6)


def _data_rows(
    block: Block,
    order: list[int | None],
    offset: int,
    quirks: frozenset[str],
    rng: random.Random,
    styler: CellStyler,
    out: list[list[Any]],
    bad: list[tuple[int, str]],
) -> None:
    """Append a block's data rows to `out`: `CellStyler.cell` / `_raw` per cell, inlined for the common cases.

    Must draw from `rng` exactly as the per-cell calls do (same values, same order): the small preset's
    output is committed and compared byte for byte.
    """
    cols = block.cols
    tags = block.tags
    ntags = len(tags)
    nrows = len(block.rows)
    blank_rows = "blank_rows" in quirks
    nfd = "nfd" in quirks
    ids_num = "ids_as_numbers" in quirks
    dec = "decimal_comma" in quirks
    rand = rng.random
    cell = styler.cell
    pre = [None] * offset
    modes: list[tuple[int, int, str]] = []
    for src in order:
        if src is None:
            modes.append((_EXTRA, 0, ""))
            continue
        kind = cols[src].kind
        if block.raw_cells:
            m = _OTHER
        elif kind in ("id", "phone"):
            m = _ID
        elif kind == "text":
            m = _TEXT
        elif kind == "num":
            m = _NUM
        elif kind in ("date", "datetime"):
            m = _OTHER
        else:
            m = _PLAIN  # int, money, flag, ...: only str values are touched (NFD)
        modes.append((m, src, kind))
    raw = block.raw_cells
    for i, drow in enumerate(block.rows):
        row = pre[:]
        add = row.append
        for m, src, kind in modes:
            if m == _EXTRA:
                add(rng.choice((None, "", f"{rng.randrange(10**8):08d}", "x")))
                continue
            v = drow[src]
            if v is None:
                add(None)
                continue
            t = type(v)
            if m == _OTHER:
                add(_raw(v, quirks) if raw else cell(v, kind))
            elif t is str:
                if m == _ID:
                    if ids_num and v.isdigit() and len(v) <= 15:
                        add(float(int(v)))
                        continue
                    r = rand()
                    add("'" + v if r < 0.01 else v + NBSP if r < 0.02 else v)
                    continue
                if nfd:
                    v = unicodedata.normalize("NFD", v)
                if m == _TEXT and v and rand() < 0.01:
                    v = v + " "
                add(v)
            elif t is int or t is bool:
                add(v)
            elif t is float:
                add(f"{v:g}".replace(".", ",") if (m == _NUM and dec) else v)
            else:
                add(cell(v, kind))
        out.append(row)
        tag = tags[i] if i < ntags else None
        if tag:
            bad.append((len(out), tag))
        if blank_rows and rand() < 0.05 and i < nrows - 1:
            out.append([])


def _raw(v: Any, quirks: frozenset[str]) -> Any:
    if isinstance(v, str):
        if "decimal_comma" in quirks and v.replace(".", "", 1).isdigit():
            v = v.replace(".", ",")
        if "nfd" in quirks:
            v = unicodedata.normalize("NFD", v)
    return v
