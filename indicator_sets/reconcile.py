"""Reconciliation of the schools' own 4725 scores with the computed ones (docs/indicators.md §5,
"Reconciliation with the school's own score").

What belongs here: pure functions, DataFrames and plain values in and out, no Dagster, no I/O.

- `self_points`: one row per school × criterion × year of the self-assessment with the points that
  count (a rejected score counts as 0), whether it was declared, whether it has an evidence code, and
  whether its form could carry one at all (`evidence_known`: the wide layout has no evidence column, so
  its declarations stand and MISSING_EVIDENCE is low — "evidence unknown is not evidence missing");
- `final_values`: the final computed side — every leaf criterion of every school, the `data` rows as
  scored, the `document` and mandatory rows filled from the self-assessment (status `self_declared`);
- `reconcile_findings`: OVER_CLAIM, UNDER_CLAIM, NO_DATA, MISSING_EVIDENCE, INVALID_SELF_SCORE and
  LEVEL_CHANGE with severity and points at stake; tolerances and severities come from the indicator set;
- `self_scores`, `mixed_scores`: group totals and levels from the self points, and from computed points
  where status is `ok` and self points elsewhere (what LEVEL_CHANGE compares);
- `proposed_values`: the proposed external points (reviewer decision, else computed, else self) with
  the origin of each; `verification_factors`: computed ÷ self over criteria with status `ok`.

Maximum points always come from the indicator set, never from the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from indicator_sets.model import IndicatorSet
from indicator_sets.scoring import round_half_up, school_scores

KEYS = ["school_code", "school_year"]
VKEYS = [*KEYS, "criterion_code"]
DEFAULT_SEVERITIES = {
    "OVER_CLAIM": "medium",
    "OVER_CLAIM_LEVEL": "high",
    "UNDER_CLAIM": "low",
    "NO_DATA": "medium",
    "MISSING_EVIDENCE": "medium",
    "MISSING_EVIDENCE_UNKNOWN": "low",  # the form had no evidence column: the reviewer confirms it
    "INVALID_SELF_SCORE": "high",
    "LEVEL_CHANGE": "high",
}
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
FINDING_COLUMNS = [
    "finding_id",
    "school_code",
    "school_year",
    "criterion_code",
    "finding",
    "severity",
    "self_points",
    "computed_points",
    "points_at_stake",
]
#: Where a proposed point comes from (the thi đua and reviewer outputs show these).
ORIGINS = ("computed", "evidence", "self", "reviewer")
_EPS = 1e-9


def finding_id(school_code: str, school_year: str, criterion_code: str | None, finding: str) -> str:
    """Stable id of a finding: the same school, year, criterion and finding always give the same id."""
    key = "|".join([str(school_code), str(school_year), str(criterion_code or ""), finding])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def tolerance(iset: IndicatorSet, max_points: float) -> float:
    """max(tolerance_points, tolerance_share_of_max × max) of the indicator set."""
    r = iset.reconciliation
    return max(r.tolerance_points, r.tolerance_share_of_max * float(max_points))


def severity(iset: IndicatorSet, key: str) -> str:
    return iset.reconciliation.severities.get(key) or DEFAULT_SEVERITIES[key]


def _has_text(s: pd.Series) -> pd.Series:
    return (
        s.astype("object")
        .map(lambda v: v is not None and not pd.isna(v) and str(v).strip() != "")
        .astype(bool)
    )


def _bool(s: pd.Series) -> pd.Series:
    return (
        s.astype("object").map(lambda v: bool(v) if v is not None and not pd.isna(v) else False).astype(bool)
    )


def self_points(
    self_assessment: pd.DataFrame, iset: IndicatorSet, no_evidence_layouts: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Per school × year × leaf criterion of the self-assessment: `declared`, `self_points` (0 when not
    declared or rejected), `self_invalid`, `has_evidence`, `evidence_known`, `self_met` (mandatory),
    `self_score_raw`.

    A score is rejected when the connector flagged it (`self_score_issue`) or it is above the
    criterion's maximum from the indicator set. `no_evidence_layouts`: ids of the layouts whose form has
    no evidence-code column (rows with such a `layout_id` get `evidence_known` false). The `note` column
    is never carried over (personal data).
    """
    crit = iset.by_code()
    leaves = {c.code for c in iset.leaves()}
    cols = [
        "declared",
        "self_score_raw",
        "self_points",
        "self_invalid",
        "has_evidence",
        "evidence_known",
        "self_met",
    ]
    if self_assessment is None or self_assessment.empty:
        return pd.DataFrame(columns=[*VKEYS, *cols])
    sa = self_assessment.copy()
    for c in ("self_score_raw", "self_score", "self_score_issue", "mandatory_met", "evidence_ref"):
        if c not in sa.columns:
            sa[c] = None
    sa = sa[sa["criterion_code"].isin(leaves)]
    order = [c for c in ("ingested_at", "source_file", "source_row") if c in sa.columns]
    if order:
        sa = sa.sort_values(order, kind="stable")
    sa = sa.drop_duplicates(VKEYS, keep="last")
    mandatory = sa["criterion_code"].map(lambda k: crit[k].mandatory).astype(bool)
    mx = sa["criterion_code"].map(lambda k: float(crit[k].max_points)).astype("float64")
    raw_given = _has_text(sa["self_score_raw"])
    score = pd.to_numeric(sa["self_score"], errors="coerce").astype("float64")
    issue = _has_text(sa["self_score_issue"])
    over_max = score.notna() & (score > mx + _EPS)
    neg = score.notna() & (score < 0)
    unparsed = raw_given & score.isna() & ~mandatory
    invalid = (issue | over_max | neg | unparsed) & (raw_given | issue)
    met = sa["mandatory_met"].astype("object")
    met_given = met.map(lambda v: v is not None and not pd.isna(v)).astype(bool)
    out = sa[VKEYS].copy()
    out["declared"] = (raw_given | (mandatory & met_given)).to_numpy()
    out["self_score_raw"] = sa["self_score_raw"].astype("object").where(raw_given, None).to_numpy()
    valid = score.where(~invalid & ~mandatory)
    out["self_points"] = valid.fillna(0.0).map(lambda v: round_half_up(v) or 0.0).astype("float64").to_numpy()
    out["self_invalid"] = invalid.to_numpy()
    out["has_evidence"] = _has_text(sa["evidence_ref"]).to_numpy()
    layout = sa["layout_id"] if "layout_id" in sa.columns else pd.Series(None, index=sa.index, dtype="object")
    out["evidence_known"] = (~layout.isin(list(no_evidence_layouts))).to_numpy()
    out["self_met"] = (mandatory & _bool(met)).to_numpy()
    return out.reset_index(drop=True)


