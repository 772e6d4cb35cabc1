"""Numeric constants of the 4725 indicator set, as the generator's truth uses them.

These values MIRROR the shared domain notes docs/indicators.md §2 (criteria table, "Definitions the rules
use", "Computing, rounding, not-applicable" and "Reconciliation"). The pipeline reads its own indicator-set
YAML; this module exists only so that the generator can compute its truth from its own plan without
importing the pipeline. If docs/indicators.md changes, change this file and regenerate the sample inbox.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

#: Leaf criteria in the canonical order of docs/exports.md §3.19: code -> (group, max points or None, kind).
#: kind: "mandatory" (ĐKBB, document, no points), "document", "data".
CRITERIA: dict[str, tuple[str, int | None, str]] = {
    "1.1": ("DH", None, "mandatory"),
    "1.2": ("DH", None, "mandatory"),
    "1.3.1": ("DH", 6, "data"),
    "1.3.2": ("DH", 6, "data"),
    "1.3.3": ("DH", 6, "data"),
    "1.3.4": ("DH", 6, "data"),
    "1.3.5": ("DH", 6, "data"),
    "1.4": ("DH", 10, "data"),
    "1.5.1": ("DH", 15, "data"),
    "1.5.2": ("DH", 5, "data"),
    "1.6.1": ("DH", 7, "data"),
    "1.6.2": ("DH", 7, "data"),
    "1.6.3": ("DH", 6, "data"),
    "1.7.1": ("DH", 8, "data"),
    "1.7.2": ("DH", 7, "data"),
    "1.7.3": ("DH", 5, "document"),
    "2.1": ("QT", None, "mandatory"),
    "2.2": ("QT", None, "mandatory"),
    "2.3.1": ("QT", 6, "document"),
    "2.3.2": ("QT", 6, "data"),
    "2.3.3": ("QT", 10, "data"),
    "2.3.4": ("QT", 6, "data"),
    "2.3.5": ("QT", 10, "data"),
    "2.3.6": ("QT", 10, "data"),
    "2.3.7": ("QT", 6, "data"),
    "2.3.8": ("QT", 6, "data"),
    "2.4.1": ("QT", 8, "data"),
    "2.4.2": ("QT", 12, "data"),
    "2.4.3": ("QT", 10, "data"),
}
LEAF_CODES: tuple[str, ...] = tuple(CRITERIA)
GROUPS: tuple[str, ...] = ("DH", "QT")

#: Level thresholds: total < 50 -> Mức 1; 50..75 -> Mức 2; > 75 -> Mức 3.
LEVEL_2_MIN = Decimal(50)
LEVEL_3_ABOVE = Decimal(75)
#: Default policy: an unmet mandatory condition caps its group at Mức 1.
MANDATORY_CAP_LEVEL = 1

#: Reconciliation tolerance: max(1 point, 10 % of the criterion's max).
TOLERANCE_MIN_POINTS = Decimal(1)
TOLERANCE_SHARE = Decimal("0.10")

#: Rule parameters.
STUDENT_MODULE_TARGET = Fraction(95, 100)  # 2.3.2 / 2.3.4 divide by 0.95
ACTIVE_EVENTS_MIN = 5  # 1.6.2
SYNC_ENTITIES: tuple[str, ...] = ("student", "staff", "class", "result")  # 2.3.8
CASHLESS_CHANNELS: tuple[str, ...] = ("bank", "vietqr", "ewallet")  # 2.4.3
ENTRY_GRADES = (1, 6, 10)


def tolerance(max_points: int) -> Decimal:
    """Reconciliation tolerance of a criterion."""
    return max(TOLERANCE_MIN_POINTS, TOLERANCE_SHARE * Decimal(max_points))


def round_half_up(x: Fraction | Decimal | float | int, places: int) -> Decimal:
    """Round half-up with decimal arithmetic (6.65 -> 6.7)."""
    # Fractions: 28 significant digits, far beyond the 6 places we keep
    d = Decimal(x.numerator) / Decimal(x.denominator) if isinstance(x, Fraction) else Decimal(str(x))
    q = Decimal(1).scaleb(-places)
    return d.quantize(q, rounding=ROUND_HALF_UP)


def points_for(max_points: int, share: Fraction) -> Decimal:
    """Points = max × share, capped at max, rounded half-up to 2 decimals."""
    share = min(Fraction(1), max(Fraction(0), share))
    return min(Decimal(max_points), round_half_up(share * max_points, 2))


def level_of(total: Decimal, capped: bool) -> int:
    """Group level from its total; `capped` = an unmet mandatory condition in the group."""
    if total > LEVEL_3_ABOVE:
        level = 3
    elif total >= LEVEL_2_MIN:
        level = 2
    else:
        level = 1
    return min(level, MANDATORY_CAP_LEVEL) if capped else level


def fmt_decimal(d: Decimal | None) -> str:
    """Render a Decimal for the truth CSVs without exponent or trailing zeros ('' for None)."""
    if d is None:
        return ""
    s = format(d.normalize(), "f")
    return s
