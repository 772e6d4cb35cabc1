"""The names other modules import from the parser, kept where they have always been imported from. The
parser itself lives in `connectors.parsing` (one core, split by job); nothing is defined here.
"""

from __future__ import annotations

from connectors.parsing.blocks import Block, SheetRows, collect_arrays, split_blocks
from connectors.parsing.cells import _nonblank
from connectors.parsing.finish import GroupRows, finish_group, finish_rows
from connectors.parsing.group import group_key, groupable, parse_tables
from connectors.parsing.headers import (
    HEADER_SCAN_ROWS,
    NearMiss,
    evidence_score,
    find_headers,
    header_depth,
    header_paths,
    map_columns,
    sheet_not_read,
)
from connectors.parsing.metadata import explode_and_melt, missing_metadata_detail
from connectors.parsing.model import (
    ColumnUse,
    Grid,
    HeaderMatch,
    ParseContext,
    SheetResult,
    sheet_contexts,
    sheets_report,
    to_grid,
)
from connectors.parsing.titles import parse_title
from connectors.parsing.values import parse_column

__all__ = [
    "HEADER_SCAN_ROWS",
    "Block",
    "ColumnUse",
    "Grid",
    "GroupRows",
    "HeaderMatch",
    "NearMiss",
    "ParseContext",
    "SheetResult",
    "SheetRows",
    "_nonblank",
    "collect_arrays",
    "evidence_score",
    "explode_and_melt",
    "find_headers",
    "finish_group",
    "finish_rows",
    "group_key",
    "groupable",
    "header_depth",
    "header_paths",
    "map_columns",
    "missing_metadata_detail",
    "parse_column",
    "parse_tables",
    "parse_title",
    "sheet_contexts",
    "sheet_not_read",
    "sheets_report",
    "split_blocks",
    "to_grid",
]