def final_values(scored: pd.DataFrame, sp: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """The final computed side: one row per school × year × leaf criterion of every school in the
    scored values or the self-assessment.

    `data` rows keep the scored numerator, denominator, value, status, points and source files (a
    criterion with no scored row is `no_data`). `document` rows get status `self_declared` and the
    self points when an evidence code is given, else 0; mandatory rows get value 1 (declared met with
    an evidence code) or 0 and no points. Where the form had no evidence column (`evidence_known`
    false) the declaration stands: the self points, value 1 for a condition declared met. The self-side
    columns of `self_points` ride along.
    """
    leaves = iset.leaves()
    crit = iset.by_code()
    base_cols = ["numerator", "denominator", "value", "status", "source_files", "points"]
    scored = scored.copy() if scored is not None else pd.DataFrame(columns=[*VKEYS, *base_cols])
    for c in base_cols:
        if c not in scored.columns:
            scored[c] = None
    schools = pd.concat([scored[KEYS], sp[KEYS]]).drop_duplicates().sort_values(KEYS)
    grid = schools.merge(pd.DataFrame({"criterion_code": [c.code for c in leaves]}), how="cross")
    out = grid.merge(scored[[*VKEYS, *base_cols]].drop_duplicates(VKEYS), on=VKEYS, how="left")
    out = out.merge(sp, on=VKEYS, how="left")
    out["declared"] = _bool(out["declared"])
    out["self_invalid"] = _bool(out["self_invalid"])
    out["has_evidence"] = _bool(out["has_evidence"])
    out["evidence_known"] = out["evidence_known"].astype("object").where(out["evidence_known"].notna(), True)
    out["evidence_known"] = out["evidence_known"].astype(bool)
    out["self_met"] = _bool(out["self_met"])
    out["self_points"] = pd.to_numeric(out["self_points"], errors="coerce").astype("float64").fillna(0.0)
    kind = out["criterion_code"].map(lambda k: "mandatory" if crit[k].mandatory else crit[k].kind)
    out["kind"] = kind
    out["max_points"] = out["criterion_code"].map(lambda k: float(crit[k].max_points)).astype("float64")
    out["group_code"] = out["criterion_code"].map(lambda k: crit[k].group)
    out["status"] = out["status"].astype("object").where(out["status"].notna(), "no_data")
    doc = kind.isin(["document", "mandatory"])
    out.loc[doc, "status"] = "self_declared"
    pts = pd.to_numeric(out["points"], errors="coerce").astype("float64")
    pts = pts.where(~doc)
    is_doc = kind == "document"
    stands = out["has_evidence"] | ~out["evidence_known"]  # evidence given, or the form had no column for it
    pts = pts.mask(is_doc, out["self_points"].where(stands, 0.0))
    pts = pts.mask(kind == "mandatory", np.nan)
    pts = pts.where(~out["status"].isin(["no_data", "not_applicable"]))
    out["points"] = pts
    val = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    val = val.mask(is_doc, np.nan)
    val = val.mask(kind == "mandatory", (out["self_met"] & stands).astype("float64"))
    out["value"] = val
    for c in ("numerator", "denominator"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").mask(doc, np.nan)
    out["source_files"] = out["source_files"].map(_as_list)
    return out.sort_values(VKEYS, key=_code_sort_key).reset_index(drop=True)


def _as_list(v: object) -> list[str]:
    if v is None:
        return []
    if isinstance(v, float) and np.isnan(v):
        return []
    if isinstance(v, str):
        return [v] if v else []
    if isinstance(v, Iterable):
        return [str(x) for x in v]
    return [str(v)]


def _code_sort_key(s: pd.Series) -> pd.Series:
    if s.name != "criterion_code":
        return s
    return s.map(lambda k: tuple(int(p) for p in str(k).split(".") if p.isdigit()))


def _scores(final: pd.DataFrame, points: pd.Series, met: pd.Series, iset: IndicatorSet) -> pd.DataFrame:
    frame = final[[*VKEYS]].copy()
    frame["points"] = points.astype("float64").to_numpy()
    frame["status"] = final["status"].to_numpy()
    frame["value"] = met.astype("float64").to_numpy()
    return school_scores(frame, iset)


def computed_scores(final: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """The computed-side `school_scores` over the final values (self_declared points count, no_data
    and not_applicable add 0, the cap from the computed mandatory values)."""
    met = final["value"].where(final["kind"] == "mandatory", np.nan)
    return _scores(final, final["points"].fillna(0.0), met, iset)


def self_scores(final: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """The self-declared totals and levels: self points (rejected = 0), the cap from the declared
    mandatory conditions."""
    return _scores(final, final["self_points"], final["self_met"], iset)


def mixed_points(final: pd.DataFrame) -> pd.Series:
    """Computed points where status is `ok`, self points elsewhere."""
    return final["points"].where(final["status"] == "ok", final["self_points"]).fillna(0.0)


def mixed_scores(final: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """Levels from computed points where `ok` and self points elsewhere, the declared conditions' cap."""
    return _scores(final, mixed_points(final), final["self_met"], iset)


def _total(scores: pd.DataFrame, iset: IndicatorSet) -> pd.Series:
    return sum(
        (scores[f"group_{g.code.lower()}_points"] for g in iset.groups), pd.Series(0.0, index=scores.index)
    )


def reconcile_findings(final: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """Every finding of the final values (one row per finding), sorted as the reviewer queue:
    severity, then points at stake (largest first), then school and criterion."""
    rows: list[dict] = []
    own = self_scores(final, iset).set_index(KEYS)
    group_levels = {g.code: f"group_{g.code.lower()}_level" for g in iset.groups}
    group_points = {g.code: f"group_{g.code.lower()}_points" for g in iset.groups}
    group_cap = {g.code: f"group_{g.code.lower()}_mandatory_met" for g in iset.groups}
    cap = iset.mandatory_policy.unmet_caps_group_at

    def add(
        r: Mapping[str, Any], finding: str, sev: str, self_p: float | None, comp: float | None, stake: float
    ) -> None:
        rows.append(
            {
                "school_code": r["school_code"],
                "school_year": r["school_year"],
                "criterion_code": r.get("criterion_code", "") or "",
                "finding": finding,
                "severity": sev,
                "self_points": self_p,
                "computed_points": comp,
                "points_at_stake": round_half_up(abs(stake)) or 0.0,
            }
        )

    # the self-declared scores per school as plain dicts (a DataFrame lookup per finding cost ~0.1 ms)
    own_at = {
        key: dict(zip(own.columns, row, strict=True))
        for key, row in zip(own.index, own.itertuples(index=False, name=None), strict=True)
    }
    cols = [
        "school_code",
        "school_year",
        "criterion_code",
        "kind",
        "status",
        "max_points",
        "self_points",
        "points",
        "self_invalid",
        "self_met",
        "has_evidence",
        "declared",
        "group_code",
        "evidence_known",
    ]
    if "evidence_known" not in final.columns:
        final = final.assign(evidence_known=True)
    # one pass over plain column values (a Series per row cost ~0.3 ms each on a province)
    for values in zip(*(final[c].tolist() for c in cols), strict=True):
        r = dict(zip(cols, values, strict=True))
        kind, status, mx = r["kind"], r["status"], float(r["max_points"])
        self_p = float(r["self_points"])
        comp = None if pd.isna(r["points"]) else float(r["points"])
        if r["self_invalid"]:
            add(r, "INVALID_SELF_SCORE", severity(iset, "INVALID_SELF_SCORE"), 0.0, comp, mx)
        # no evidence code: missing (medium, not counted) or unknown because the form had no column (low,
        # the declaration stands until the reviewer confirms the evidence)
        ev_sev = severity(iset, "MISSING_EVIDENCE" if r["evidence_known"] else "MISSING_EVIDENCE_UNKNOWN")
        if kind == "mandatory":
            if r["self_met"] and not r["has_evidence"]:
                add(r, "MISSING_EVIDENCE", ev_sev, None, None, 0.0)
            continue
        if kind == "document":
            if self_p > 0 and not r["has_evidence"]:
                add(r, "MISSING_EVIDENCE", ev_sev, self_p, comp, self_p)  # at stake: the self points
            continue
        if status == "ok" and comp is not None:
            tol = tolerance(iset, mx)
            diff = round_half_up(self_p - comp) or 0.0
            if diff > tol + _EPS:
                sev = severity(iset, "OVER_CLAIM")
                key = (r["school_code"], r["school_year"])
                g = r["group_code"]
                if key in own_at and g in group_levels:
                    mine = own_at[key]
                    new_total = round_half_up(float(mine[group_points[g]]) - self_p + comp) or 0.0
                    new_level = iset.level_of(new_total)
                    met_col = group_cap[g]
                    if cap is not None and met_col in mine and not bool(mine[met_col]):
                        new_level = min(new_level, cap)
                    if new_level != int(mine[group_levels[g]]):
                        sev = severity(iset, "OVER_CLAIM_LEVEL")
                add(r, "OVER_CLAIM", sev, self_p, comp, diff)
            elif -diff > tol + _EPS:
                add(r, "UNDER_CLAIM", severity(iset, "UNDER_CLAIM"), self_p, comp, -diff)
        elif status == "no_data" and r["declared"]:
            add(r, "NO_DATA", severity(iset, "NO_DATA"), self_p, None, self_p)

    if not final.empty:
        mixed = mixed_scores(final, iset).set_index(KEYS)
        own_total, mixed_total = _total(own, iset), _total(mixed, iset)
        mixed_level = dict(zip(mixed.index, mixed["level"].tolist(), strict=True))
        totals = zip(own.index, own["level"].tolist(), own_total.tolist(), mixed_total.tolist(), strict=True)
        for key, level, own_sum, mixed_sum in totals:
            if int(level) != int(mixed_level[key]):
                s, m = float(own_sum), float(mixed_sum)
                add(
                    {"school_code": key[0], "school_year": key[1], "criterion_code": ""},
                    "LEVEL_CHANGE",
                    severity(iset, "LEVEL_CHANGE"),
                    round_half_up(s),
                    round_half_up(m),
                    s - m,
                )
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS[1:])
    out.insert(
        0,
        "finding_id",
        [
            finding_id(a, b, c, d)
            for a, b, c, d in zip(
                out["school_code"], out["school_year"], out["criterion_code"], out["finding"], strict=True
            )
        ],
    )
    for c in ("self_points", "computed_points", "points_at_stake"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return sort_queue(out)


def sort_queue(findings: pd.DataFrame) -> pd.DataFrame:
    """Reviewer queue order: severity (high first), points at stake (largest first), school, criterion."""
    if findings.empty:
        return findings.reset_index(drop=True)
    f = findings.assign(
        _sev=findings["severity"].map(SEVERITY_RANK).fillna(9),
        _code=findings["criterion_code"].map(
            lambda k: tuple(int(p) for p in str(k).split(".") if p.isdigit())
        ),
    )
    f = f.sort_values(
        ["_sev", "points_at_stake", "school_code", "_code", "finding"],
        ascending=[True, False, True, True, True],
        kind="stable",
    )
    return f.drop(columns=["_sev", "_code"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------ proposals
def proposed_values(
    final: pd.DataFrame, findings: pd.DataFrame, decisions: pd.DataFrame | None, iset: IndicatorSet
) -> pd.DataFrame:
    """The proposed external points per school × criterion with their origin.

    Default: computed points where status is `ok` (origin `computed`), the evidence rule's points for
    document criteria and mandatory conditions (`evidence`), self points for `no_data` and
    `not_applicable` (`self`). A reviewer decision in force on a finding of the criterion replaces it
    (`reviewer`): accept_self → self points, use_computed → computed points (0 when none), adjust → the
    adjusted points. accept_self on a school's LEVEL_CHANGE takes self points for every criterion of
    that school without its own decision. Decisions not in force (stale, request_evidence) change nothing.

    `decisions` needs finding_id, decision, adjusted_points and `in_force` (bool).
    """
    p = final[
        [*VKEYS, "kind", "group_code", "status", "max_points", "points", "self_points", "value", "self_met"]
    ].copy()
    default = p["points"].where(p["status"].isin(["ok", "self_declared"]), p["self_points"]).fillna(0.0)
    origin = np.where(
        p["status"] == "ok", "computed", np.where(p["status"] == "self_declared", "evidence", "self")
    )
    p["proposed_points"] = default.where(p["kind"] != "mandatory", np.nan)
    p["proposed_met"] = p["value"].where(p["kind"] == "mandatory", np.nan)
    p["origin"] = origin
    p["decision"] = None
    if decisions is not None and not decisions.empty and not findings.empty:
        d = decisions.loc[decisions["in_force"].astype(bool), ["finding_id", "decision", "adjusted_points"]]
        d = d.merge(findings[["finding_id", *VKEYS, "finding"]], on="finding_id", how="inner")
        idx = p.set_index(VKEYS).index
        whole = d[(d["finding"] == "LEVEL_CHANGE") & (d["decision"] == "accept_self")]
        for r in whole.itertuples(index=False):
            m = (p["school_code"] == r.school_code) & (p["school_year"] == r.school_year)
            p.loc[m, "proposed_points"] = p.loc[m, "self_points"].where(
                p.loc[m, "kind"] != "mandatory", np.nan
            )
            p.loc[m, "proposed_met"] = (
                p.loc[m, "self_met"].astype("float64").where(p.loc[m, "kind"] == "mandatory")
            )
            p.loc[m, "origin"] = "reviewer"
            p.loc[m, "decision"] = "accept_self"
        per = d[(d["finding"] != "LEVEL_CHANGE") & (d["decision"] != "request_evidence")]
        col = {name: j for j, name in enumerate(p.columns)}
        for dec in per.to_dict("records"):
            key = (dec["school_code"], dec["school_year"], dec["criterion_code"])
            if key not in idx:
                continue
            i = int(np.flatnonzero(idx == key)[0])
            row = p.iloc[i]
            if row["kind"] == "mandatory":
                met = {
                    "accept_self": float(row["self_met"]),
                    "use_computed": row["value"],
                    "adjust": 1.0 if (dec["adjusted_points"] or 0) > 0 else 0.0,
                }[dec["decision"]]
                p.iat[i, col["proposed_met"]] = met
            else:
                pts = {
                    "accept_self": row["self_points"],
                    "use_computed": 0.0 if pd.isna(row["points"]) else row["points"],
                    "adjust": dec["adjusted_points"],
                }[dec["decision"]]
                p.iat[i, col["proposed_points"]] = float(min(max(float(pts), 0.0), row["max_points"]))
            p.iat[i, col["origin"]] = "reviewer"
            p.iat[i, col["decision"]] = dec["decision"]
    return p


def proposed_scores(proposed: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """Group totals and levels of the proposed points (the cap from the proposed mandatory values)."""
    frame = proposed[VKEYS].copy()
    frame["points"] = proposed["proposed_points"].fillna(0.0).astype("float64")
    frame["status"] = proposed["status"]
    frame["value"] = proposed["proposed_met"].astype("float64")
    return school_scores(frame, iset)


def origin_summary(proposed: pd.DataFrame) -> pd.DataFrame:
    """Per school × year × group: the proposed points from each origin (columns pts_<origin>)."""
    pts = proposed[proposed["kind"] != "mandatory"]
    t = pts.pivot_table(
        index=[*KEYS, "group_code"], columns="origin", values="proposed_points", aggfunc="sum", fill_value=0.0
    )
    t = t.reindex(columns=list(ORIGINS), fill_value=0.0)
    t.columns = [f"pts_{c}" for c in t.columns]
    return t.reset_index()


# ------------------------------------------------------------------------------ verification factor
def verification_factors(final: pd.DataFrame, schools: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Computed points ÷ self points over criteria with status `ok`, per criterion, school, managing
    unit and province (<1 means over-reporting; empty when the self points sum to 0).

    `schools` (school_code, school_year, managing_unit) gives the managing units.
    """
    ok = final[final["status"] == "ok"].copy()
    ok["points"] = ok["points"].astype("float64")
    if schools is not None and not schools.empty:
        ok = ok.merge(schools[[*KEYS, "managing_unit"]].drop_duplicates(KEYS), on=KEYS, how="left")
    else:
        ok["managing_unit"] = None
    ok["managing_unit"] = (
        ok["managing_unit"].astype("object").where(ok["managing_unit"].notna(), UNKNOWN_UNIT)
    )

    def agg(by: list[str]) -> pd.DataFrame:
        if ok.empty:
            return pd.DataFrame(columns=[*by, "n_criteria", "self_points", "computed_points", "factor"])
        g = (
            ok.groupby(by, dropna=False)
            .agg(
                n_criteria=("points", "size"),
                self_points=("self_points", "sum"),
                computed_points=("points", "sum"),
            )
            .reset_index()
        )
        g["self_points"] = g["self_points"].map(round_half_up)
        g["computed_points"] = g["computed_points"].map(round_half_up)
        g["factor"] = [
            round(c / s, 4) if s and s > 0 else float("nan")
            for c, s in zip(g["computed_points"], g["self_points"], strict=True)
        ]
        g["factor"] = g["factor"].astype("float64")
        return g

    province = agg(["school_year"])
    return {
        "criterion": agg(["school_year", "criterion_code"]).sort_values("criterion_code", key=_code_sort_key),
        "school": agg(KEYS),
        "managing_unit": agg(["school_year", "managing_unit"]),
        "province": province,
    }


UNKNOWN_UNIT = "Chưa rõ đơn vị"
