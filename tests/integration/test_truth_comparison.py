"""The whole pipeline on the committed sample inbox, compared value by value with the generator's truth
(`sample_exports/inbox/_truth/indicator_values.csv`).

Marked slow (the run takes minutes): `pytest -m slow tests/integration/test_truth_comparison.py -s`.
It prints every mismatch and fails when more cells disagree than the known connector gaps explain.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.runner import run_pipeline
from pipelines.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
INBOX = REPO / "sample_exports" / "inbox"
TRUTH = INBOX / "_truth" / "indicator_values.csv"
YEAR = "2024-2025"
KEYS = ["school_code", "school_year", "criterion_code"]
COLUMNS = ["numerator", "denominator", "value", "points", "status"]
#: Cells known to differ on 2024-2025 because of connector gaps or open questions (see the issue 6 report).
MAX_MISMATCHES = 20


def _same(a: str, b: str) -> bool:
    if a == "" or b == "":
        return a == b
    try:
        return abs(float(a) - float(b)) <= 1e-6
    except ValueError:
        return a == b


@pytest.mark.skipif(not TRUTH.exists(), reason="no generator truth in the sample inbox")
def test_indicator_values_match_truth(tmp_path: Path) -> None:
    settings = Settings(inbox=INBOX, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", school_year=YEAR)
    assert run_pipeline(settings)
    truth = pd.read_csv(TRUTH, dtype=str, keep_default_na=False)
    truth = truth[truth.school_year == YEAR]
    got = pd.read_csv(tmp_path / "out" / f"indicator_values_{YEAR}.csv", dtype=str, keep_default_na=False)
    merged = truth.merge(got, on=KEYS, how="outer", suffixes=("_truth", "_got"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"][KEYS]
    compared, mismatches = 0, []
    for _, r in merged.iterrows():
        for col in COLUMNS:
            if r["status_truth"] == "self_declared" and col in ("value", "points"):
                continue  # filled from the self-assessment by the reconciliation stage
            compared += 1
            if not _same(r[f"{col}_truth"], r[f"{col}_got"]):
                mismatches.append((r.school_code, r.criterion_code, col, r[f"{col}_truth"], r[f"{col}_got"]))
    print(f"\ncompared {compared} cells of {len(merged)} school × criterion rows; {len(mismatches)} mismatches")
    for m in mismatches:
        print("  ", m)
    assert len(mismatches) <= MAX_MISMATCHES
