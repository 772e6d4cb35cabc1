"""Shared workbook writing: Vietnamese headers, frozen header row, filters, column widths, and text
cells written so that Excel never evaluates them as formulas (formula-injection safe)."""

from __future__ import annotations

import datetime as dt
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


def write_sheets(path: Path, sheets: dict[str, tuple[pd.DataFrame, dict[str, str]]]) -> Path:
    """Write {sheet name: (frame, {column: Vietnamese header})} to one workbook."""
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
        ws.freeze_panes(1, 0)
        if cols:
            ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
    wb.close()
    return path
