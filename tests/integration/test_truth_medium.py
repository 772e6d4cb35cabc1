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
#: Known differences whose fix belongs to the connectors, not to the SQL or the scoring: the school's
#: resource export `2023-2024/14000038/HocLieu.json` is `[]` (no resource), which the JSON detection
#: quarantines as `unrecognized_layout` with no entity, so 1.4 and 1.6.3 are `no_data` (and NO_DATA
#: findings are raised) where the truth has an empty list (0 of 96, 0 of 13) — an empty `HocLieu.xlsx`
#: is an empty list already. Strict: once the connector reads `[]` as an empty §3.9 B list, this test
#: fails until the entries are removed.
PENDING_CONNECTOR = {("2023-2024", "14000038", "1.4"), ("2023-2024", "14000038", "1.6.3")}


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
    differing = {(year, school, criterion) for year, school, criterion, *_ in res.mismatches}
    assert differing - PENDING_CONNECTOR == set(), res.details()
    assert differing == PENDING_CONNECTOR, (
        f"fixed, remove from PENDING_CONNECTOR: {PENDING_CONNECTOR - differing}"
    )
    # and the pending rows differ only by being no_data (no number at all) on the computed side
    assert all(got == ("no_data" if col == "status" else "") for *_, col, _, got in res.mismatches), (
        res.details()
    )


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
    pending = {(school, year, criterion, "NO_DATA") for year, school, criterion in PENDING_CONNECTOR}
    assert not missing and set(extra) == pending, (
        f"missing (planted, not found): {missing}\nextra (found, not planted): {sorted(set(extra) - pending)}"
        f"\nfixed, remove from PENDING_CONNECTOR: {sorted(pending - set(extra))}"
    )
