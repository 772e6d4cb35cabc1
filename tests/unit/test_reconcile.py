"""Unit tests of each reconciliation rule on small DataFrames (docs/indicators.md §5, "Reconciliation with
the school's own score"): tolerance edges, invalid self scores, mandatory conditions without evidence,
document criteria, NO_DATA only when declared, OVER_CLAIM severity and LEVEL_CHANGE."""

from __future__ import annotations

import pandas as pd
import pytest

from indicator_sets.model import IndicatorSet
from indicator_sets.reconcile import (
    computed_scores,
    final_values,
    finding_id,
    mixed_scores,
    proposed_scores,
    proposed_values,
    reconcile_findings,
    self_points,
    self_scores,
    verification_factors,
)

pytestmark = pytest.mark.unit
Y = "2024-2025"


def small_set() -> IndicatorSet:
    crit = [
        {
            "code": "1.1",
            "name": "Kế hoạch",
            "group": "DH",
            "kind": "document",
            "mandatory": True,
            "rule": {"type": "mandatory"},
        },
        {"code": "1.4", "name": "Học liệu", "group": "DH", "max_points": 40, "rule": {"type": "ratio"}},
        {"code": "1.5.1", "name": "Kiểm tra", "group": "DH", "max_points": 40, "rule": {"type": "ratio"}},
        {
            "code": "1.7.3",
            "name": "Studio",
            "group": "DH",
            "max_points": 20,
            "kind": "document",
            "rule": {"type": "document"},
        },
        {
            "code": "2.1",
            "name": "Đơn vị",
            "group": "QT",
            "kind": "document",
            "mandatory": True,
            "rule": {"type": "mandatory"},
        },
        {
            "code": "2.3.1",
            "name": "Quy chế",
            "group": "QT",
            "max_points": 50,
            "kind": "document",
            "rule": {"type": "document"},
        },
        {"code": "2.3.2", "name": "Học sinh", "group": "QT", "max_points": 6, "rule": {"type": "ratio"}},
        {"code": "2.3.3", "name": "Sổ điểm", "group": "QT", "max_points": 44, "rule": {"type": "ratio"}},
    ]
    return IndicatorSet.model_validate(
        {
            "id": "t",
            "name": "t",
            "groups": [
                {"code": "DH", "roman": "I", "name": "DH"},
                {"code": "QT", "roman": "II", "name": "QT"},
            ],
            "criteria": crit,
        }
    )


def scored(rows: list[tuple], school: str = "S1") -> pd.DataFrame:
    """(code, status, points) rows of score_indicators__scored."""
    return pd.DataFrame(
        [
            {
                "school_code": school,
                "school_year": Y,
                "criterion_code": c,
                "numerator": None,
                "denominator": None,
                "value": None,
                "status": s,
                "source_files": ["f.xlsx"],
                "points": p,
            }
            for c, s, p in rows
        ]
    )


def selfs(rows: list[tuple], school: str = "S1") -> pd.DataFrame:
    """(code, raw, score, issue, met, evidence) rows of raw_self_assessment."""
    return pd.DataFrame(
        [
            {
                "school_code": school,
                "school_year": Y,
                "criterion_code": c,
                "self_score_raw": raw,
                "self_score": sc,
                "self_score_issue": iss,
                "mandatory_met": met,
                "evidence_ref": ev,
                "note": "Nguyễn Văn A",
            }
            for c, raw, sc, iss, met, ev in rows
        ]
    )


BASE_SELF = [
    ("1.1", "Đạt", None, None, True, "H1-1.1-01"),
    ("2.1", "Đạt", None, None, True, "H2-2.1-01"),
    ("1.7.3", "20", 20.0, None, None, "H1"),
    ("2.3.1", "50", 50.0, None, None, "H2"),
]
BASE_DATA = [("1.4", "ok", 40.0), ("1.5.1", "ok", 40.0), ("2.3.2", "ok", 6.0), ("2.3.3", "ok", 44.0)]


