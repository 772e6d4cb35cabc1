"""A multi-province deployment (issue 22): province × school-year partitions, each province's own
warehouse file, lock, inbox and output folder resolved per run, the sensor and the schedule starting one
run per province, and the one-province deployment left as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import RUN_TAGS, YEAR_JOB, build_definitions
from pipelines.partitions import PROVINCE_TAG, partition_key, province_of_tags, split_key
from pipelines.resources import resolve_province
from pipelines.schedules import build_nightly_schedule
from pipelines.sensors import build_inbox_sensor
from pipelines.settings import Settings, get_settings

pytestmark = pytest.mark.unit
YEAR = "2024-2025"
ICT = dt.timezone(dt.timedelta(hours=7))


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return get_settings(
        inbox=tmp_path / "inbox", warehouse=tmp_path / "data" / "wh.duckdb", out=tmp_path / "out", **kw
    )


def test_partition_keys_split_into_province_and_year() -> None:
    key = partition_key("08", YEAR)
    assert isinstance(key, dg.MultiPartitionKey) and str(key) == f"08|{YEAR}"
    assert split_key(key) == ("08", YEAR) and split_key(f"14|{YEAR}") == ("14", YEAR)
    assert partition_key(None, YEAR) == YEAR and split_key(YEAR) == (None, YEAR)
    assert province_of_tags({PROVINCE_TAG: "14", "dagster/partition": f"14|{YEAR}"}) == "14"
    assert province_of_tags({"dagster/partition": YEAR}) is None and province_of_tags({}) is None


def test_a_province_view_has_its_own_files_and_the_shared_lake(tmp_path: Path) -> None:
    s = _settings(tmp_path, provinces=["14", "08"])
    assert s.provinces == ["08", "14"]
    v = s.for_province("14")
    assert (v.inbox, v.out, v.province_code, v.provinces) == (s.inbox / "14", s.out / "14", "14", [])
    assert v.warehouse == tmp_path / "data" / "wh_14.duckdb"
    assert v.lake == tmp_path / "data" / "lake"  # one lakehouse for every province
    for bad in (["8"], ["08", "08"], ["HN"]):
        with pytest.raises(ValueError):
            _settings(tmp_path, provinces=bad)
    with pytest.raises(ValueError):
        s.for_province("../x")


def test_templates_need_the_run_province() -> None:
    assert resolve_province("/d/wh_{province}.duckdb", "08") == "/d/wh_08.duckdb"
    assert resolve_province("/d/wh.duckdb", None) == "/d/wh.duckdb"
    with pytest.raises(ValueError):
        resolve_province("/d/wh_{province}.duckdb", None)


def test_multi_province_definitions(tmp_path: Path) -> None:
    defs = build_definitions(_settings(tmp_path, provinces=["08", "14"]))
    job = defs.resolve_job_def(YEAR_JOB)
    parts = job.partitions_def
    assert isinstance(parts, dg.MultiPartitionsDefinition)
    dims = {d.name: d.partitions_def.get_partition_keys() for d in parts.partitions_defs}
    assert dims["province"] == ["08", "14"] and YEAR in dims["school_year"]
    assert "cds/warehouse" not in job.tags  # the queue limits runs per province, not one at a time
    graph = defs.resolve_asset_graph()
    assert all(
        isinstance(graph.get(k).partitions_def, dg.MultiPartitionsDefinition)
        for k in graph.get_all_asset_keys()
    )
    wh = defs.resources["warehouse"]
    assert wh.path.endswith("wh_{province}.duckdb")  # type: ignore[union-attr]
    sensors = {s.name for s in defs.sensors or []}
    assert {"cds_inbox_sensor", "cds_season_deadline_sensor"} <= sensors


def test_one_province_deployment_is_unchanged(tmp_path: Path) -> None:
    defs = build_definitions(_settings(tmp_path))
    job = defs.resolve_job_def(YEAR_JOB)
    assert isinstance(job.partitions_def, dg.StaticPartitionsDefinition)
    assert dict(job.tags) == RUN_TAGS
    assert defs.resources["warehouse"].path == str(tmp_path / "data" / "wh.duckdb")  # type: ignore[union-attr]


def _drop(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a,b\n1,2\n", encoding="utf-8")


def test_the_sensor_starts_one_run_per_changed_province_year(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for rel in (
        "08/2023-2024/08000001/a.csv",
        f"08/{YEAR}/08000001/a.csv",
        f"14/{YEAR}/province/b.csv",
        f"99/{YEAR}/99000001/c.csv",
    ):
        _drop(inbox / rel)
    clock = [1000.0]
    sensor = build_inbox_sensor(
        inbox, YEAR_JOB, ["2023-2024", YEAR], 0, clock=lambda: clock[0], provinces=["08", "14"]
    )
    first = sensor(dg.build_sensor_context(cursor=None))
    assert isinstance(first, dg.SensorResult)
    keys = sorted(str(r.partition_key) for r in first.run_requests or [])
    assert keys == ["08|2023-2024", f"08|{YEAR}", f"14|{YEAR}"]  # province 99 is not a partition
    assert all(isinstance(r.partition_key, dg.MultiPartitionKey) for r in first.run_requests or [])
    # one province's year changes: one run, for it alone
    _drop(inbox / f"14/{YEAR}/14000002/d.csv")
    clock[0] += 10
    second = sensor(dg.build_sensor_context(cursor=first.cursor))
    assert isinstance(second, dg.SensorResult)
    assert [str(r.partition_key) for r in second.run_requests or []] == [f"14|{YEAR}"]


def test_the_schedule_requests_every_province() -> None:
    schedule = build_nightly_schedule(YEAR_JOB, ["2025-2026"], ["08", "14"])
    result = schedule(
        dg.build_schedule_context(scheduled_execution_time=dt.datetime(2025, 9, 1, 1, tzinfo=ICT))
    )
    assert isinstance(result, list)
    assert sorted(str(r.partition_key) for r in result) == ["08|2025-2026", "14|2025-2026"]


def test_cds_run_refuses_a_bad_province_code(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipelines.cli import main

    result = CliRunner().invoke(
        main,
        [
            "run",
            "--inbox",
            str(tmp_path / "inbox"),
            "--warehouse",
            str(tmp_path / "wh.duckdb"),
            "--province",
            "8",
        ],
    )
    assert result.exit_code == 2 and "Mã tỉnh không hợp lệ" in result.output
    assert not (tmp_path / "wh.duckdb").exists() and not (tmp_path / "wh_8.duckdb").exists()


def test_province_hanoi_preset_is_the_size_of_hanoi() -> None:
    from sample_exports.generator.presets import PRESETS, build_schools

    schools = build_schools(PRESETS["province-hanoi"], 7)
    assert len(schools) == 2800 and {s.province_code for s in schools} == {"01"}
    assert 2_100_000 <= sum(s.pupils for s in schools) <= 2_300_000
