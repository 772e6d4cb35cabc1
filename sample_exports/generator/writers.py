"""Writing rendered grids to .xlsx (xlsxwriter), .xls (xlwt, BIFF8), .csv and .json, byte-deterministically,
plus the container-level quirks: a wrong `.xlsx` `<dimension>` record and a corrupt `.xls` compound file.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
import xlwt

from .sheets import Grid

FIXED_CREATED = datetime(2025, 1, 1, 8, 0, 0)
ZIP_DATE = (2025, 1, 1, 0, 0, 0)
XLS_CELL_LIMIT = 32767


def write_xlsx(path: Path, grids: list[tuple[str, Grid]]) -> None:
    """Write sheets to an .xlsx with fixed document properties."""
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"created": FIXED_CREATED, "author": "cds-generator"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for name, grid in grids:
        ws = wb.add_worksheet(name[:31])
        merged_first: dict[tuple[int, int], tuple[int, int]] = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in grid.merges}
        covered = set()
        for (r0, c0), (r1, c1) in merged_first.items():
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    if (r, c) != (r0, c0):
                        covered.add((r, c))
        for r, row in enumerate(grid.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in covered:
                    continue
                if (r, c) in merged_first:
                    continue
                _xlsx_cell(ws, r, c, v, wrap)
        for (r0, c0), (r1, c1) in merged_first.items():
            v = grid.rows[r0][c0] if c0 < len(grid.rows[r0]) else None
            ws.merge_range(r0, c0, r1, c1, "" if v is None else v, wrap)
    wb.close()


def _xlsx_cell(ws: Any, r: int, c: int, v: Any, wrap: Any) -> None:
    if isinstance(v, bool):
        ws.write_string(r, c, "x" if v else "")
    elif isinstance(v, (int, float)):
        ws.write_number(r, c, v)
    else:
        s = str(v)
        ws.write_string(r, c, s, wrap if "\n" in s else None)


def write_xls(path: Path, grids: list[tuple[str, Grid]]) -> None:
    """Write sheets to a BIFF8 .xls with xlwt."""
    wb = xlwt.Workbook(encoding="utf-8")
    for name, grid in grids:
        ws = wb.add_sheet(name[:31], cell_overwrite_ok=True)
        covered: set[tuple[int, int]] = set()
        for r0, c0, r1, c1 in grid.merges:
            v = grid.rows[r0][c0] if c0 < len(grid.rows[r0]) else None
            ws.write_merge(r0, r1, c0, c1, "" if v is None else v)
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    covered.add((r, c))
        for r, row in enumerate(grid.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in covered:
                    continue
                ws.write(r, c, v if isinstance(v, (int, float)) else str(v)[:XLS_CELL_LIMIT])
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


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
