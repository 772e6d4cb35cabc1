"""The generator's sample inbox end to end: the findings equal the planted set of
`_truth/findings.csv` and the computed-side levels equal `_truth/school_levels.csv`. On a mismatch the
message lists the differing rows, grouped by criterion, to point at the upstream stage to look at."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # whole sample inbox, both years
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
TRUTH = INBOX / "_truth"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("truth")
    years = sorted(pd.read_csv(TRUTH / "school_levels.csv", dtype=str)["school_year"].unique())
    for year in years:
        s = get_settings(inbox=INBOX, warehouse=tmp / "wh.duckdb", out=tmp / "out", school_year=year)
        assert run_pipeline(s, force=True)
    return tmp / "wh.duckdb"


def _df(wh: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.mark.skipif(not (TRUTH / "findings.csv").exists(), reason="sample inbox not generated")
def test_findings_equal_planted(warehouse: Path) -> None:
    want = pd.read_csv(TRUTH / "findings.csv", dtype=str, keep_default_na=False)
    got = _df(warehouse, "SELECT school_code, school_year, criterion_code, finding FROM findings")
    w = set(map(tuple, want[["school_code", "school_year", "criterion_code", "finding"]].to_numpy().tolist()))
    g = set(map(tuple, got.fillna("").to_numpy().tolist()))
    missing, extra = sorted(w - g), sorted(g - w)
    assert not missing and not extra, (
        f"missing (planted, not found): {missing}\nextra (found, not planted): {extra}"
    )


@pytest.mark.skipif(not (TRUTH / "school_levels.csv").exists(), reason="sample inbox not generated")
def test_levels_equal_truth(warehouse: Path) -> None:
    want = pd.read_csv(TRUTH / "school_levels.csv", dtype={"school_code": str})
    got = _df(warehouse, "SELECT school_code, school_year, group_dh_points, group_qt_points, level "
                         "FROM school_scores_final")  # fmt: skip
    m = want.merge(got, on=["school_code", "school_year"], how="left", suffixes=("_truth", ""))
    bad = m[(m["level"] != m["level_truth"]) | ((m["group_dh_points"] - m["group_dh_points_truth"]).abs() > 0.011)
            | ((m["group_qt_points"] - m["group_qt_points_truth"]).abs() > 0.011)]  # fmt: skip
    assert bad.empty, bad.to_string()
