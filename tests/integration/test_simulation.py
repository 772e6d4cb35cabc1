"""The simulation of the country (issue 22), small: three generated provinces run by Dagster itself —
`dagster-daemon` with the run queue (2 runs at a time, one per province), the inbox sensor starting one
run per (province, year), each run in its own process — publishing to a lakehouse whose catalog is a
real PostgreSQL server started on 127.0.0.1 for the test.

Checked: every run succeeds; runs of different provinces overlap in time and runs of the same province
never do; each province's published tables and output files equal a one-province `cds run` of the same
inbox; the national marts read through the catalog equal the same SQL over the union of the provinces'
own tables; a run killed (SIGKILL) in the middle of its publication leaves the province's lake
partition at its previous version.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from lakehouse.catalog import TABLES, LakeSettings, load_table, open_catalog
from lakehouse.national import national_marts
from lakehouse.publish import read_published
from pipelines import simulate as sim
from pipelines.definitions import YEAR_JOB
from pipelines.runner import make_console, run_pipeline
from pipelines.sensors import INBOX_SENSOR
from pipelines.settings import get_settings
from tests.pg_server import postgres_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OLD, YEAR = "2023-2024", "2024-2025"
OUT_FILES = ["findings", "indicator_values", "school_scores", "season_status"]
ARRIVED = ["first_arrived", "last_arrived"]


@pytest.fixture(scope="module")
def pg_uri() -> Iterator[str]:
    with postgres_server() as uri:
        yield uri


def _engine_pid(home: Path, run_id: str) -> int | None:
    """The pid of the process executing a run's steps (from its engine event)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        for rec in instance.all_logs(run_id):
            m = re.search(r"Executing steps in process \(pid: (\d+)\)", rec.message or "")
            if m:
                return int(m.group(1))
    return None


def _province_rows(catalog: object, name: str, province: str) -> pd.DataFrame:
    frame = read_published(catalog, name, YEAR).to_pandas()  # type: ignore[arg-type]
    return sim.sorted_frame_df(frame[frame["province_code"] == province])


