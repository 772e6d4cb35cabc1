"""The Great Expectations suites run on an ephemeral context, write a self-contained report per school year
(out/data_docs/<year>/index.html: no CDN, no script, Vietnamese names), and catch
a missing source, a shrunk source (vs the previous run), a duplicated school × criterion, points above
the maximum and a level inconsistent with its total."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from connectors import raw_store
from quality.gx_suites import run_published_suite, run_raw_inputs_suite

pytestmark = pytest.mark.integration

Y = "2024-2025"
NOW = dt.datetime(2025, 3, 1, 12, 0)


def _facility(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_code": "08000001",
            "school_year": Y,
            "source_file": "f.xlsx",
            "source_sheet": "S",
            "source_row": range(n),
            "room_code": [f"P{i}" for i in range(n)],
            "ingested_at": NOW - dt.timedelta(days=1),
        }
    )


def test_raw_and_published_suites(tmp_path: Path) -> None:
    docs = tmp_path / "out" / "data_docs" / Y
    con = duckdb.connect(":memory:")
    raw_store.ensure_schema(con)
    raw_store.insert_rows(con, "facility", _facility(10))
    raw_store.insert_frame(
        con,
        "ingest_manifest",
        pd.DataFrame(
            [
                {
                    "source_file": "f.xlsx",
                    "delivery_year": Y,
                    "delivery_school": "08000001",
                    "status": "loaded",
                    "ingested_at": NOW - dt.timedelta(days=1),
                }
            ]
        ),
    )
    first = run_raw_inputs_suite(con, Y, docs, now=NOW)
    assert (docs / "index.html").is_file() and first.docs_index == docs / "index.html"
    failed = {(f["expectation"], f["kwargs"].get("column")) for f in first.failed}
    assert failed == {("expect_column_values_to_be_in_set", "delivered")}  # only rooms were delivered
    con.execute("DELETE FROM raw_facility WHERE source_row >= 3")  # the source shrinks to 30 %
    second = run_raw_inputs_suite(con, Y, docs, now=NOW)
    failed = {(f["expectation"], f["kwargs"].get("column")) for f in second.failed}
    assert ("expect_column_values_to_be_between", "ratio") in failed

    scored = pd.DataFrame(
        {
            "school_code": ["A", "A", "B", "B"],
            "criterion_code": ["1.4", "1.7.1", "1.4", "1.4"],
            "points": [2.0, 9.0, 1.0, 1.0],
            "max_points": [4.0, 8.0, 4.0, 4.0],
        }
    )
    scores = pd.DataFrame(
        {"school_code": ["A", "B"], "group_1_points": [60.0, 60.0], "group_1_level": [2, 3], "level": [2, 3]}
    )
    out = run_published_suite(scored, scores, docs, level_of=lambda p: 3 if p > 80 else 2 if p >= 50 else 1)
    assert not out.success
    failed = {f["expectation"] for f in out.failed}
    assert failed == {
        "expect_compound_columns_to_be_unique",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_values_to_be_in_set",
    }
    html = (docs / "index.html").read_text(encoding="utf-8")
    # both suites of the year on one offline page, in Vietnamese
    assert "Dữ liệu đầu vào" in html and "Kết quả công bố" in html
    assert "Điểm không vượt điểm tối đa" in html and "Không đạt" in html
    assert "http" not in html and "<script" not in html and "<link" not in html
    # another school year gets its own page; the first one stays
    other = run_published_suite(scored, scores, docs.parent / "2023-2024", school_year="2023-2024")
    assert other.docs_index == docs.parent / "2023-2024" / "index.html" and (docs / "index.html").is_file()
    years = (docs.parent / "index.html").read_text(encoding="utf-8")
    assert 'href="2023-2024/index.html"' in years and f'href="{Y}/index.html"' in years
