"""The inbox sensor is debounced: files arriving over time start one run once the inbox has been
quiet for the debounce period; the run key is the fingerprint, so the same state never runs twice."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from connectors.filedrop import iter_inbox
from pipelines import inbox_state
from pipelines.sensors import build_inbox_sensor, debounce

pytestmark = pytest.mark.unit
YEAR = "2024-2025"
KEYS = ["2023-2024", YEAR]


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _drop(inbox: Path, rel: str, text: str = "a,b\n1,2\n") -> None:
    p = inbox / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")


def _tick(sensor: dg.SensorDefinition, cursor: str | None) -> dg.SensorResult:
    result = sensor(dg.build_sensor_context(cursor=cursor))
    assert isinstance(result, dg.SensorResult)
    return result


def test_debounce_waits_for_a_quiet_inbox_then_fires_once() -> None:
    d = debounce({YEAR: "fp1"}, None, now=0, debounce_seconds=300)
    assert d.requests == [] and d.waiting == {YEAR: 300}
    d = debounce({YEAR: "fp2"}, d.cursor, now=200, debounce_seconds=300)  # still arriving: clock restarts
    assert d.requests == [] and d.waiting == {YEAR: 300}
    d = debounce({YEAR: "fp2"}, d.cursor, now=499, debounce_seconds=300)
    assert d.requests == []
    d = debounce({YEAR: "fp2"}, d.cursor, now=500, debounce_seconds=300)
    assert d.requests == [(YEAR, "fp2")]
    d = debounce({YEAR: "fp2"}, d.cursor, now=10_000, debounce_seconds=300)
    assert d.requests == [] and not d.waiting and "no new" in d.skip_reason()


def test_debounce_keeps_years_apart_and_survives_a_bad_cursor() -> None:
    d = debounce({"2023-2024": "a", YEAR: "b"}, "not json", now=0, debounce_seconds=0)
    assert sorted(d.requests) == [("2023-2024", "a"), (YEAR, "b")]
    d = debounce({"2023-2024": "a", YEAR: "c"}, d.cursor, now=1, debounce_seconds=0)
    assert d.requests == [(YEAR, "c")]


def test_thirty_files_uploaded_over_time_start_one_run(tmp_path: Path) -> None:
    inbox, clock = tmp_path / "inbox", Clock()
    sensor = build_inbox_sensor(inbox, "job", KEYS, debounce_seconds=300, clock=clock)
    cursor = None
    requests: list[dg.RunRequest] = []
    for i in range(30):  # one file every 20 s, a sensor tick after each
        _drop(inbox, f"{YEAR}/0800{i:04d}/DanhSachPhong.csv")
        clock.t += 20
        result = _tick(sensor, cursor)
        requests += result.run_requests or []
        cursor = result.cursor
    assert requests == []
    assert "waiting" in (result.skip_reason.skip_message or "")  # type: ignore[union-attr]
    for _ in range(10):  # quiet for 10 × 60 s
        clock.t += 60
        result = _tick(sensor, cursor)
        requests += result.run_requests or []
        cursor = result.cursor
    assert len(requests) == 1
    [req] = requests
    assert req.partition_key == YEAR
    fp = inbox_state.fingerprint(inbox_state.snapshot(inbox, YEAR))
    assert req.run_key == f"{YEAR}:{fp[:16]}"
    assert req.tags["cds/trigger"] == "inbox_sensor"


def test_a_changed_file_starts_a_new_run_with_a_new_run_key(tmp_path: Path) -> None:
    inbox, clock = tmp_path / "inbox", Clock()
    _drop(inbox, f"{YEAR}/08000001/DanhSachPhong.csv")
    sensor = build_inbox_sensor(inbox, "job", KEYS, debounce_seconds=60, clock=clock)
    first = _tick(sensor, None)
    clock.t += 61
    second = _tick(sensor, first.cursor)
    [run1] = second.run_requests or []
    path = inbox / YEAR / "08000001" / "DanhSachPhong.csv"
    path.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    clock.t += 5
    third = _tick(sensor, second.cursor)
    assert not third.run_requests
    clock.t += 61
    fourth = _tick(sensor, third.cursor)
    [run2] = fourth.run_requests or []
    assert run2.run_key != run1.run_key


def test_touch_changes_the_fingerprint_but_hidden_and_other_year_files_do_not(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    _drop(inbox, f"{YEAR}/08000001/DanhSachPhong.csv")
    before = inbox_state.fingerprint(inbox_state.snapshot(inbox, YEAR))
    _drop(inbox, f"{YEAR}/08000001/.~lock.DanhSachPhong.csv#")
    _drop(inbox, f"{YEAR}/_tmp/partial.csv")
    _drop(inbox, "2023-2024/08000001/DanhSachPhong.csv")
    assert inbox_state.fingerprint(inbox_state.snapshot(inbox, YEAR)) == before
    p = inbox / YEAR / "08000001" / "DanhSachPhong.csv"
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert inbox_state.fingerprint(inbox_state.snapshot(inbox, YEAR)) != before


def test_snapshot_sees_exactly_the_files_the_connector_reads(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for rel in [
        f"{YEAR}/province/DanhSachTruong.xlsx",
        f"{YEAR}/08000001/a.csv",
        f"{YEAR}/08000001/.hidden",
        f"{YEAR}/_staging/b.csv",
        "2023-2024/08000001/a.csv",
        "loose.csv",
        "misc/notes.txt",
    ]:
        _drop(inbox, rel)
    for school_year in (YEAR, None):
        expected = {p.relative_to(inbox).as_posix() for p in iter_inbox(inbox, school_year)}
        assert set(inbox_state.snapshot(inbox, school_year)) == expected


def test_sensor_ignores_year_folders_that_are_not_partitions(tmp_path: Path) -> None:
    inbox, clock = tmp_path / "inbox", Clock()
    _drop(inbox, "2019-2020/08000001/a.csv")
    sensor = build_inbox_sensor(inbox, "job", KEYS, debounce_seconds=0, clock=clock)
    assert not _tick(sensor, None).run_requests


def test_snapshot_treats_links_like_the_connector(tmp_path: Path) -> None:
    """Links to folders are listed by neither (not followed), a dangling link is seen with size -1, a link
    to a file is a file; a folder named like another year inside a school folder is not a year."""
    inbox = tmp_path / "inbox"
    for rel in [f"{YEAR}/08000001/a.csv", f"{YEAR}/08000001/2023-2024/b.csv", "2023-2024/08000002/c.csv"]:
        _drop(inbox, rel)
    (inbox / YEAR / "08000003").symlink_to(inbox / YEAR / "08000001", target_is_directory=True)
    (inbox / YEAR / "08000001" / "gone.csv").symlink_to(tmp_path / "missing.csv")
    (inbox / YEAR / "08000001" / "alias.csv").symlink_to(inbox / YEAR / "08000001" / "a.csv")
    for school_year in (YEAR, "2023-2024", None):
        expected = {p.relative_to(inbox).as_posix() for p in iter_inbox(inbox, school_year)}
        snap = inbox_state.snapshot(inbox, school_year)
        assert set(snap) == expected
    snap = inbox_state.snapshot(inbox, YEAR)
    assert snap[f"{YEAR}/08000001/gone.csv"] == (-1, -1)
    assert snap[f"{YEAR}/08000001/alias.csv"][0] == snap[f"{YEAR}/08000001/a.csv"][0]
    assert f"{YEAR}/08000001/2023-2024/b.csv" in snap
