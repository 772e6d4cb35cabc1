"""Against the generator's sample inbox: every planted bad row (sample_exports/inbox/_truth/bad_rows.csv)
is quarantined (at ingest or by the validate stage) with the planted reason, and no other row is.
Marked slow: it ingests the whole sample inbox."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from quality.validate import validate_new_files

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
TRUTH = INBOX / "_truth" / "bad_rows.csv"


@pytest.fixture(scope="module")
def quarantine(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    if not TRUTH.is_file():
        pytest.skip("the generator's sample inbox is not there")
    con = raw_store.connect(tmp_path_factory.mktemp("wh") / "wh.duckdb")
    ingest_inbox(con, INBOX, None, hash_key="test-key")
    validate_new_files(con, None)
    q = con.execute(
        # a CSV has no sheets: the connector, like the truth, gives its rows a blank sheet
        "SELECT DISTINCT source_file AS file, coalesce(source_sheet, '') AS sheet, source_row AS row, "
        "reason_code, stage, check_name FROM quarantine_rows WHERE source_row IS NOT NULL"
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
