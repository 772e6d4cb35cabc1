"""The generator's committed sample inbox: every planted bad row of `_truth/bad_rows.csv` lands in
quarantine_rows (file, sheet, row, reason), and nothing else is rejected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # whole sample inbox: minutes at current speed
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"


@pytest.mark.skipif(not (INBOX / "_truth" / "bad_rows.csv").exists(), reason="sample inbox not generated")
def test_planted_bad_rows_are_quarantined() -> None:
    con = raw_store.connect(":memory:")
    s = ingest_inbox(con, INBOX, hash_key="test")
    assert s.quarantined == 0
    truth = pd.read_csv(INBOX / "_truth" / "bad_rows.csv", dtype=str)
    got = con.execute("SELECT source_file, source_sheet, CAST(source_row AS VARCHAR), reason_code "
                      "FROM quarantine_rows").fetchall()  # fmt: skip
    want = set(map(tuple, truth[["file", "sheet", "row", "reason_code"]].to_numpy().tolist()))
    assert want <= set(got)
    assert set(got) - want == set()
    man = raw_store.manifest(con)
    assert (man["rows_kept"] + man["rows_rejected"] == man["rows_read"]).all()
