"""Writing rendered grids to .xlsx (xlsxwriter), .xls (xlwt, BIFF8), .csv and .json, byte-deterministically,
plus the container-level quirks: a wrong `.xlsx` `<dimension>` record and a corrupt `.xls` compound file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import struct
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.packager
import xlsxwriter.sharedstrings
import xlsxwriter.utility
import xlsxwriter.worksheet
import xlwt
import xlwt.Cell
import xlwt.Style

from .sheets import Grid

FIXED_CREATED = datetime(2025, 1, 1, 8, 0, 0)
ZIP_DATE = (2025, 1, 1, 0, 0, 0)
XLS_CELL_LIMIT = 32767


class _FastSheet(xlsxwriter.worksheet.Worksheet):
    """A worksheet filled and serialised in bulk, producing the same bytes as per-cell xlsxwriter calls.

    `_fill` stores plain string/number cells as ready-made `<c>` fragments (shared-string indexes are taken in
    the same row-major order as per-cell `write_*` calls); cells written through the normal API (merged
    ranges, wrapped text) stay in `table` and are serialised like xlsxwriter does. The generator never sets
    row/column formats, comments or constant_memory, which this fast path does not support.
    """

    def __init__(self) -> None:
        super().__init__()
        self._frags: dict[int, list[tuple[int, str]]] = {}

    def _write_rows(self) -> None:
        if (
            self.row_info
            or self.comments
            or self.col_info
            or self.constant_memory
            or self.excel_version != 2007
        ):
            if self._frags:
                raise NotImplementedError("fast sheet with row/column formats or comments")
            super()._write_rows()
            return
        frags = self._frags
        table = self.table
        rows: dict[int, list[tuple[int, str]]] = {r: cells for r, cells in frags.items()}
        for r, cells in list(table.items()):
            if not cells:
                continue
            rr = str(r + 1)
            extra = [(c, _cell_xml(_col_name(c) + rr, cells[c])) for c in cells]
            rows[r] = sorted(rows.get(r, []) + extra)
        spans: dict[int, tuple[int, int]] = {}
        for r, cells in rows.items():
            lo, hi = cells[0][0], cells[-1][0]
            k = r // 16
            if k in spans:
                a, b = spans[k]
                spans[k] = (a if a < lo else lo, b if b > hi else hi)
            else:
                spans[k] = (lo, hi)
        out: list[str] = []
        add = out.append
        for r in sorted(rows):
            a, b = spans[r // 16]
            add(f'<row r="{r + 1}" spans="{a + 1}:{b + 1}">')
            for _c, x in rows[r]:
                add(x)
            add("</row>")
        self.fh.write("".join(out))

    def _fill(self, rows: list[list[Any]], skip: dict[int, set[int]], wrap: Any) -> None:
        """Store every non-empty, non-merged cell of `rows` (row-major, the order of per-cell `write_*`
        calls)."""
        sst = self.str_table
        table = sst.string_table  # inlined `SharedStringTable._get_shared_string_index`
        count = 0
        frags = self._frags
        half = self.xls_strmax // 2
        names = _COL_NAMES
        rmin = cmin = 1 << 30
        rmax = cmax = -1
        for r, row in enumerate(rows):
            sk = skip.get(r)
            rr = str(r + 1)
            out: list[tuple[int, str]] = []
            add = out.append
            for c, v in enumerate(row):
                if v is None or (sk is not None and c in sk):
                    continue
                t = type(v)
                if t is bool:
                    v, t = ("x" if v else ""), str
                elif t is not str and t is not int and t is not float:
                    if isinstance(v, bool):
                        v, t = ("x" if v else ""), str
                    elif isinstance(v, (int, float)):
                        sst.count += count
                        count = 0
                        self._write_number(r, c, v)
                        continue
                    else:
                        v, t = str(v), str
                ref = names[c] if c < 256 else _col_name(c)
                if t is str:
                    if "\n" in v or len(v) > half:
                        sst.count += count
                        count = 0
                        self._write_string(r, c, v, wrap if "\n" in v else None)
                        continue
                    idx = table.get(v)
                    if idx is None:
                        idx = table[v] = sst.unique_count
                        sst.unique_count += 1
                    count += 1
                    add((c, f'<c r="{ref}{rr}" t="s"><v>{idx}</v></c>'))
                else:
                    if t is float and (v != v or v in (math.inf, -math.inf)):
                        self._write_number(r, c, v)
                        continue
                    add((c, f'<c r="{ref}{rr}"><v>{v:.16G}</v></c>'))
            if out:
                frags[r] = out
                if r < rmin:
                    rmin = r
                rmax = r
                if out[0][0] < cmin:
                    cmin = out[0][0]
                if out[-1][0] > cmax:
                    cmax = out[-1][0]
        sst.count += count
        if rmax >= 0:
            self._check_dimensions(rmin, cmin)
            self._check_dimensions(rmax, cmax)

    def _merge(self, r0: int, c0: int, r1: int, c1: int, data: Any, fmt: Any) -> None:
        """`merge_range` without its overlap bookkeeping (the generator's merges never overlap)."""
        if (
            (r0, c0) == (r1, c1)
            or r0 > r1
            or c0 > c1
            or self._check_dimensions(r0, c0)
            or self._check_dimensions(r1, c1)
        ):
            self.merge_range(r0, c0, r1, c1, data, fmt)
            return
        self.merge.append([r0, c0, r1, c1])
        self._write(r0, c0, data, fmt)
        blank = _BLANK(fmt)
        table = self.table
        for r in range(r0, r1 + 1):
            trow = table[r]
            for c in range(c0, c1 + 1):
                if r != r0 or c != c0:
                    trow[c] = blank


_STR = xlsxwriter.worksheet.CellStringTuple
_NUM = xlsxwriter.worksheet.CellNumberTuple
_BLANK = xlsxwriter.worksheet.CellBlankTuple
_COL_NAMES = [xlsxwriter.utility.xl_col_to_name(c) for c in range(256)]


def _col_name(c: int) -> str:
    return _COL_NAMES[c] if c < 256 else xlsxwriter.utility.xl_col_to_name(c)


def _cell_xml(ref: str, cell: Any) -> str:
    """One `<c>` element exactly as `Worksheet._write_cell` writes it (no row/column formats)."""
    fmt = cell.format
    s_attr = f' s="{fmt._get_xf_index()}"' if fmt else ""
    kind = type(cell)
    if kind is _STR:
        return f'<c r="{ref}"{s_attr} t="s"><v>{cell.string}</v></c>'
    if kind is _NUM:
        return f'<c r="{ref}"{s_attr}><v>{cell.number:.16G}</v></c>'
    if kind is _BLANK:
        return f'<c r="{ref}"{s_attr}/>'
    raise NotImplementedError(f"cell kind {kind.__name__}")


_SST_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_SST_SPACE = re.compile(r"^\s|\s$")


class _FastSharedStrings(xlsxwriter.sharedstrings.SharedStrings):
    """`sharedStrings.xml` written in one pass (same bytes as `SharedStrings._write_sst_strings`)."""

    def _write_sst_strings(self) -> None:
        out: list[str] = []
        add = out.append
        esc = self._escape_control_characters
        for s in self.string_table.string_array:
            if _SST_SPECIAL.search(s):
                s = esc(s)
            if s.startswith("<r>") and s.endswith("</r>"):
                add(f"<si>{s}</si>")
                continue
            if "&" in s or "<" in s or ">" in s:
                s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            add(
                f'<si><t xml:space="preserve">{s}</t></si>'
                if _SST_SPACE.search(s)
                else f"<si><t>{s}</t></si>"
            )
        self.fh.write("".join(out))


class _FastPackager(xlsxwriter.packager.Packager):
    def _write_shared_strings_file(self) -> None:
        if not self.workbook.str_table.count:
            return
        sst = _FastSharedStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class _FastWorkbook(xlsxwriter.Workbook):
    def _get_packager(self) -> Any:
        return _FastPackager()


def write_xlsx(path: Path, grids: list[tuple[str, Grid]]) -> None:
    """Write sheets to an .xlsx with fixed document properties (byte-identical to per-cell xlsxwriter
    calls)."""
    wb = _FastWorkbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties({"created": FIXED_CREATED, "author": "cds-generator"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for name, grid in grids:
        ws = wb.add_worksheet(name[:31], worksheet_class=_FastSheet)
        merged_first: dict[tuple[int, int], tuple[int, int]] = {
            (r0, c0): (r1, c1) for r0, c0, r1, c1 in grid.merges
        }
        skip: dict[int, set[int]] = {}
        for (r0, c0), (r1, c1) in merged_first.items():
            for r in range(r0, r1 + 1):
                skip.setdefault(r, set()).update(range(c0, c1 + 1))
        ws._fill(grid.rows, skip, wrap)
        for (r0, c0), (r1, c1) in merged_first.items():
            v = grid.rows[r0][c0] if c0 < len(grid.rows[r0]) else None
            ws._merge(r0, c0, r1, c1, "" if v is None else v, wrap)
    wb.close()


def write_xls(path: Path, grids: list[tuple[str, Grid]]) -> None:
    """Write sheets to a BIFF8 .xls with xlwt (cells stored row by row, same bytes as `Worksheet.write`)."""
    wb = xlwt.Workbook(encoding="utf-8")
    style = xlwt.Style.default_style
    for name, grid in grids:
        ws = wb.add_sheet(name[:31], cell_overwrite_ok=True)
        covered: set[tuple[int, int]] = set()
        for r0, c0, r1, c1 in grid.merges:
            v = grid.rows[r0][c0] if c0 < len(grid.rows[r0]) else None
            ws.write_merge(r0, r1, c0, c1, "" if v is None else v)
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    covered.add((r, c))
        xf = wb.add_style(style)
        add_str = wb.add_str
        for r, row in enumerate(grid.rows):
            cells = []
            for c, v in enumerate(row):
                if v is None or (r, c) in covered:
                    continue
                cells.append((c, v))
            if not cells:
                continue
            xrow = ws.row(r)
            if any(c > 255 for c, _v in cells):
                for c, v in cells:  # let xlwt raise its own error
                    xrow.write(c, v if isinstance(v, (int, float)) else str(v)[:XLS_CELL_LIMIT])
                continue
            xrow._Row__adjust_height(style)
            xrow._Row__adjust_bound_col_idx(cells[0][0], cells[-1][0])
            ins = xrow.insert_cell
            for c, v in cells:
                if isinstance(v, bool):
                    ins(c, _XBool(r, c, xf, v))
                elif isinstance(v, (int, float)):
                    ins(c, _XNum(r, c, xf, v))
                else:
                    s = str(v)[:XLS_CELL_LIMIT]
                    ins(c, _XStr(r, c, xf, add_str(s)) if s else _XBlank(r, c, xf))
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


_XBool = xlwt.Cell.BooleanCell
_XNum = xlwt.Cell.NumberCell
_XStr = xlwt.Cell.StrCell
_XBlank = xlwt.Cell.BlankCell


def write_csv(path: Path, grid: Grid, delimiter: str, bom: bool) -> None:
    """Write one grid as RFC 4180 CSV in UTF-8 (optionally with BOM)."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in grid.rows:
        w.writerow(["" if v is None else (repr(v) if isinstance(v, float) else str(v)) for v in row])
    data = out.getvalue().encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def write_json(path: Path, obj: Any) -> None:
    """Write JSON deterministically (insertion order, UTF-8)."""
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


_DIM = re.compile(rb'<dimension ref="[^"]*"/>')


def break_xlsx_dimension(path: Path) -> None:
    """Rewrite every sheet's `<dimension ref>` to a too-small `A1:C3`, keeping the zip deterministic."""
    src = path.read_bytes()
    zin = zipfile.ZipFile(io.BytesIO(src))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _DIM.sub(b'<dimension ref="A1:C3"/>', data, count=1)
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            zout.writestr(zi, data)
    path.write_bytes(out.getvalue())


def corrupt_xls_container(path: Path) -> None:
    """Make the OLE2 root entry claim a short-stream container that overlaps the Workbook stream.

    This is the "Workbook corruption: seen[n] == 4" defect of real vendor exports: xlrd refuses the file
    unless `ignore_workbook_corruption=True`; the Workbook stream itself is intact.
    """
    mem = bytearray(path.read_bytes())
    sec_size = 1 << struct.unpack_from("<H", mem, 30)[0]
    dir_sid = struct.unpack_from("<i", mem, 48)[0]
    base = 512 + dir_sid * sec_size
    wb_sid = None
    for k in range(sec_size // 128):
        entry = base + 128 * k
        nlen = struct.unpack_from("<H", mem, entry + 64)[0]
        name = bytes(mem[entry : entry + max(0, nlen - 2)]).decode("utf-16-le", "replace")
        if name == "Workbook":
            wb_sid = struct.unpack_from("<i", mem, entry + 116)[0]
    if wb_sid is None:
        return
    struct.pack_into("<i", mem, base + 116, wb_sid)  # root entry first sector -> Workbook's first sector
    struct.pack_into("<I", mem, base + 120, 64)  # a non-empty short-stream container
    path.write_bytes(bytes(mem))
