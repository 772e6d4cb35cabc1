"""Against the generator's sample inbox: every planted bad row (sample_exports/inbox/_truth/bad_rows.csv)
is quarantined (at ingest or by the validate stage) with the planted reason, and no other row is; and
validating in small batches of files gives exactly what one batch gives. Marked slow: it ingests the
whole sample inbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from quality.validate import validate_new_files

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
TRUTH = INBOX / "_truth" / "bad_rows.csv"


VALIDATE_ROWS = (
    "SELECT * EXCLUDE (recorded_at) FROM dq_quarantine_rows WHERE stage = 'validate'",
    "SELECT * EXCLUDE (validated_at) FROM dq_validated_files",
)
SMALL_BATCH = 5_000  # the sample's grade books hold ~130k marks a year: many batches


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TRUTH.is_file():
        pytest.skip("the generator's sample inbox is not there")
    path = tmp_path_factory.mktemp("wh") / "wh.duckdb"
    con = raw_store.connect(path)
    ingest_inbox(con, INBOX, None, hash_key="test-key")
    validate_new_files(con, None, chunk_rows=SMALL_BATCH)
    con.close()
    return path


def _validate_afresh(con: duckdb.DuckDBPyConnection, chunk_rows: int) -> list[pd.DataFrame]:
    con.execute("DELETE FROM dq_quarantine_rows WHERE stage = 'validate'")
    con.execute("DELETE FROM dq_validated_files")
    validate_new_files(con, None, chunk_rows=chunk_rows)
    return [con.execute(sql).df() for sql in VALIDATE_ROWS]


def test_small_batches_validate_like_one_batch(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(warehouse, copy)
    con = raw_store.connect(copy)
    try:
        # marks out of range in about one grade book row in 400, spread over many files
        con.execute(
            "UPDATE raw_grade_entry SET value_num = 12.5 "
            "WHERE value_num IS NOT NULL AND hash(source_file, source_row, slot) % 400 = 0"
        )
        batched = _validate_afresh(con, SMALL_BATCH)
        whole = _validate_afresh(con, 10**9)
    finally:
        con.close()
    quarantined, validated = batched
    assert quarantined["source_file"].nunique() > 20, "the planted marks should span many files"
    assert len(validated) > 0
    for got, want in zip(batched, whole, strict=True):
        key = list(want.columns)
        pd.testing.assert_frame_equal(
            got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True)
        )


@pytest.fixture(scope="module")
def quarantine(warehouse: Path) -> pd.DataFrame:
    con = raw_store.connect(warehouse)
    q = con.execute(
        # a CSV has no sheets: the connector, like the truth, gives its rows a blank sheet
        "SELECT DISTINCT source_file AS file, coalesce(source_sheet, '') AS sheet, source_row AS row, "
        "reason_code, stage, check_name FROM dq_quarantine_rows WHERE source_row IS NOT NULL"
    ).df()
    con.close()
    return q


def _truth() -> pd.DataFrame:
    t = pd.read_csv(TRUTH, dtype=str, keep_default_na=False)
    t["row"] = t["row"].astype(int)
    return t


def test_every_planted_bad_row_is_quarantined_with_its_reason(quarantine: pd.DataFrame) -> None:
    truth = _truth()
    got = quarantine.merge(truth, on=["file", "sheet", "row"], how="right", suffixes=("", "_truth"))
    missed = got[got["reason_code"].isna()]
    assert missed.empty, f"planted rows not quarantined:\n{missed.to_string()}"
    hit = got.groupby(["file", "sheet", "row"]).apply(
        lambda g: (g["reason_code"] == g["reason_code_truth"]).any(), include_groups=False
    )
    wrong = got.set_index(["file", "sheet", "row"]).loc[hit[~hit].index]
    assert wrong.empty, f"planted rows quarantined for another reason:\n{wrong.to_string()}"


def test_no_good_row_is_quarantined(quarantine: pd.DataFrame) -> None:
    truth = _truth()[["file", "sheet", "row"]].assign(planted=True)
    extra = quarantine.merge(truth, on=["file", "sheet", "row"], how="left")
    extra = extra[extra["planted"].isna()]
    assert extra.empty, f"good rows quarantined:\n{extra.head(30).to_string()}"
