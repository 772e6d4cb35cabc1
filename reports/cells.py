"""Reading one DataFrame cell in the report writers: whether it is missing and its numeric value.

Cells come from `to_dict("records")`, `tolist()` or row iteration, so a missing value is None, a NaN
float or `pd.NA` depending on the column's dtype; these helpers treat the three alike.
"""

from __future__ import annotations

import math
from typing import SupportsFloat, SupportsIndex

import pandas as pd


def is_missing(v: object) -> bool:
    """True for None, a NaN float (numpy floats included) and `pd.NA`."""
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def as_float(v: object) -> float | None:
    """A numeric cell as a float, None when it is missing. Text is read as float() reads it; a value
    float() refuses raises TypeError, as float() does."""
    if is_missing(v):
        return None
    if isinstance(v, SupportsFloat | SupportsIndex | str):
        return float(v)
    raise TypeError(f"not a number: {v!r}")
