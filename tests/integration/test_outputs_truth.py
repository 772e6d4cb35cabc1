"""The generator's sample inbox end to end: the findings equal the planted set of
`_truth/findings.csv` and the computed-side levels equal `_truth/school_levels.csv`. On a mismatch the
message lists the differing rows, grouped by criterion, to point at the upstream stage to look at."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.integration.truth_compare import compare_findings, compare_levels, run_years, truth_years

pytestmark = pytest.mark.integration
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
TRUTH = INBOX / "_truth"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wh, _ = run_years(INBOX, tmp_path_factory.mktemp("truth"), truth_years(TRUTH))
    return wh


@pytest.mark.slow  # whole sample inbox through every stage, both years
@pytest.mark.skipif(not (TRUTH / "findings.csv").exists(), reason="sample inbox not generated")
def test_findings_equal_planted(warehouse: Path) -> None:
    _, missing, extra = compare_findings(TRUTH, warehouse)
    assert not missing and not extra, (
        f"missing (planted, not found): {missing}\nextra (found, not planted): {extra}"
    )


@pytest.mark.slow
@pytest.mark.skipif(not (TRUTH / "school_levels.csv").exists(), reason="sample inbox not generated")
def test_levels_equal_truth(warehouse: Path) -> None:
    compared, bad = compare_levels(TRUTH, warehouse)
    assert compared > 0
    assert bad.empty, bad.to_string()


@pytest.mark.skipif(not (TRUTH / "indicator_values.csv").exists(), reason="sample inbox not generated")
def test_reconcile_reproduces_truth_from_truth_values(tmp_path: Path) -> None:
    """The reconciliation alone, independent of the SQL models: the truth's own data-criterion values
    plus the ingested self-assessment files give exactly the planted findings and the true levels."""
    import shutil

    from connectors import raw_store
    from connectors.filedrop import ingest_inbox
    from indicator_sets import reconcile as rc
    from indicator_sets.model import load_indicator_set
    from pipelines.settings import REPO_ROOT

    for f in INBOX.glob("*/province/*"):
        if f.name.startswith(("TuDanhGia", "DanhSachTruong")):
            dst = tmp_path / f.relative_to(INBOX)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, dst)
    con = raw_store.connect(":memory:")
    ingest_inbox(con, tmp_path, hash_key="test")
    selfs = con.execute("SELECT * EXCLUDE (note) FROM raw_self_assessment").df()
    iset = load_indicator_set(REPO_ROOT / "indicator_sets" / "qd4725_2022.yaml")
    iv = pd.read_csv(TRUTH / "indicator_values.csv", dtype={"school_code": str, "criterion_code": str})
    scored = iv[iv["status"] != "self_declared"].assign(source_files=lambda d: [[] for _ in range(len(d))])
    from pipelines.assets.reconcile import no_evidence_layouts

    # the wide layout has no evidence column: its declarations stand (docs/indicators.md)
    final = rc.final_values(scored, rc.self_points(selfs, iset, no_evidence_layouts()), iset)
    found = rc.reconcile_findings(final, iset)
    want = pd.read_csv(TRUTH / "findings.csv", dtype=str, keep_default_na=False)
    w = set(map(tuple, want[["school_code", "school_year", "criterion_code", "finding"]].to_numpy().tolist()))
    g = set(
        map(tuple, found[["school_code", "school_year", "criterion_code", "finding"]].to_numpy().tolist())
    )
    assert w == g, f"missing: {sorted(w - g)}\nextra: {sorted(g - w)}"
    truth = pd.read_csv(TRUTH / "school_levels.csv", dtype={"school_code": str})
    m = truth.merge(
        rc.computed_scores(final, iset), on=["school_code", "school_year"], suffixes=("_truth", "")
    )
    assert len(m) == len(truth)
    assert (m["level"] == m["level_truth"]).all()
    assert ((m["group_dh_points"] - m["group_dh_points_truth"]).abs() <= 0.011).all()
    assert ((m["group_qt_points"] - m["group_qt_points_truth"]).abs() <= 0.011).all()


@pytest.mark.slow
def test_every_model_keeps_its_grain_on_the_sample(warehouse: Path) -> None:
    """Issue 23: the uniqueness audit generated from each model's `-- grain:` key list, on both sample
    years (the fixture cases check the same on their small inputs)."""
    from warehouse.connection import connect
    from warehouse.sql_models import discover

    con = connect(warehouse, None, None, read_only=True)
    try:
        broken = {
            m.name: rows
            for m in discover().values()
            if (rows := con.execute(m.duplicate_keys_sql()).fetchall())
        }
    finally:
        con.close()
    assert not broken, f"rows sharing a grain key: {broken}"
