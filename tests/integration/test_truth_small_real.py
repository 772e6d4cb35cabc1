"""The small truth tests with real structures in them (issue 19): the `small` preset generated with its
default share of schools sending real vendor exports (0.5: schools 08000001, 08000002, 08000004 and
08000005 at seed 7 send the vnEdu summary books R1/R2, the MISA class books R6, the CSDL lists R4/R7,
the class-split admissions R9, and the province staff list R8), both years, messiness 1, through the
whole pipeline, compared with its truth: every school × criterion value, the levels and the planted
findings. (The committed sample inbox is the same province at share 0: tests/integration/
test_outputs_truth.py.) Marked slow: it generates and runs both years."""

from __future__ import annotations

from pathlib import Path

import pytest

from sample_exports.generator import real_province as RE
from sample_exports.generator.presets import PRESETS
from sample_exports.generator.province import generate
from sample_exports.generator.real_common import read_expected
from tests.integration.truth_compare import compare_findings, compare_levels, compare_values, run_years

pytestmark = [pytest.mark.integration, pytest.mark.slow]
YEARS = ("2023-2024", "2024-2025")


@pytest.fixture(scope="module")
def small_real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(truth dir, warehouse, out dir) of one run of both years on `small` with its default real share."""
    root = tmp_path_factory.mktemp("small_real")
    assert PRESETS["small"].real_share > 0
    generate("small", 7, list(YEARS), root / "inbox", 1.0)
    structures = {read_expected(e).structure for e in (root / "inbox" / RE.EXPECTED_DIR).rglob("*.json")}
    assert {"R1", "R2", "R6", "R7", "R8"} <= structures, structures
    warehouse, out = run_years(root / "inbox", root / "run", YEARS)
    return root / "inbox" / "_truth", warehouse, out


def test_small_real_indicator_values_match_truth(small_real: tuple[Path, Path, Path]) -> None:
    truth, _, out = small_real
    res = compare_values(truth, out, YEARS)
    assert res.schools == 5 and res.years == len(YEARS)
    assert not res.unmatched, res.details()
    assert not res.mismatches, res.details()


def test_small_real_levels_match_truth(small_real: tuple[Path, Path, Path]) -> None:
    truth, warehouse, _ = small_real
    compared, bad = compare_levels(truth, warehouse)
    assert compared == 5 * len(YEARS)
    assert bad.empty, bad.to_string()


def test_small_real_findings_match_truth(small_real: tuple[Path, Path, Path]) -> None:
    truth, warehouse, _ = small_real
    _planted, missing, extra = compare_findings(truth, warehouse)
    assert not missing and not extra, (
        f"missing (planted, not found): {missing}\nextra (found, not planted): {extra}"
    )
