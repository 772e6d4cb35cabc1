"""Unit tests of the generator's pure helpers: rounding, levels, IDs, quirk choice, rendering."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from sample_exports.generator import rules as R
from sample_exports.generator.ids import citizen_id, phone
from sample_exports.generator.quirks import QuirkPicker, eligible
from sample_exports.generator.sheets import QUIRKS, Block, C, Col, Sheet, render_sheet

pytestmark = pytest.mark.unit


def test_round_half_up_and_points() -> None:
    assert R.round_half_up(Decimal("6.65"), 1) == Decimal("6.7")
    assert R.points_for(8, Fraction(2, 3)) == Decimal("5.33")
    assert R.points_for(6, Fraction(3, 2)) == Decimal(6)


def test_levels() -> None:
    assert R.level_of(Decimal(75), False) == 2
    assert R.level_of(Decimal("75.01"), False) == 3
    assert R.level_of(Decimal("49.99"), False) == 1
    assert R.level_of(Decimal(90), True) == 1
    assert sum(m for _g, m, _k in R.CRITERIA.values() if m and _g == "DH") == 100
    assert sum(m for _g, m, _k in R.CRITERIA.values() if m and _g == "QT") == 90


def test_ids_are_structurally_valid() -> None:
    rng = random.Random(1)
    cid = citizen_id(rng, "08", date(2012, 5, 1), female=True)
    assert len(cid) == 12 and cid[:3] == "008" and cid[3] == "3" and cid[4:6] == "12"
    p = phone(rng)
    assert len(p) == 10 and p.startswith("0") and p.isdigit()


def test_quirk_picker_forces_every_switch_once() -> None:
    picker = QuirkPicker(1.0, 7)
    allowed = eligible("xlsx", single_tier=True, has_title=False, repeat=True, bad_rows=True) | {"xls_corrupt"}
    for _ in range(10):
        picker.pick(allowed)
    assert set(QUIRKS) <= picker.seen
    assert QuirkPicker(0.0, 7).pick(allowed) == frozenset()


def test_render_records_bad_row_positions_and_merges() -> None:
    b = Block([C("STT", "int"), Col(("ĐĐGtx", "1")), Col(("ĐĐGtx", "2"))], [[1, 5.0, 6.0], [2, 11.0, 6.0]],
              title=[["T1"], ["T2"]], tags=[None, "out_of_range"])
    g = render_sheet(Sheet("S", [b], shuffle_ok=False), frozenset(), random.Random(0))
    assert g.bad == [(6, "out_of_range")]  # 2 title rows + 2 header tiers + 2nd data row
    assert (2, 1, 2, 2) in g.merges and (2, 0, 3, 0) in g.merges
