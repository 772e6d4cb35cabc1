"""Shared workbook writing: Vietnamese headers, frozen header row, filters, column widths, and text
cells written so that Excel never evaluates them as formulas (formula-injection safe)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xlsxwriter

FIXED_CREATED = dt.datetime(2000, 1, 1)
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(v: object) -> object:
    """Text that would start a formula gets a leading apostrophe-equivalent (a quote prefix)."""
    if isinstance(v, str) and v.startswith(_DANGEROUS):
        return "'" + v
    return v


PRINT_FONT_PT = 10  # at 100 % scale: never below the 9 pt a printed table must keep


def add_print_sheet(
    wb: xlsxwriter.Workbook,
    name: str,
    frame: pd.DataFrame,
    columns: dict[str, tuple[str, float]],
    title: list[str],
) -> None:
    """A sheet meant for paper: A4 landscape at 100 % (no fit-to-page shrinking), the title lines on top
    of the first page and in the page header of every page, page numbers in the footer, the column
    header row repeated on every page, fonts of PRINT_FONT_PT, school code and name frozen."""
    ws = wb.add_worksheet(name[:31])
    base = {"font_size": PRINT_FONT_PT, "valign": "top", "text_wrap": True, "border": 1}
    fmt_title = wb.add_format({"bold": True, "font_size": PRINT_FONT_PT + 2, "align": "center"})
    fmt_sub = wb.add_format({"italic": True, "font_size": PRINT_FONT_PT, "align": "center"})
    fmt_head = wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "align": "center"})
    fmt_text = wb.add_format(base)
    fmt_num = wb.add_format({**base, "num_format": "0.00"})
    fmt_int = wb.add_format({**base, "num_format": "0"})
    ncol = len(columns)
    for i, line in enumerate(title):
        ws.merge_range(i, 0, i, max(ncol - 1, 0), line, fmt_title if i < 2 else fmt_sub)
    head_row = len(title) + 1
    for j, (col, (header, width)) in enumerate(columns.items()):
        ws.set_column(j, j, width)
        ws.write_string(head_row, j, header, fmt_head)
        values = frame[col].tolist() if col in frame.columns else [None] * len(frame)
        for i, v in enumerate(values, start=head_row + 1):
            if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
                ws.write_blank(i, j, None, fmt_text)
            elif isinstance(v, bool):
                ws.write_string(i, j, "Có" if v else "Không", fmt_text)
            elif isinstance(v, int | float):
                ws.write_number(
                    i, j, float(v), fmt_num if isinstance(v, float) and not float(v).is_integer() else fmt_int
                )
            else:
                ws.write_string(i, j, str(safe_text(v)), fmt_text)
    ws.freeze_panes(head_row + 1, 3)  # header row, rank + school code + name
    ws.repeat_rows(head_row)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_print_scale(100)
    ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
    left, right = (t.replace("&", "&&") for t in title[:2])  # a literal & is written && in a page header
    ws.set_header(f"&L&9{left}&R&9{right}")
    ws.set_footer("&C&9Trang &P / &N")
    ws.print_area(0, 0, head_row + max(len(frame), 1), max(ncol - 1, 0))


def write_sheets(
    path: Path,
    sheets: dict[str, tuple[pd.DataFrame, dict[str, str]]],
    *,
    freeze_columns: dict[str, str] | None = None,
    before: Callable[[xlsxwriter.Workbook], object] | None = None,
) -> Path:
    """Write {sheet name: (frame, {column: Vietnamese header})} to one workbook. `freeze_columns`: per
    sheet, the column up to which the columns stay visible while scrolling; `before(wb)` adds sheets
    first (the print sheet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
            "in_memory": True,
        },
    )
    wb.set_properties({"created": FIXED_CREATED, "author": "cds-assessment"})
    head = wb.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1}
    )
    num = wb.add_format({"num_format": "0.00"})
    if before is not None:
        before(wb)
    for name, (frame, headers) in sheets.items():
        ws = wb.add_worksheet(name[:31])
        cols = list(headers) if headers else list(frame.columns)
        for j, c in enumerate(cols):
            ws.write_string(0, j, headers.get(c, c), head)
            values = frame[c].tolist() if c in frame.columns else [None] * len(frame)
            width = max([len(headers.get(c, c)) * 0.9, *(len(str(v)) for v in values[:500] if v is not None)])
            ws.set_column(j, j, min(max(8, width + 2), 50))
            for i, v in enumerate(values, start=1):
                if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, int | float):
                    ws.write_number(i, j, float(v), num if isinstance(v, float) else None)
                else:
                    ws.write_string(i, j, str(safe_text(v)))
        last = (freeze_columns or {}).get(name)
        ws.freeze_panes(1, cols.index(last) + 1 if last in cols else 0)
        if cols:
            ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
    wb.close()
    return path
