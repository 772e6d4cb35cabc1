"""The whole pipeline on the committed sample inbox (the generator's small preset, messiness 1), compared
value by value with the generator's truth (`sample_exports/inbox/_truth/indicator_values.csv`).

Marked slow (the run takes minutes): `pytest -m slow tests/integration/test_truth_comparison.py -s`.
Both school years of the inbox are compared; it prints every mismatch and fails on any. The medium
preset has the same test in `test_truth_medium.py`; the comparison itself is `truth_compare.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.truth_compare import compare_values, run_years

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
INBOX = REPO / "sample_exports" / "inbox"
TRUTH = INBOX / "_truth"
YEARS = ("2023-2024", "2024-2025")


@pytest.mark.skipif(
    not (TRUTH / "indicator_values.csv").exists(), reason="no generator truth in the sample inbox"
)
def test_indicator_values_match_truth(tmp_path: Path) -> None:
    _, out = run_years(INBOX, tmp_path, YEARS)
    res = compare_values(TRUTH, out, YEARS)
    print("\n" + res.details())
    assert res.cells > 0
    assert not res.unmatched and not res.mismatches, res.details()
