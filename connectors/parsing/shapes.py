"""Which code parses a layout's sheets: plain tables, the grade-book shapes (TT22, TT27) and term
summaries by groups (a sheet whose layout cannot share a group is a group of one), the wide
self-assessment one sheet at a time. A layout names its shape in `shape:`.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.layouts import Layout
from connectors.parsing import tt22, tt27
from connectors.parsing.accounting import annotate
from connectors.parsing.group import group_key, groupable, parse_tables
from connectors.parsing.model import Grid, HeaderMatch, ParseContext, SheetResult
from connectors.parsing.wide import self_assessment_wide, term_summary

GroupParser = Callable[[list[Grid], list[HeaderMatch], list[ParseContext]], list[SheetResult]]
SheetParser = Callable[[Grid, HeaderMatch, ParseContext], SheetResult]

GROUPED: dict[str, GroupParser] = {
    "table": parse_tables,
    "tt22": tt22.parse_group,
    "tt27": tt27.parse_group,
    "term_summary": term_summary,
}
ALONE: dict[str, SheetParser] = {"self_assessment_wide": self_assessment_wide}
SHAPES = frozenset(GROUPED) | frozenset(ALONE)


def can_group(layout: Layout) -> bool:
    """Sheets of this layout may be parsed with other sheets (`sheet_group_key`)."""
    return layout.shape in GROUPED and groupable(layout)


def sheet_group_key(match: HeaderMatch, position: int) -> tuple:
    """Sheets with the same key are parsed together; a sheet that cannot share a group has its own."""
    if can_group(match.layout):
        return (match.layout.shape, *group_key(match))
    return ("alone", position)


def parse_sheets(
    grids: list[Grid], matches: list[HeaderMatch], ctxs: list[ParseContext]
) -> list[SheetResult]:
    """The results of one group of sheets (equal `sheet_group_key`), with their accounting."""
    shape = matches[0].layout.shape
    if shape in GROUPED:
        out = GROUPED[shape](grids, matches, ctxs)
    elif shape in ALONE:
        out = [ALONE[shape](g, m, c) for g, m, c in zip(grids, matches, ctxs, strict=True)]
    else:
        raise KeyError(f"no reshaper named {shape!r}")
    annotate(out, grids, matches)  # each column's use, header rows, runner-up (issue 19)
    return out


def parse_sheet(grid: Grid, match: HeaderMatch, ctx: ParseContext) -> SheetResult:
    """One sheet parsed alone (a group of one)."""
    return parse_sheets([grid], [match], [ctx])[0]
