"""`cds inspect FILE` (issue 19): how the connectors read one file, for the data team — each sheet, the
chosen layout and the runner-up with their scores, the header tiers, each column's use (canonical column,
mark, ignored, or not read), the metadata found and where, the first parsed records and the rejects.

What belongs here: building that account (`inspect_file`, plain data) from the parser's own steps (the
same reader, header detection, choice and parse as an ingest) and printing it (`format_inspection`).
Nothing is stored; personal values of the first records are masked as in reject messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors import normalize as nz
from connectors.filedrop import choose, parse_file
from connectors.issues import shown_value
from connectors.layouts import load_layouts
from connectors.readers import read_grids
from connectors.reshapers import account_columns
from connectors.sheet_parser import ColumnUse, ParseContext, find_headers, parse_title, sheet_not_read

_YEAR = re.compile(r"^\d{4}-\d{4}$")
FIRST_RECORDS = 5
FIRST_REJECTS = 10


@dataclass
class SheetInspection:
    sheet: str
    layout: str | None = None
    score: int = 0
    runner_up: tuple[str, int] | None = None
    header_rows: tuple[int, int] | None = None
    columns: list[ColumnUse] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)  # item → "value (where)"
    not_read: tuple[str, str] | None = None  # (reason code, detail) of a sheet that gives no rows
    records: list[dict[str, Any]] = field(default_factory=list)
    n_records: int = 0


@dataclass
class FileInspection:
    file: str
    status: str
    reason: str | None
    sheets: list[SheetInspection]
    rejects: list[str]
    file_name_period: str | None


def _context(path: Path) -> ParseContext:
    """The context an ingest would give the file: year and school from `<year>/<school>/file` when the
    path has them."""
    parts = path.resolve().parts
    year = school = None
    if len(parts) >= 3 and _YEAR.match(parts[-3]):
        year, school = parts[-3], parts[-2]
    elif len(parts) >= 2 and _YEAR.match(parts[-2]):
        year = parts[-2]
    rel = "/".join(p for p in (year, school, path.name) if p)
    return ParseContext(rel, year, school)


def _metadata(grid: Any, row: int) -> dict[str, str]:
    """The title items above the header and where each came from."""
    meta = parse_title(grid.values[grid.span(None, row - 1)])
    out: dict[str, str] = {}
    for k, v in meta.items():
        if k.startswith("_"):
            continue
        phrase = meta.get(f"_{k}_title")
        out[k] = f"{v} (dòng tiêu đề: «{phrase}»)" if phrase else f"{v} (dòng tiêu đề)"
    return out


def inspect_file(path: Path) -> FileInspection:
    """Read `path` as an ingest would and describe every step (nothing is stored)."""
    layouts = load_layouts()
    ctx = _context(path)
    res = parse_file(path, ctx.file, ctx, layouts)
    parsed = {s.sheet: s for s in res.sheets}
    sheets: list[SheetInspection] = []
    grids = read_grids(path) if path.suffix.lower() != ".json" else []
    for grid in grids:
        si = SheetInspection(grid.sheet)
        match, err = (None, "empty_sheet") if grid.empty else choose(find_headers(grid, layouts))
        if match is None:
            si.not_read = (
                ("ambiguous_layout", "") if err == "ambiguous_layout" else sheet_not_read(grid, layouts)
            )
            sheets.append(si)
            continue
        si.layout, si.score, si.runner_up = match.layout.id, match.score, match.runner_up
        si.header_rows = (match.row, match.row + match.depth - 1)
        si.columns = account_columns(grid, match)
        si.metadata = _metadata(grid, match.row)
        sr = parsed.get(grid.sheet if path.suffix.lower() not in (".csv",) else "")
        if sr is not None and len(sr.rows):
            si.n_records = len(sr.rows)
            head = sr.rows.head(FIRST_RECORDS)
            entity = match.layout.entity
            si.records = [
                {
                    str(k): shown_value(v, entity, str(k))
                    for k, v in r.items()
                    if v is not None and v == v and k != "src_extra"
                }
                for r in head.to_dict("records")
            ]  # personal values masked as in the reject messages
        sheets.append(si)
    rejects = [r.message for s in res.sheets for r in s.rejects][:FIRST_REJECTS]
    return FileInspection(
        ctx.file, res.status, res.reason, sheets, rejects, nz.period_of_file_name(path.name)
    )


_USE_VI = {"not_read": "KHÔNG ĐỌC"}


def _use(c: ColumnUse) -> str:
    if c.use.startswith("ignored:"):
        return f"đọc, không lưu ({c.use[8:]})"
    if c.use.startswith("mark:"):
        return f"điểm/đánh giá ({c.use[5:]})"
    return _USE_VI.get(c.use, c.use)


def format_inspection(fi: FileInspection) -> str:
    """The inspection as text (Vietnamese labels, the parser's own codes in brackets)."""
    lines = [f"Tệp: {fi.file}", f"Kết quả: {fi.status}" + (f" — {fi.reason}" if fi.reason else "")]
    if fi.file_name_period:
        lines.append(f"Kỳ đánh giá theo tên tệp: {fi.file_name_period}")
    for s in fi.sheets:
        lines.append("")
        lines.append(f"== Trang «{s.sheet}»")
        if s.not_read:
            lines.append(f"   Không đọc: {s.not_read[1] or s.not_read[0]} [{s.not_read[0]}]")
            continue
        ru = (
            f"; xếp thứ hai: {s.runner_up[0]} ({s.runner_up[1]} điểm)"
            if s.runner_up
            else "; không có mẫu khác"
        )
        lines.append(f"   Mẫu: {s.layout} ({s.score} điểm){ru}")
        if s.header_rows:
            a, b = s.header_rows
            lines.append(f"   Tiêu đề cột: dòng {a}" + (f"–{b} ({b - a + 1} tầng)" if b > a else " (1 tầng)"))
        for k, v in s.metadata.items():
            lines.append(f"   Thông tin: {k} = {v}")
        lines.append("   Cột:")
        for c in s.columns:
            mark = "" if c.non_empty else " (trống)"
            header = " ".join(c.header.split()) or "(không tiêu đề)"
            lines.append(f"     {c.letter:>3}  {header} → {_use(c)}{mark}")
        lines.append(f"   Bản ghi: {s.n_records}" + (f"; {len(s.records)} bản ghi đầu:" if s.records else ""))
        for r in s.records:
            lines.append("     " + ", ".join(f"{k}={v}" for k, v in r.items()))
    if fi.rejects:
        lines.append("")
        lines.append("Dòng bị loại (tối đa 10):")
        lines.extend(f"   {m}" for m in fi.rejects)
    return "\n".join(lines)
