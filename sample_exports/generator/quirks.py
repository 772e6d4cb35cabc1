"""Choosing the quirk switches of docs/exports.md §1.4 for each generated file.

Policy (documented in the README of the generator and the report):
- each switch that is eligible for a file is on with probability 0.3 × messiness;
- when messiness > 0, the first eligible file of a run that has not yet seen a switch gets it forced on
  (at most 3 forced switches per file), so that with any messiness > 0 — in particular messiness 1 on the
  small preset — every switch appears at least once;
- messiness 0 turns every switch off.
"""

from __future__ import annotations

import random

from .sheets import QUIRKS

CELL_QUIRKS = frozenset(
    {
        "header_linebreaks",
        "header_case",
        "nfd",
        "synonyms",
        "ids_as_numbers",
        "decimal_comma",
        "date_style",
        "blank_rows",
    }
)


def eligible(fmt: str, *, single_tier: bool, has_title: bool, repeat: bool, bad_rows: bool) -> frozenset[str]:
    """Switches that make sense for a file of this shape."""
    q = set(CELL_QUIRKS)
    if fmt != "csv":
        q |= {"col_offset", "code_sheets"}
    if single_tier:
        q |= {"extra_cols", "shuffle_cols"}
    if not has_title:
        q.add("title_rows")
    if repeat:
        q.add("repeat_blocks")
    if bad_rows:
        q.add("bad_rows")
    if fmt == "xlsx":
        q.add("bad_dimension")
    if fmt == "xls":
        q.add("xls_corrupt")
    return frozenset(q)


class QuirkPicker:
    """Deterministic per-run quirk chooser with the 'every switch at least once' guarantee."""

    def __init__(self, messiness: float, seed: int) -> None:
        self.p = 0.3 * max(0.0, min(1.0, messiness))
        self.rng = random.Random(f"quirks:{seed}")
        self.seen: set[str] = set()
        self.counts: dict[str, int] = dict.fromkeys(QUIRKS, 0)

    def pick(self, allowed: frozenset[str]) -> frozenset[str]:
        on: set[str] = set()
        if self.p <= 0:
            return frozenset()
        forced = 0
        for q in QUIRKS:  # fixed order: deterministic
            if q not in allowed:
                continue
            if self.rng.random() < self.p:
                on.add(q)
            elif q not in self.seen and forced < 3:
                on.add(q)
                forced += 1
        self.seen |= on
        for q in on:
            self.counts[q] += 1
        return frozenset(on)
