"""The whole pipeline on the committed sample inbox, compared value by value with the generator's truth
(`sample_exports/inbox/_truth/indicator_values.csv`).

Marked slow (the run takes minutes): `pytest -m slow tests/integration/test_truth_comparison.py -s`.
Both school years of the inbox are compared; it prints every mismatch and fails on any.
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
YEARS = ("2023-2024", "2024-2025")
KEYS = ["school_code", "school_year", "criterion_code"]
COLUMNS = ["numerator", "denominator", "value", "points", "status"]
#: Every cell must agree, for every school × criterion × year of the sample inbox.
MAX_MISMATCHES = 0


def _same(a: str, b: str) -> bool:
    if a == "" or b == "":
        return a == b
    try:
        return abs(float(a) - float(b)) <= 1e-6
    except ValueError:
        return a == b


@pytest.mark.skipif(not TRUTH.exists(), reason="no generator truth in the sample inbox")
def test_indicator_values_match_truth(tmp_path: Path) -> None:
    truth_all = pd.read_csv(TRUTH, dtype=str, keep_default_na=False)
    compared, mismatches = 0, []
    for year in YEARS:
        settings = Settings(
            inbox=INBOX, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", school_year=year
        )
        assert run_pipeline(settings)
        truth = truth_all[truth_all.school_year == year]
        got = pd.read_csv(tmp_path / "out" / f"indicator_values_{year}.csv", dtype=str, keep_default_na=False)
        merged = truth.merge(got, on=KEYS, how="outer", suffixes=("_truth", "_got"), indicator=True)
        assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"][KEYS]
        for _, r in merged.iterrows():
            for col in COLUMNS:
                if r["status_truth"] == "self_declared" and col in ("value", "points"):
                    continue  # filled from the self-assessment by the reconciliation stage
                compared += 1
                if not _same(r[f"{col}_truth"], r[f"{col}_got"]):
                    mismatches.append((year, r.school_code, r.criterion_code, col, r[f"{col}_truth"],
                                       r[f"{col}_got"]))  # fmt: skip
    print(f"\ncompared {compared} cells over {len(YEARS)} school years; {len(mismatches)} mismatches")
    for m in mismatches:
        print("  ", m)
    assert len(mismatches) <= MAX_MISMATCHES
