"""The reshaper names other modules import, kept where they have always been imported from: layouts
that are not plain tables (grade books, TT27 3-tier headers, term summaries, wide self-assessments)
are parsed by `connectors.parsing` (`shapes` dispatches by a layout's `shape:`); nothing is defined
here.
"""

from __future__ import annotations

from connectors.parsing.accounting import MARK_KINDS, account_columns, annotate
from connectors.parsing.shapes import SHAPES, can_group, parse_sheet, parse_sheets, sheet_group_key
from connectors.parsing.tt22 import classify_tt22
from connectors.parsing.tt27 import classify_tt27

__all__ = [
    "MARK_KINDS",
    "SHAPES",
    "account_columns",
    "annotate",
    "can_group",
    "classify_tt22",
    "classify_tt27",
    "parse_sheet",
    "parse_sheets",
    "sheet_group_key",
]
