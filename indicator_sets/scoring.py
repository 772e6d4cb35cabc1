"""Generic scoring over an indicator set: points per criterion from its rule, group totals, group and
school levels, the mandatory-condition cap, and the bands of composite criteria.

Rules are generic (presence, ratio with target, composite, document, mandatory); there is no branch
per criterion code. Points are rounded half-up to 2 decimals and never exceed the maximum.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from indicator_sets.model import Criterion, IndicatorSet


def round_half_up(x: float | None, places: int = 2) -> float | None:
    """Half-up rounding with decimal arithmetic (2.675 → 2.68)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    q = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def _present(x: float | None) -> float | None:
    """The value itself, or None when it is missing (None, NaN or pd.NA from a nullable column)."""
    return None if x is None or pd.isna(x) else x


def points_for(
    c: Criterion, numerator: float | None, value: float | None, status: str, value_exact: float | None = None
) -> float | None:
    """Points of one computed criterion value (None when nothing was computed).

    Ratio and composite points use the unrounded value when given (`value_exact`): points come from the
    exact value and are then rounded half-up (float noise below 1e-9 is removed first).
    """
    if c.rule is None or status != "ok":
        return None
    r = c.rule
    if r.type == "mandatory":
        return None
    if r.type == "presence":
        n = _present(numerator)
        if n is None:
            n = _present(value)
        raw = c.max_points if n is not None and n >= r.min_count else 0.0
    elif r.type in ("ratio", "composite"):
        x = _present(value_exact)
        if x is None:
            x = _present(value)
        if x is None:
            return None
        raw = c.max_points * max(0.0, min(1.0, float(x) / r.target)) if r.target > 0 else 0.0
        raw = round(raw, 9)
    else:  # document: points come from the self-assessment, not from data
        return None
    return min(round_half_up(raw) or 0.0, c.max_points)


def score_values(values: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """Add `points`, `max_points`, `group_code` to mart rows (one per school × criterion × year)."""
    crit = iset.by_code()
    out = values.copy()
    exact = (
        out["value_exact"] if "value_exact" in out.columns else pd.Series([None] * len(out), index=out.index)
    )
    pts = []
    for code, num, val, status, vex in zip(
        out["criterion_code"], out["numerator"], out["value"], out["status"], exact, strict=True
    ):
        c = crit.get(code)
        pts.append(points_for(c, num, val, status, vex) if c else None)
    out["points"] = pd.array(pts, dtype="Float64")
    out["max_points"] = out["criterion_code"].map(lambda k: crit[k].max_points if k in crit else None)
    out["group_code"] = out["criterion_code"].map(lambda k: crit[k].group if k in crit else None)
    return out


def school_scores(points: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """Group totals, group levels (with the mandatory cap) and school level per school × year.

    `points` needs school_code, school_year, criterion_code, points, status and, for mandatory
    criteria, `value` (1 met with evidence, 0 otherwise).
    """
    crit = iset.by_code()
    keys = ["school_code", "school_year"]
    schools = points[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    out = schools.copy()
    cap = iset.mandatory_policy.unmet_caps_group_at
    school_level = pd.Series(3, index=out.index)
    codes = points["criterion_code"]
    for g in iset.groups:
        in_group = codes.map({k: c.group == g.code for k, c in crit.items()}).fillna(False).astype(bool)
        part = points[in_group]
        totals = part.groupby(keys)["points"].sum(min_count=0).reset_index(name="total")
        merged = out[keys].merge(totals, on=keys, how="left")
        total = merged["total"].astype("float64").fillna(0.0).map(round_half_up)
        level = total.map(iset.level_of)
        mand = part[part["criterion_code"].map({k: c.mandatory for k, c in crit.items()}).astype(bool)]
        if cap is not None and not mand.empty:
            unmet = (
                mand[mand["value"].astype("float64").fillna(0) < 1].groupby(keys).size().reset_index(name="n")
            )
            flag = out[keys].merge(unmet, on=keys, how="left")["n"].fillna(0) > 0
            level = level.where(~flag, np.minimum(level, cap))
            out[f"group_{g.code.lower()}_mandatory_met"] = ~flag
        out[f"group_{g.code.lower()}_points"] = total
        out[f"group_{g.code.lower()}_level"] = level.astype(int)
        school_level = school_level.where(school_level <= level, level)
    out["level"] = school_level.astype(int)
    for c in iset.criteria:  # composite criteria with bands (1.3): subtotal of the children and its band
        if c.kind != "composite" or not c.bands:
            continue
        kids = {k.code for k in iset.criteria if k.parent == c.code}
        part = points[points["criterion_code"].isin(kids)]
        sub = part.groupby(keys)["points"].sum(min_count=0).reset_index(name="sub")
        subtotal = (
            out[keys].merge(sub, on=keys, how="left")["sub"].astype("float64").fillna(0.0).map(round_half_up)
        )
        slug = c.code.replace(".", "_")
        out[f"criterion_{slug}_points"] = subtotal
        out[f"criterion_{slug}_band"] = subtotal.map(lambda v, code=c.code: band_of(iset, code, v))
    return out


def band_of(iset: IndicatorSet, code: str, subtotal: float) -> str | None:
    """The band label of a composite criterion's subtotal (e.g. 1.3)."""
    c = iset.by_code().get(code)
    if not c or not c.bands:
        return None
    return next((b.label for b in c.bands if b.contains(subtotal)), None)
