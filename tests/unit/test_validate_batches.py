"""Unit tests of how the validate stage splits the new files of an entity into batches of whole files."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from quality.validate import file_batches, rowid_ranges

pytestmark = pytest.mark.unit


def _files(*sizes: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"source_file": [f"f{i}.xlsx" for i in range(len(sizes))], "file_sha256": "x", "n_rows": list(sizes)}
    )


def _split(sizes: tuple[int, ...], limit: int) -> list[list[int]]:
    return [b["n_rows"].tolist() for b in file_batches(_files(*sizes), limit)]


def test_no_files_no_batch() -> None:
    assert file_batches(_files(), 10) == []


def test_files_fill_batches_up_to_the_limit() -> None:
    assert _split((4, 6, 1, 9, 3), 10) == [[4, 6], [1, 9], [3]]


def test_a_file_larger_than_the_limit_is_a_batch_of_its_own() -> None:
    assert _split((3, 25, 2), 10) == [[3], [25], [2]]


def test_every_file_is_in_exactly_one_batch() -> None:
    sizes = (7, 1, 1, 12, 5, 5, 5, 0, 9)
    batches = file_batches(_files(*sizes), 10)
    names = [n for b in batches for n in b["source_file"]]
    assert names == [f"f{i}.xlsx" for i in range(len(sizes))]
    assert all(b["n_rows"].sum() <= 10 or len(b) == 1 for b in batches)


def test_rowid_ranges_cover_every_file_merge_neighbours_and_stay_few() -> None:
    first, last = np.array([50, 0, 10, 11, 300]), np.array([59, 9, 10, 20, 310])
    assert rowid_ranges(first, last) == [(0, 20), (50, 59), (300, 310)]
    rng = np.random.default_rng(7)
    starts = np.sort(rng.choice(1_000_000, 500, replace=False)) * 10
    ends = starts + rng.integers(0, 9, 500)
    ranges = rowid_ranges(starts, ends, max_ranges=32)
    assert len(ranges) == 32
    assert all(any(a <= s and e <= b for a, b in ranges) for s, e in zip(starts, ends, strict=True))
    assert ranges == sorted(ranges) and all(b < a2 for (_, b), (a2, _) in itertools.pairwise(ranges))
    assert rowid_ranges(np.array([], dtype=int), np.array([], dtype=int)) == []


def test_a_batch_whose_rowids_moved_is_read_by_file_name() -> None:
    """Ranges that no longer cover the files' rows (rowids changed after a checkpoint) fall back to
    reading the batch by file name: same quarantine and dq_validated_files rows."""
    import datetime as dt

    import duckdb

    from connectors import raw_store
    from quality.validate import _validate_batch

    def run(todo_extra: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
        con = duckdb.connect(":memory:")
        raw_store.ensure_schema(con)
        con.execute(
            "CREATE TABLE dq_validated_files (entity VARCHAR, source_file VARCHAR, file_sha256 VARCHAR, "
            "rows_checked BIGINT, rows_failed BIGINT, validated_at TIMESTAMP)"
        )
        n = 6
        raw_store.insert_rows(
            con,
            "health_record",
            pd.DataFrame(
                {
                    "school_code": ["08000001"] * n,
                    "school_year": ["2024-2025"] * n,
                    "source_system": ["x"] * n,
                    "layout_id": ["t.v1"] * n,
                    "source_file": ["a.xlsx"] * 3 + ["b.xlsx"] * 3,
                    "source_sheet": ["S"] * n,
                    "source_row": list(range(2, 2 + n)),
                    "file_sha256": ["s"] * n,
                    "ingested_at": [dt.datetime(2025, 1, 1)] * n,
                    "student_key": ["0800000001"] * n,
                    "moet_id": ["0800000001"] * n,
                    "measured_at": [dt.date(2024, 10, 1)] * n,
                    "height_cm": [140.0, 400.0, 140.0, 140.0, 140.0, 999.0],
                    "weight_kg": [35.0] * n,
                }
            ),
        )
        todo = pd.DataFrame(
            {"source_file": ["a.xlsx", "b.xlsx"], "file_sha256": ["s", "s"], "n_rows": [3, 3], **todo_extra}
        )
        cols = [r[0] for r in con.execute("SELECT * FROM raw_health_record LIMIT 0").description]
        failed = _validate_batch(
            con, "health_record", "raw_health_record", cols, todo, dt.datetime(2025, 1, 2)
        )
        assert failed == 2
        q = con.execute("SELECT * EXCLUDE (recorded_at) FROM dq_quarantine_rows ORDER BY ALL").df()
        v = con.execute("SELECT * EXCLUDE (validated_at) FROM dq_validated_files ORDER BY ALL").df()
        return q, v

    by_name = run({})
    by_range = run({"first_rowid": [0, 3], "last_rowid": [2, 5]})
    moved = run({"first_rowid": [0, 3], "last_rowid": [1, 4]})  # the ranges miss a row of each file
    for other in (by_range, moved):
        pd.testing.assert_frame_equal(other[0], by_name[0])
        pd.testing.assert_frame_equal(other[1], by_name[1])
