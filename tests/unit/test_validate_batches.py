"""Unit tests of how the validate stage splits the new files of an entity into batches of whole files."""

from __future__ import annotations

import pandas as pd
import pytest

from quality.validate import file_batches

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
