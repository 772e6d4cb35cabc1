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


def points_for(c: Criterion, numerator: float | None, value: float | None, status: str) -> float | None:
    """Points of one computed criterion value (None when nothing was computed)."""
    if c.rule is None or status != "ok":
        return None
    r = c.rule
    if r.type == "mandatory":
        return None
    if r.type == "presence":
        n = numerator if numerator is not None and not pd.isna(numerator) else value
        raw = c.max_points if n is not None and not pd.isna(n) and n >= r.min_count else 0.0
    elif r.type in ("ratio", "composite"):
        if value is None or pd.isna(value):
            return None
        raw = c.max_points * min(1.0, float(value) / r.target) if r.target > 0 else 0.0
    else:  # document: points come from the self-assessment, not from data
        return None
    return min(round_half_up(raw) or 0.0, c.max_points)


def score_values(values: pd.DataFrame, iset: IndicatorSet) -> pd.DataFrame:
    """Add `points`, `max_points`, `group_code` to mart rows (one per school × criterion × year)."""
    crit = iset.by_code()
    out = values.copy()
    pts = []
    for code, num, val, status in zip(
        out["criterion_code"], out["numerator"], out["value"], out["status"], strict=True
    ):
        c = crit.get(code)
        pts.append(points_for(c, num, val, status) if c else None)
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
    for g in iset.groups:
        in_group = points["criterion_code"].map(lambda k, g=g: k in crit and crit[k].group == g.code)
        part = points[in_group]
        totals = part.groupby(keys)["points"].sum(min_count=0).reset_index(name="total")
        merged = out[keys].merge(totals, on=keys, how="left")
        total = merged["total"].astype("float64").fillna(0.0).map(round_half_up)
        level = total.map(iset.level_of)
        mand = part[part["criterion_code"].map(lambda k: crit[k].mandatory)]
        if cap is not None and not mand.empty:
            unmet = mand[mand["value"].astype("float64").fillna(0) < 1].groupby(keys).size().reset_index(name="n")
            flag = out[keys].merge(unmet, on=keys, how="left")["n"].fillna(0) > 0
            level = level.where(~flag, np.minimum(level, cap))
            out[f"group_{g.code.lower()}_mandatory_met"] = ~flag
        out[f"group_{g.code.lower()}_points"] = total
        out[f"group_{g.code.lower()}_level"] = level.astype(int)
        school_level = np.minimum(school_level, level)
    out["level"] = school_level.astype(int)
    return out


def band_of(iset: IndicatorSet, code: str, subtotal: float) -> str | None:
    """The band label of a composite criterion's subtotal (e.g. 1.3)."""
    c = iset.by_code().get(code)
    if not c or not c.bands:
        return None
    return next((b.label for b in c.bands if b.contains(subtotal)), None)