def test_three_provinces_through_the_run_queue(tmp_path: Path, pg_uri: str) -> None:
    codes = sim.province_codes(3)
    first = codes[0]
    settings = get_settings(
        inbox=tmp_path / "inbox",
        warehouse=tmp_path / "data" / "warehouse.duckdb",
        out=tmp_path / "out",
        lake=tmp_path / "lake",
        lake_catalog_uri=pg_uri,
        lake_warehouse_uri=(tmp_path / "files").as_uri(),
        provinces=codes,
        sensor_debounce_seconds=0,
        sensor_interval_seconds=5,
        ingest_settle_seconds=0,
    )
    # the first province has two school years (two runs that must not overlap), the others one
    sim.generate_provinces(settings.inbox, [first], [OLD, YEAR])
    sim.generate_provinces(settings.inbox, codes[1:], [YEAR])
    home = tmp_path / "dagster"
    sim.write_instance(home, max_concurrent_runs=2)
    env = sim.deployment_env(settings, home, CDS_LAKE_WAREHOUSE_URI=settings.lake_warehouse_uri)
    lake = LakeSettings(catalog_uri=pg_uri, warehouse=settings.lake_warehouse_uri)

    sim.start_sensor(env, INBOX_SENSOR)
    with sim.daemon(env, home / "daemon.log"):
        runs = sim.wait_for_runs(home, YEAR_JOB, len(codes) + 1, timeout=1800)
        result = sim.Simulation(runs=runs, wall_seconds=max(r.end for r in runs) - min(r.start for r in runs))
        print("\n".join(sim.report_lines(result)))
        assert [r.status for r in runs] == ["SUCCESS"] * len(runs), (home / "daemon.log").read_text()[-3000:]
        assert sorted((r.province, r.school_year) for r in runs) == sorted(
            [(first, OLD), *((c, YEAR) for c in codes)]
        )
        assert result.overlapping(same_province=False), (
            "runs of different provinces never ran at the same time"
        )
        assert not result.overlapping(same_province=True), "two runs of one province ran at the same time"
        # each province wrote only its own warehouse file and output folder
        for code in codes:
            assert (tmp_path / "data" / f"warehouse_{code}.duckdb").is_file()
            assert (tmp_path / "out" / code / f"findings_{YEAR}.csv").is_file()
        assert not (tmp_path / "data" / "warehouse.duckdb").exists()

        # the national marts through the catalog = the same SQL over the union of the provinces' tables
        catalog = open_catalog(lake)
        own = {c: sim.province_tables(settings.for_province(c), c, YEAR) for c in codes}
        via_lake = national_marts(catalog, YEAR)
        union = sim.national_from_union(list(own.values()))
        assert set(via_lake) == set(union) and via_lake
        for name in union:
            pd.testing.assert_frame_equal(
                sim.sorted_frame_df(via_lake[name]), sim.sorted_frame_df(union[name])
            )
            assert set(codes) <= set(via_lake[name]["province_code"]), name  # (and "ALL" where a mart has it)

        # kill a run of the last province in the middle of its publication: its partition keeps the
        # previous version (the publications log is the last commit; readers follow it)
        victim = codes[-1]
        before = {name: _province_rows(catalog, name, victim) for name in TABLES}
        assert len(before["school_scores"]), "nothing published before the kill"
        shutil.rmtree(
            settings.inbox / victim / YEAR / f"{victim}000005"
        )  # changes what the new run publishes
        first_table = next(iter(TABLES))
        snap0 = load_table(catalog, "cds", first_table).current_snapshot()
        since = time.time()
        deadline = time.monotonic() + 900
        killed_run, pid = None, None
        while time.monotonic() < deadline and killed_run is None:
            new = [r for r in sim.read_runs(home, YEAR_JOB) if r.province == victim and r.start >= since]
            if new and pid is None:
                pid = _engine_pid(home, new[0].run_id)
            if pid is not None:
                snap = load_table(open_catalog(lake), "cds", first_table).current_snapshot()
                if snap is not None and (snap0 is None or snap.snapshot_id != snap0.snapshot_id):
                    os.kill(pid, signal.SIGKILL)  # one table committed, the publication not logged yet
                    killed_run = new[0].run_id
                    break
            time.sleep(0.02 if pid is not None else 0.5)
        assert killed_run is not None, "the new run never reached its publication"

    catalog = open_catalog(lake)
    current = load_table(catalog, "cds", first_table).scan().to_arrow().to_pandas()
    current = current[current["province_code"] == victim]
    # the killed run did commit its first table (it was killed mid-publish: the table's current state
    # is already the new one, without the removed school's files) …
    assert len(current) and not sim.sorted_frame_df(current).equals(before[first_table])
    # … and readers still see the previous version of the partition, table by table
    for name in TABLES:
        pd.testing.assert_frame_equal(_province_rows(catalog, name, victim), before[name], obj=name)

    # one province's outputs = a one-province `cds run` of the same inbox (its own warehouse, lake, out)
    one = get_settings(
        inbox=settings.inbox / first,
        warehouse=tmp_path / "single" / "wh.duckdb",
        out=tmp_path / "single" / "out",
        lake=tmp_path / "single" / "lake",
        province_code=first,
        ingest_settle_seconds=0,
    )
    for school_year in (OLD, YEAR):
        assert run_pipeline(one.model_copy(update={"school_year": school_year}), make_console(), force=True)
    single = sim.province_tables(one, first, YEAR)
    multi = sim.province_tables(settings.for_province(first), first, YEAR)
    for name in TABLES:
        assert single[name].num_rows > 0 or name == "findings", name
        pd.testing.assert_frame_equal(sim.sorted_frame(multi[name]), sim.sorted_frame(single[name]), obj=name)
    for stem in OUT_FILES:
        # when each file was ingested differs between the two runs (the season table shows it)
        a = pd.read_csv(tmp_path / "out" / first / f"{stem}_{YEAR}.csv", dtype=str).drop(
            columns=ARRIVED, errors="ignore"
        )
        b = pd.read_csv(one.out / f"{stem}_{YEAR}.csv", dtype=str).drop(columns=ARRIVED, errors="ignore")
        pd.testing.assert_frame_equal(sim.sorted_frame_df(a), sim.sorted_frame_df(b), obj=stem)
