"""Hostile inputs (tests/corpus/make_corpus.py) dropped into a small good inbox: each ends in its
expected outcome with a Vietnamese reason, in bounded time and memory, the whole run finishes, and
the good files' raw rows are identical to a run without the hostile inputs.

Two child processes with an address-space limit run at once (`harness.hostile_run`): an ingest of the
good inbox alone (baseline) and the whole pipeline on the good inbox plus every corpus input; the
per-input tests read the results. test_privacy.py scans the same run's outputs and logs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from connectors.inbox import file_key
from connectors.messages import reason_text
from tests.corpus import harness
from tests.corpus.make_corpus import ABSENT, YEAR, Case, build_non_utf8_name, case_list

pytestmark = pytest.mark.integration

CASES = case_list()
PER_INPUT_SECONDS = 20.0
MAX_CHILD_RSS_BYTES = 2 * 1024**3
MAX_TREE_RSS_BYTES = 4 * 1024**3  # the README's bound for the run and its parse workers together


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> harness.CorpusRun:
    return harness.hostile_run(tmp_path_factory)


def test_corpus_has_at_least_40_inputs() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


def test_the_run_finishes_in_bounded_time_and_memory(corpus_run: harness.CorpusRun) -> None:
    assert [c.name for c in corpus_run.cases] == [c.name for c in CASES]
    assert corpus_run.max_rss_bytes < MAX_CHILD_RSS_BYTES
    assert 0 < corpus_run.tree_peak_bytes < MAX_TREE_RSS_BYTES, corpus_run.tree_peak_bytes
    assert corpus_run.run_ok, "the pipeline run with the hostile inputs must succeed"
    expected = {file_key(c.rel) for c in corpus_run.cases if ABSENT not in c.expect} | {
        f"{YEAR}/{f}" for f in harness.GOOD_FILES
    }
    assert expected <= set(corpus_run.manifest), "every hostile input has a manifest row"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_outcome(corpus_run: harness.CorpusRun, case: Case) -> None:
    key = file_key(case.rel)  # the name as the manifest knows it (escaped where it prints ambiguously)
    row = corpus_run.manifest.get(key)
    outcome = (
        ABSENT if row is None else (row["reason_code"] if row["status"] == "quarantined" else row["status"])
    )
    assert outcome in case.expect, f"{case.name}: got {outcome!r}, expected one of {sorted(case.expect)}"
    if row is None:
        return
    assert corpus_run.seconds.get(key, 0.0) <= PER_INPUT_SECONDS, f"{case.name} took too long"
    assert case.row_reasons <= corpus_run.rejects.get(key, set())
    if row["status"] == "quarantined":
        reason = row["reason"]
        assert reason.startswith(reason_text(row["reason_code"])), reason  # the Vietnamese sentence
        assert str(corpus_run.root) not in reason, "reasons never name machine paths"
        assert row["rows_kept"] == 0
    else:
        assert row["rows_kept"] > 0


RAW_EXCLUDE = ("ingested_at",)


def _raw_dump(db: Path, files: list[str]) -> dict[str, str]:
    """Every raw table's rows (and rejects, warnings, manifest) of `files`, as sorted CSV text."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'raw_%' "
                "OR table_name IN ('dq_quarantine_rows', 'ingest_warnings', 'ingest_manifest') ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for t in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [t],
                ).fetchall()
                if c not in (*RAW_EXCLUDE, "recorded_at", "run_id")
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            frame = con.execute(
                f"SELECT {select} FROM {t} WHERE source_file IN (SELECT unnest(?)) ORDER BY ALL", [files]
            ).df()
            out[t] = frame.to_csv(index=False)
        return out
    finally:
        con.close()


def test_good_files_raw_rows_are_unchanged(corpus_run: harness.CorpusRun) -> None:
    good = [f"{YEAR}/{f}" for f in harness.GOOD_FILES]
    baseline = _raw_dump(corpus_run.baseline_db, good)
    hostile = _raw_dump(corpus_run.hostile_db, good)
    assert baseline.keys() == hostile.keys()
    assert sum(t.count("\n") for t in baseline.values()) > 300  # the good files did load
    for table in baseline:
        assert hostile[table] == baseline[table], f"{table}: good files' rows changed"


def test_non_utf8_file_name_is_quarantined(tmp_path: Path) -> None:
    from connectors import raw_store
    from connectors.filedrop import ingest_inbox

    inbox = harness.good_inbox(tmp_path / "inbox", ("province/DanhSachTruong.xlsx",))
    case = build_non_utf8_name(inbox)
    con = raw_store.connect(tmp_path / "wh.duckdb")
    try:
        ingest_inbox(con, inbox, YEAR, hash_key=harness.TEST_HASH_KEY)
        rows = con.execute(
            "SELECT reason_code FROM ingest_manifest WHERE source_file LIKE '%08000003%'"
        ).fetchall()
    finally:
        con.close()
    assert [r[0] for r in rows] == sorted(case.expect)
