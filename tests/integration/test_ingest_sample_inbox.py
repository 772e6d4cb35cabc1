"""The generator's committed sample inbox: every planted bad row of `_truth/bad_rows.csv` lands in
quarantine_rows (file, sheet, row, reason), and nothing else is rejected."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # whole sample inbox: minutes at current speed
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    if not (INBOX / "_truth" / "bad_rows.csv").exists():
        pytest.skip("sample inbox not generated")
    c = raw_store.connect(":memory:")
    ingest_inbox(c, INBOX, hash_key="test")
    return c


def test_planted_bad_rows_are_quarantined(con: duckdb.DuckDBPyConnection) -> None:
    man = raw_store.manifest(con)
    # the only files quarantined are header-only lists (a recognised layout, no data rows): `empty_file`
    quarantined = man[man["status"] == "quarantined"]
    assert (quarantined["reason_code"] == "empty_file").all(), quarantined[["source_file", "reason_code"]]
    assert quarantined["entities"].fillna("").ne("").all()
    truth = pd.read_csv(INBOX / "_truth" / "bad_rows.csv", dtype=str, keep_default_na=False)
    # a CSV has no sheets: the truth leaves its sheet blank, the connector names the grid after the file
    got = con.execute(
        "SELECT source_file, CASE WHEN lower(source_file) LIKE '%.csv' THEN '' ELSE source_sheet END, "
        "CAST(source_row AS VARCHAR), reason_code FROM quarantine_rows"
    ).fetchall()
    want = set(map(tuple, truth[["file", "sheet", "row", "reason_code"]].to_numpy().tolist()))
    assert want <= set(got)
    assert set(got) - want == set()


@pytest.mark.xfail(
    strict=True,
    reason="manifest rows_kept counts output rows after explode/melt (PhanCong, ThongKeLMS) and "
    "rows_read includes skipped subtotal rows (TuDanhGia_Doc): connectors/filedrop.py accounting",
)
def test_manifest_row_accounting(con: duckdb.DuckDBPyConnection) -> None:
    man = raw_store.manifest(con)
    assert (man["rows_kept"] + man["rows_rejected"] == man["rows_read"]).all()
