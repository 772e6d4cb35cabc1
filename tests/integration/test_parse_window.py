"""The parse window of `connectors.filedrop.pool.ParsedFiles`: each batch of files is parsed by exactly one
worker, at most `workers` at once, ahead of the storing. A batch started twice left its second worker blocked
on a result nobody read, holding a slot until the run ended, so the rest of the inbox was parsed one batch
at a time (on province-mountain one core of two stayed idle through ingest)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox, pool
from connectors.workers import Worker
from tests.corpus import harness

pytestmark = pytest.mark.integration


class CountedWorker(Worker):
    """The real worker, with every launch and the batch it was given written down."""

    launched: ClassVar[list[tuple[str, ...]]] = []
    alive: ClassVar[set[int]] = set()
    most_alive: ClassVar[int] = 0

    def __init__(self, fn: Any, arg: Any, limits: Any) -> None:
        super().__init__(fn, arg, limits)
        CountedWorker.launched.append(tuple(job.rel for job in arg))
        CountedWorker.alive.add(id(self))
        CountedWorker.most_alive = max(CountedWorker.most_alive, len(CountedWorker.alive))

    def result(self) -> Any:
        try:
            return super().result()
        finally:
            CountedWorker.alive.discard(id(self))

    def cancel(self) -> None:
        CountedWorker.alive.discard(id(self))
        super().cancel()


def test_each_batch_is_parsed_once_and_two_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(harness.SAMPLE / harness.YEAR, inbox / harness.YEAR)
    monkeypatch.setattr(pool, "PARSE_BATCH_FILES", 2)  # many small batches: the window moves many times
    monkeypatch.setattr(pool, "Worker", CountedWorker)
    CountedWorker.launched, CountedWorker.alive, CountedWorker.most_alive = [], set(), 0
    con = raw_store.connect(":memory:")
    summary = ingest_inbox(con, inbox, harness.YEAR, hash_key="k", workers=2)
    batches = CountedWorker.launched
    assert len(batches) >= 6, batches  # enough batches for the window to have moved
    twice = sorted({b for b in batches if batches.count(b) > 1})
    assert not twice, f"batches parsed more than once: {twice}"
    assert CountedWorker.most_alive <= 2
    assert not CountedWorker.alive  # every worker's result was read (none left blocked on its pipe)
    parsed = sorted(f for b in batches for f in b)
    loaded = con.execute(
        "SELECT count(*) FROM ingest_manifest WHERE status IN ('loaded', 'partly_loaded')"
    ).fetchone()
    assert loaded and loaded[0] > 0 and summary.changed
    assert len(parsed) == len(set(parsed))
