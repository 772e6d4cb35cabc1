"""Values shared by the steps of one run: computed once per run id, never carried into another run, and
only between steps that run after the inputs (the audit checks run after every table their SQL reads)."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines import run_memo
from pipelines.assets.checks import build_audit_checks
from pipelines.partitions import school_year_partitions
from quality.audits import load_audits

pytestmark = pytest.mark.unit


def test_once_per_run_and_nothing_kept_outside_a_run() -> None:
    run_memo.forget()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert run_memo.once("run-a", "k", compute) == 1
    assert run_memo.once("run-a", "k", compute) == 1  # second step of the run: stored value
    assert run_memo.once("run-a", "other", compute) == 2
    assert run_memo.once("run-b", "k", compute) == 3  # a new run forgets the previous run's values
    assert run_memo.once("run-a", "k", compute) == 4
    assert run_memo.once(None, "k", compute) == 5  # outside a run: computed every time
    assert run_memo.once(None, "k", compute) == 6
    run_memo.forget()


def test_audit_checks_run_after_every_table_their_sql_reads() -> None:
    """The duplicate-student audit reads dq_quarantine_rows (validate), so its check, whose result the
    data-quality report reuses, must not run before validate."""
    audits = load_audits()
    assets = {a.asset for a in audits.values()} | {"dq_quarantine_rows", "raw_class", "raw_school"}
    checks = build_audit_checks(school_year_partitions(), assets)
    deps = {
        spec.name: {d.asset_key.to_user_string() for d in spec.additional_deps}
        for c in checks
        for spec in c.check_specs
    }
    assert "dq_quarantine_rows" in deps["audit_student__duplicate_in_school_year"]
    for name, audit in audits.items():
        assert deps[name] == {t for t in audit.model.reads if t in assets and t != audit.asset}


def test_the_job_orders_the_duplicate_audit_after_validate(tmp_path) -> None:
    from pipelines.definitions import YEAR_JOB, build_definitions
    from pipelines.settings import get_settings

    defs = build_definitions(
        get_settings(inbox=tmp_path / "in", warehouse=tmp_path / "w.duckdb", out=tmp_path)
    )
    graph = defs.resolve_asset_graph()
    key = dg.AssetCheckKey(dg.AssetKey("raw_student"), "audit_student__duplicate_in_school_year")
    assert dg.AssetKey("dq_quarantine_rows") in {
        d.asset_key for d in graph.get_check_spec(key).additional_deps
    }
    assert defs.resolve_job_def(YEAR_JOB) is not None
