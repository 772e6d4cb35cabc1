"""Generic scoring: half-up rounding, caps, presence/ratio/composite, levels, the mandatory cap, bands."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from indicator_sets.model import load_indicator_set
from indicator_sets.scoring import band_of, points_for, round_half_up, school_scores, score_values

pytestmark = pytest.mark.unit

YAML = Path(__file__).resolve().parents[2] / "indicator_sets" / "qd4725_2022.yaml"


@pytest.fixture(scope="module")
def iset():
    return load_indicator_set(YAML)


def test_round_half_up() -> None:
    assert round_half_up(2.675) == 2.68
    assert round_half_up(6.65, 1) == 6.7
    assert round_half_up(0.125) == 0.13
    assert round_half_up(None) is None


def test_points_per_rule(iset) -> None:
    c = iset.by_code()
    assert points_for(c["1.3.1"], 0, 0, "ok") == 0.0
    assert points_for(c["1.3.1"], 3, 3, "ok") == 6.0
    assert points_for(c["2.3.2"], 90, 0.9, "ok") == 5.68  # 6 × 0.9 / 0.95 = 5.684…
    assert points_for(c["2.3.2"], 99, 0.99, "ok") == 6.0  # capped at max
    assert points_for(c["1.7.2"], 50, 1.25, "ok") == 7.0  # value uncapped, points capped
    assert points_for(c["1.7.1"], 1, 0.333333, "ok", 1 / 3) == 2.67
    # 2.3.3: 10 × (0.5 × a + 0.5 × b) from the exact value; float noise does not break half-up
    assert points_for(c["2.3.3"], None, 0.7125, "ok", 0.71249999999999) == 7.13
    assert points_for(c["1.4"], None, None, "no_data") is None
    assert points_for(c["2.4.2"], None, None, "not_applicable") is None
    assert points_for(c["1.7.3"], None, None, "self_declared") is None


def _rows(points: dict[str, float | None], mandatory: dict[str, int]) -> pd.DataFrame:
    rows = [
        {
            "school_code": "S1",
            "school_year": "2024-2025",
            "criterion_code": k,
            "points": v,
            "value": None,
            "status": "ok",
        }
        for k, v in points.items()
    ]
    rows += [
        {
            "school_code": "S1",
            "school_year": "2024-2025",
            "criterion_code": k,
            "points": None,
            "value": v,
            "status": "self_declared",
        }
        for k, v in mandatory.items()
    ]
    return pd.DataFrame(rows)


def test_levels_and_mandatory_cap(iset) -> None:
    dh = {
        "1.3.1": 6,
        "1.3.2": 6,
        "1.3.3": 6,
        "1.3.4": 6,
        "1.3.5": 6,
        "1.4": 10,
        "1.5.1": 15,
        "1.5.2": 5,
        "1.6.1": 7,
        "1.6.2": 7,
        "1.7.1": 1.01,
    }  # 75.01 → Mức 3
    qt = {"2.3.2": 6, "2.3.3": 10, "2.3.4": 6, "2.3.5": 10, "2.3.6": 10, "2.3.7": 6, "2.3.8": 2}  # 50 → Mức 2
    met = _rows({**dh, **qt}, {"1.1": 1, "1.2": 1, "2.1": 1, "2.2": 1})
    s = school_scores(met, iset).iloc[0]
    assert (s.group_dh_points, s.group_dh_level, s.group_qt_points, s.group_qt_level, s.level) == (
        75.01,
        3,
        50,
        2,
        2,
    )
    assert s.criterion_1_3_points == 30 and s.criterion_1_3_band == "Trên 20 điểm"
    unmet = _rows({**dh, **qt}, {"1.1": 1, "1.2": 0, "2.1": 1, "2.2": 1})
    s = school_scores(unmet, iset).iloc[0]
    assert s.group_dh_level == 1 and not s.group_dh_mandatory_met and s.group_qt_level == 2 and s.level == 1


def test_band_edges(iset) -> None:
    assert band_of(iset, "1.3", 9.99) == "Dưới 10 điểm"
    assert band_of(iset, "1.3", 10) == "Từ 10 đến 20 điểm"
    assert band_of(iset, "1.3", 20) == "Từ 10 đến 20 điểm"
    assert band_of(iset, "1.3", 20.01) == "Trên 20 điểm"


def test_score_values_adds_points(iset) -> None:
    values = pd.DataFrame(
        [
            {
                "school_code": "S1",
                "school_year": "2024-2025",
                "criterion_code": "2.4.3",
                "numerator": 2.0,
                "denominator": 3.0,
                "value": 0.666667,
                "value_exact": 2 / 3,
                "status": "ok",
            },
            {
                "school_code": "S1",
                "school_year": "2024-2025",
                "criterion_code": "2.4.2",
                "numerator": None,
                "denominator": None,
                "value": None,
                "value_exact": None,
                "status": "not_applicable",
            },
        ]
    )
    out = score_values(values, iset)
    assert out["points"].iloc[0] == 6.67 and pd.isna(out["points"].iloc[1])
    assert out["group_code"].tolist() == ["QT", "QT"]
