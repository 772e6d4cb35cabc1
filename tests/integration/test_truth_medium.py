"""The whole pipeline on the generator's medium preset (province-mountain scaled to 60 schools, seed 7,
both school years, messiness 1), compared with the generator's truth: every school × criterion value,
status and point, the computed-side group totals and levels, and the planted findings.

Marked slow (generating and ingesting ~3,400 files takes minutes of CPU):
`pytest -m slow tests/integration/test_truth_medium.py -s` prints the counts compared.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sample_exports.generator.province import generate
from sample_exports.medium import MEDIUM, register_medium
from tests.integration.truth_compare import compare_findings, compare_levels, compare_values, run_years

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 7
YEARS = ("2023-2024", "2024-2025")
MESSINESS = 1.0


@pytest.fixture(scope="module")
def medium_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(truth dir, warehouse, out dir) of one run of both years on a freshly generated medium inbox."""
    root = tmp_path_factory.mktemp("medium")
    register_medium()
    generate(MEDIUM, SEED, list(YEARS), root / "inbox", MESSINESS)
    warehouse, out = run_years(root / "inbox", root / "run", YEARS)
    return root / "inbox" / "_truth", warehouse, out


def test_medium_indicator_values_match_truth(medium_run: tuple[Path, Path, Path]) -> None:
    truth, _, out = medium_run
    res = compare_values(truth, out, YEARS)
    print("\n" + res.details())
    assert res.schools == 60 and res.years == len(YEARS)
    assert not res.unmatched, res.details()
    assert not res.mismatches, res.details()


def test_medium_levels_match_truth(medium_run: tuple[Path, Path, Path]) -> None:
    truth, warehouse, _ = medium_run
    compared, bad = compare_levels(truth, warehouse)
    print(f"\ncompared {compared} school × year levels; {len(bad)} differ")
    assert compared == 60 * len(YEARS)
    assert bad.empty, bad.to_string()


def test_medium_findings_match_truth(medium_run: tuple[Path, Path, Path]) -> None:
    truth, warehouse, _ = medium_run
    planted, missing, extra = compare_findings(truth, warehouse)
    print(f"\ncompared {planted} planted findings; {len(missing)} missing, {len(extra)} extra")
    assert not missing and not extra, (
        f"missing (planted, not found): {missing}\nextra (found, not planted): {extra}"
    )
