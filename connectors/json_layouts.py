"""JSON layouts (EXPORTS.md §3.8 LMS pushes, §3.9 B resources), detected by their keys."""

from __future__ import annotations

from pathlib import Path

from connectors.readers import FileRejected
from connectors.sheet_parser import ParseContext, SheetResult


def parse_json_file(path: Path, ctx: ParseContext) -> list[SheetResult]:
    """Parse a JSON export; until a JSON layout matches, the file is `unrecognized_layout`."""
    raise FileRejected("unrecognized_layout", "JSON")
