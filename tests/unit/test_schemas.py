"""The pandera schemas are generated for every canonical entity from entities.yaml, every field is
described, and every rule carries a reason code and a Vietnamese expectation."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from connectors.entities import load_entities
from connectors.messages import REASONS_VI
from quality.schemas import rules_for, schema_for
from quality.validate import failures

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("entity", sorted(load_entities()))
def test_schema_generated_for_every_entity(entity: str) -> None:
    schema = schema_for(entity)
    ent = load_entities()[entity]
    assert isinstance(schema, pa.DataFrameSchema)
    assert set(ent.column_names) <= set(schema.columns)
    assert all(schema.columns[c].description for c in ent.column_names)
    for rule in rules_for(entity).values():
        assert rule.reason_code in REASONS_VI
        assert rule.expected
        assert rule.column in schema.columns or rule.column in ("school_code", "school_year")


@pytest.mark.parametrize("entity", sorted(load_entities()))
def test_empty_frame_passes(entity: str) -> None:
    cols = ["school_code", "school_year", *load_entities()[entity].column_names]
    assert failures(pd.DataFrame(columns=cols), entity).empty


def test_allowed_min_max_pattern_come_from_metadata() -> None:
    rules = rules_for("health_record")
    assert {"height_cm:min", "height_cm:max", "weight_kg:min", "weight_kg:max", "moet_id:pattern"} <= set(
        rules
    )
    assert "held_at:school_year_window" in rules_for("computer_based_test")
    assert "channel:allowed" in rules_for("fee_transaction")
    assert "amount_paid:min" in rules_for("fee_transaction")
    assert "value_num:tt27_test_score_1_10" in rules_for("grade_entry")


def _grades(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"school_code": ["08000001"] * n, "school_year": ["2024-2025"] * n}
    return pd.DataFrame({**base, **cols})


def test_grade_entry_component_dependent_rules() -> None:
    df = _grades(
        scheme=["TT22", "TT22", "TT22", "TT22", "TT27", "TT27", "TT27", "TT27", "TT22"],
        component=["tx", "gk", "ck", "avg_sem", "test_score", "test_score", "test_score", "level", "ck"],
        slot=[1, 0, 0, 0, 0, 0, 0, 0, 0],
        value_num=[8.5, 10.5, 7.25, 10.0, 0.0, 7.5, 10.0, None, None],
        value_text=[None, None, None, None, None, None, None, "T", "Đ"],
    )
    fc = failures(df, "grade_entry")
    got = set(zip(fc["index"], fc["check"], strict=True))
    assert got == {
        (1, "value_num:tt22_mark_0_10"),
        (1, "value_num:max"),
        (2, "value_num:tt22_one_decimal"),
        (4, "value_num:tt27_test_score_1_10"),
        (5, "value_num:tt27_test_score_integer"),
    }


def test_typed_and_untyped_frames_give_same_answer() -> None:
    typed = pd.DataFrame(
        {
            "school_code": ["08000001", "08000001"],
            "school_year": ["2024-2025"] * 2,
            "height_cm": [150.0, 400.0],
            "weight_kg": [40.0, 0.5],
        }
    )
    text = typed.astype(object)
    a = failures(typed, "health_record")[["index", "check"]]
    b = failures(text, "health_record")[["index", "check"]]
    assert a.values.tolist() == b.values.tolist() == [[1, "height_cm:max"], [1, "weight_kg:min"]]


def test_school_year_window() -> None:
    df = pd.DataFrame(
        {
            "school_code": ["08000001"] * 3,
            "school_year": ["2024-2025"] * 3,
            "held_at": pd.to_datetime(["2024-08-01 00:00", "2025-07-31 23:00", "2025-08-01 00:00"]),
        }
    )
    fc = failures(df, "computer_based_test")
    assert fc[["index", "check"]].values.tolist() == [[2, "held_at:school_year_window"]]


def test_rules_evaluated_per_distinct_value_equal_the_rules_on_every_row() -> None:
    """Pattern, allowed-value and school-year rules run once per distinct value (ids and years repeat on
    many rows); the result is the row-by-row result, missing values and odd texts included."""
    import numpy as np

    from quality.schemas import _per_distinct, rules_for

    rng = np.random.default_rng(5)
    values = np.array(
        [
            "2024-2025",
            "2024-2026",
            "abcd-efgh",
            "",
            " 2024-2025",
            "08000001",
            "0800000001",
            "TT22",
            "tx",
            "Đ",
            "12345",
            None,
            np.nan,
        ],
        dtype=object,
    )
    wrapped = [
        r
        for e in ("grade_entry", "student", "school")
        for r in rules_for(e).values()
        if not r.wide and r.fn.__name__ == "per_distinct"
    ]
    assert {"school_code:pattern", "school_year:consecutive"} <= {r.name for r in wrapped}
    for dtype in ("str", object):
        s = pd.Series(rng.choice(values, 3000), dtype=dtype, index=np.arange(3000) * 2 + 1)
        for r in wrapped:
            inner = r.fn.__closure__[0].cell_contents  # the rule as written, row by row
            pd.testing.assert_series_equal(r.fn(s), inner(s), obj=r.name)
    mostly_distinct = pd.Series([f"T{i}" for i in range(1000)])
    assert _per_distinct(lambda s: s.str.len() > 2)(mostly_distinct).sum() == 990