def run(data: list[tuple], self_rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    iset = small_set()
    final = final_values(scored(data), self_points(selfs(self_rows), iset), iset)
    return final, reconcile_findings(final, iset)


def kinds(f: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(f["criterion_code"], f["finding"], strict=True))


def test_no_findings_when_equal() -> None:
    _, f = run(
        BASE_DATA,
        [
            *BASE_SELF,
            ("1.4", "40", 40.0, None, None, "e"),
            ("1.5.1", "40", 40.0, None, None, "e"),
            ("2.3.2", "6", 6.0, None, None, "e"),
            ("2.3.3", "44", 44.0, None, None, "e"),
        ],
    )
    assert f.empty


@pytest.mark.parametrize(
    ("max_code", "self_score", "computed", "expected"),
    [
        ("2.3.2", 6.0, 5.0, set()),  # max 6: tolerance max(1, 0.6) = 1; diff 1 → within
        ("2.3.2", 6.0, 4.99, {("2.3.2", "OVER_CLAIM")}),  # diff 1.01 → over
        ("2.3.2", 4.0, 5.0, set()),
        ("2.3.2", 3.99, 5.0, {("2.3.2", "UNDER_CLAIM")}),
        ("1.4", 40.0, 36.0, set()),  # max 40: tolerance 4; diff 4 → within
        ("1.4", 40.0, 35.99, {("1.4", "OVER_CLAIM")}),
        ("1.4", 31.0, 35.0, set()),
        ("1.4", 30.99, 35.0, {("1.4", "UNDER_CLAIM")}),
        ("2.3.2", 5.33, 4.33, set()),  # float noise 1.0000000000000004 is still within
    ],
)
def test_tolerance_edges(max_code: str, self_score: float, computed: float, expected: set) -> None:
    data = [(c, s, computed if c == max_code else p) for c, s, p in BASE_DATA]
    rows = [
        *BASE_SELF,
        *[(c, str(p), p, None, None, "e") for c, _, p in BASE_DATA if c != max_code],
        (max_code, str(self_score), self_score, None, None, "e"),
    ]
    _, f = run(data, rows)
    assert kinds(f[f["finding"] != "LEVEL_CHANGE"]) == expected


def test_over_claim_severity_high_only_when_it_changes_a_level() -> None:
    # QT self: 50 + 6 + 44 = 100 → Mức 3. 2.3.3 computed 30 → 86 still Mức 3: medium.
    data = [(c, s, 30.0 if c == "2.3.3" else p) for c, s, p in BASE_DATA]
    rows = [*BASE_SELF, *[(c, str(p), p, None, None, "e") for c, _, p in BASE_DATA]]
    _, f = run(data, rows)
    over = f[f["finding"] == "OVER_CLAIM"].iloc[0]
    assert (over["severity"], over["points_at_stake"], over["self_points"], over["computed_points"]) == (
        "medium",
        14.0,
        44.0,
        30.0,
    )
    # 2.3.3 computed 0 → QT 56 → Mức 2: high, and the school's level changes
    data = [(c, s, 0.0 if c == "2.3.3" else p) for c, s, p in BASE_DATA]
    _, f = run(data, rows)
    assert f.set_index("finding").loc["OVER_CLAIM", "severity"] == "high"
    lc = f[f["finding"] == "LEVEL_CHANGE"]
    assert len(lc) == 1 and lc.iloc[0]["criterion_code"] == "" and lc.iloc[0]["severity"] == "high"
    assert lc.iloc[0]["points_at_stake"] == 44.0
    assert f.iloc[0]["severity"] == "high"  # queue order: high first


def test_invalid_self_score_counts_as_zero() -> None:
    rows = [
        *BASE_SELF,
        ("1.4", "abc", None, "bad_number", None, "e"),
        ("1.5.1", "45", 45.0, None, None, "e"),
        ("2.3.2", "-1", None, "out_of_range", None, "e"),
        ("2.3.3", "44", 44.0, None, None, "e"),
    ]
    final, f = run(BASE_DATA, rows)
    inv = f[f["finding"] == "INVALID_SELF_SCORE"]
    assert set(inv["criterion_code"]) == {"1.4", "1.5.1", "2.3.2"}  # 45 > max 40 from the set, not the file
    assert (inv["severity"] == "high").all() and (inv["self_points"] == 0).all()
    # counted as 0: the under-claims follow from it, and the self totals use 0
    assert {("1.4", "UNDER_CLAIM"), ("1.5.1", "UNDER_CLAIM"), ("2.3.2", "UNDER_CLAIM")} <= kinds(f)
    own = self_scores(final, small_set()).iloc[0]
    assert own["group_dh_points"] == 20.0 and own["group_qt_points"] == 94.0


def test_mandatory_met_without_evidence() -> None:
    rows = [
        ("1.1", "Đạt", None, None, True, None),
        ("2.1", "Chưa đạt", None, None, False, None),
        *BASE_SELF[2:],
        *[(c, str(p), p, None, None, "e") for c, _, p in BASE_DATA],
    ]
    final, f = run(BASE_DATA, rows)
    assert kinds(f[f["finding"] != "LEVEL_CHANGE"]) == {("1.1", "MISSING_EVIDENCE")}  # declared not met: none
    v = final.set_index("criterion_code")
    assert v.loc["1.1", "value"] == 0 and v.loc["2.1", "value"] == 0 and pd.isna(v.loc["1.1", "points"])
    assert v.loc["1.1", "status"] == "self_declared"
    comp = computed_scores(final, small_set()).iloc[0]
    assert comp["group_dh_level"] == 1 and comp["group_qt_level"] == 1  # capped by the computed values
    own = self_scores(final, small_set()).iloc[0]
    assert own["group_dh_level"] == 3 and own["group_qt_level"] == 1  # declared conditions


def test_document_criteria_points_from_evidence() -> None:
    rows = [
        *BASE_SELF[:2],
        ("1.7.3", "15", 15.0, None, None, None),
        ("2.3.1", "0", 0.0, None, None, None),
        *[(c, str(p), p, None, None, "e") for c, _, p in BASE_DATA],
    ]
    final, f = run(BASE_DATA, rows)
    assert kinds(f[f["finding"] != "LEVEL_CHANGE"]) == {
        ("1.7.3", "MISSING_EVIDENCE")
    }  # 0 without evidence: none
    v = final.set_index("criterion_code")
    assert v.loc["1.7.3", "points"] == 0 and v.loc["1.7.3", "self_points"] == 15
    me = f[f["finding"] == "MISSING_EVIDENCE"].iloc[0]
    assert (me["self_points"], me["computed_points"], me["points_at_stake"]) == (15.0, 0.0, 15.0)
    # no OVER/UNDER on self_declared rows, and the mixed level takes self points for them
    assert mixed_scores(final, small_set()).iloc[0]["group_dh_points"] == 95.0


def test_no_data_only_when_declared_and_not_applicable_silent() -> None:
    data = [
        ("1.4", "no_data", None),
        ("1.5.1", "no_data", None),
        ("2.3.2", "not_applicable", None),
        ("2.3.3", "ok", 44.0),
    ]
    rows = [
        *BASE_SELF,
        ("1.4", "30", 30.0, None, None, "e"),
        ("2.3.2", "6", 6.0, None, None, "e"),
        ("2.3.3", "44", 44.0, None, None, "e"),
    ]
    _, f = run(data, rows)
    nd = f[f["finding"] == "NO_DATA"]
    assert list(nd["criterion_code"]) == ["1.4"] and nd.iloc[0]["points_at_stake"] == 30.0
    assert not (f["criterion_code"] == "2.3.2").any()


def test_missing_scored_row_is_no_data() -> None:
    final, f = run([("2.3.3", "ok", 44.0)], [*BASE_SELF, ("1.4", "10", 10.0, None, None, "e")])
    assert final.set_index("criterion_code").loc["1.4", "status"] == "no_data"
    assert ("1.4", "NO_DATA") in kinds(f)


def test_level_change_one_per_school_year() -> None:
    data = [(c, s, 0.0) for c, s, _ in BASE_DATA]
    rows = [*BASE_SELF, *[(c, str(p), p, None, None, "e") for c, _, p in BASE_DATA]]
    _, f = run(data, rows)
    lc = f[f["finding"] == "LEVEL_CHANGE"]
    assert len(lc) == 1
    assert (lc.iloc[0]["self_points"], lc.iloc[0]["computed_points"]) == (200.0, 70.0)


def test_finding_ids_are_stable() -> None:
    a = finding_id("S1", Y, "1.4", "OVER_CLAIM")
    assert a == finding_id("S1", Y, "1.4", "OVER_CLAIM") and a != finding_id("S1", Y, "1.4", "UNDER_CLAIM")
    assert len(a) == 16 and finding_id("S1", Y, None, "LEVEL_CHANGE") == finding_id(
        "S1", Y, "", "LEVEL_CHANGE"
    )


def test_note_never_reaches_the_final_values() -> None:
    final, _ = run(BASE_DATA, BASE_SELF)
    assert "note" not in final.columns
    assert not final.astype(str).apply(lambda s: s.str.contains("Nguyễn")).any().any()


def test_proposals_and_decisions() -> None:
    iset = small_set()
    data = [(c, s, 0.0 if c == "2.3.3" else p) for c, s, p in BASE_DATA]
    rows = [*BASE_SELF, *[(c, str(p), p, None, None, "e") for c, _, p in BASE_DATA]]
    final, f = run(data, rows)
    fid = f[(f["finding"] == "OVER_CLAIM")].iloc[0]["finding_id"]
    prop = proposed_values(final, f, None, iset)
    assert prop.set_index("criterion_code").loc["2.3.3", "origin"] == "computed"
    assert proposed_scores(prop, iset).iloc[0]["group_qt_points"] == 56.0
    dec = pd.DataFrame([{"finding_id": fid, "decision": "adjust", "adjusted_points": 30.0, "in_force": True}])
    prop = proposed_values(final, f, dec, iset)
    assert prop.set_index("criterion_code").loc["2.3.3", "origin"] == "reviewer"
    assert proposed_scores(prop, iset).iloc[0]["group_qt_points"] == 86.0
    dec["in_force"] = False  # stale: not applied
    assert proposed_scores(proposed_values(final, f, dec, iset), iset).iloc[0]["group_qt_points"] == 56.0


def test_verification_factor() -> None:
    data = [(c, s, 0.0 if c == "2.3.3" else p) for c, s, p in BASE_DATA]
    rows = [*BASE_SELF, *[(c, str(p), p, None, None, "e") for c, _, p in BASE_DATA]]
    final, _ = run(data, rows)
    vf = verification_factors(final)
    assert vf["province"].iloc[0]["factor"] == pytest.approx(86 / 130, abs=1e-4)
    assert vf["criterion"].set_index("criterion_code").loc["2.3.3", "factor"] == 0
    assert vf["managing_unit"].iloc[0]["managing_unit"] == "Chưa rõ đơn vị"


def test_wide_form_without_evidence_column_keeps_declarations_with_low_findings() -> None:
    """docs/indicators.md, "Evidence unknown is not evidence missing": the same blank evidence code counts
    against a school whose form had the column (medium, value 0, 0 points), not against a school whose
    wide form had none (low, value 1, self points, never capped at Mức 1 for it)."""
    iset = small_set()
    rows = [
        ("1.1", "Đạt", None, None, True, None),
        ("2.1", "Đạt", None, None, True, None),
        ("1.7.3", "20", 20.0, None, None, None),
        ("2.3.1", "50", 50.0, None, None, None),
    ]
    long_form = selfs(rows, "S1").assign(layout_id="cds.self_assessment_long.v1")
    wide_form = selfs(rows, "S2").assign(layout_id="cds.self_assessment_wide.v1")
    data = pd.concat([scored(BASE_DATA, "S1"), scored(BASE_DATA, "S2")])
    sp = self_points(pd.concat([long_form, wide_form]), iset, frozenset({"cds.self_assessment_wide.v1"}))
    final = final_values(data, sp, iset)
    found = reconcile_findings(final, iset)
    f = final.set_index(["school_code", "criterion_code"])
    assert f.loc[("S1", "1.1"), "value"] == 0 and f.loc[("S1", "1.7.3"), "points"] == 0
    assert f.loc[("S2", "1.1"), "value"] == 1 and f.loc[("S2", "1.7.3"), "points"] == 20
    assert not f.loc[("S2", "1.1"), "evidence_known"] and f.loc[("S1", "1.1"), "evidence_known"]
    ev = found[found["finding"] == "MISSING_EVIDENCE"].set_index(["school_code", "criterion_code"])
    assert set(ev.loc["S1", "severity"]) == {"medium"} and set(ev.loc["S2", "severity"]) == {"low"}
    assert len(ev.loc["S1"]) == len(ev.loc["S2"]) == 4
    assert ev.loc[("S2", "1.7.3"), "points_at_stake"] == 20
    levels = computed_scores(final, iset).set_index("school_code")["level"]
    assert levels["S1"] == 1 and levels["S2"] == 3  # the form alone never caps a school at Mức 1
