"""Guard the Dagster graph: assets by stage, the job, schedule and sensors (STOPPED where they start
runs), partitions, asset checks attached to known assets, and the run-level warehouse lock."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest

from connectors.entities import load_entities
from pipelines.definitions import YEAR_JOB, build_definitions
from pipelines.lock_resource import LockedWarehouseResource
from pipelines.partitions import school_years
from pipelines.schedules import NIGHTLY_SCHEDULE
from pipelines.sensors import INBOX_SENSOR, SUMMARY_SENSOR
from pipelines.settings import get_settings
from warehouse.sql_models import discover

pytestmark = pytest.mark.unit

STAGES = {"ingest", "validate", "models", "scoring", "reconcile", "exports"}


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    tmp = tmp_path_factory.mktemp("defs")
    settings = get_settings(inbox=tmp / "inbox", warehouse=tmp / "wh.duckdb", out=tmp / "out")
    return build_definitions(settings)


def _groups(defs: dg.Definitions) -> dict[str, set[str]]:
    graph = defs.resolve_asset_graph()
    out: dict[str, set[str]] = defaultdict(set)
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            out[node.group_name].add(key.to_user_string())
    return out


def test_every_materialisable_asset_belongs_to_a_stage(defs: dg.Definitions) -> None:
    assert set(_groups(defs)) <= STAGES


def test_no_asset_node_outside_a_stage(defs: dg.Definitions) -> None:
    """Tables the SQL reads must be produced by a stage, not appear as external assets in `default`."""
    graph = defs.resolve_asset_graph()
    stray = [k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name not in STAGES]
    assert not stray


def test_expected_assets_per_stage(defs: dg.Definitions) -> None:
    groups = _groups(defs)
    assert {e.table for e in load_entities().values()} <= groups["ingest"]
    assert "dq_quarantine_rows" in groups["validate"]
    assert set(discover()) <= groups["models"]
    assert {"score_indicators__scored", "score_schools__scored"} <= groups["scoring"]
    assert "thi_dua_workbook" in groups["exports"]


def test_job_covers_every_asset_in_process_with_the_locked_warehouse(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def(YEAR_JOB)
    assert job.executor_def.name == "in_process"
    assert job.tags.get("cds/warehouse") == "exclusive"
    assert isinstance(defs.resources["warehouse"], LockedWarehouseResource)  # type: ignore[index]
    graph = defs.resolve_asset_graph()
    materialisable = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert materialisable <= set(job.asset_layer.executable_asset_keys)


def test_partitions_are_school_years(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def(YEAR_JOB)
    keys = job.partitions_def.get_partition_keys()  # type: ignore[union-attr]
    assert keys == school_years()
    assert keys[0] == "2022-2023"
    assert get_settings().school_year in keys


def test_schedule_and_inbox_sensor_exist_and_are_stopped(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def(NIGHTLY_SCHEDULE)
    assert schedule.job_name == YEAR_JOB
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    sensor = defs.resolve_sensor_def(INBOX_SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == YEAR_JOB
    # The summary sensor starts no run; it only writes the summary, so it may run by default.
    assert defs.resolve_sensor_def(SUMMARY_SENSOR).default_status == dg.DefaultSensorStatus.RUNNING


def test_asset_checks_are_attached_to_known_assets(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    assets = set(graph.get_all_asset_keys())
    for check_key in graph.asset_check_keys:
        assert check_key.asset_key in assets, check_key


def test_definitions_resolve_settings_when_loaded_not_at_import(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pipelines import definitions

    monkeypatch.setenv("CDS_INBOX", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("CDS_SENSOR_DEBOUNCE_SECONDS", "42")
    loaded = definitions.defs()
    assert loaded.resources["warehouse"] is not None  # type: ignore[index]
    assert "42 giây" in (loaded.resolve_sensor_def(INBOX_SENSOR).description or "")


#: Libraries a code-location load must not import: each costs a fraction of a second to seconds, paid by
#: every run's new process before the run's clock starts (the queue's slot is taken meanwhile) and by every
#: `dagster dev` / daemon load. The assets that use them import them when they run.
NOT_AT_LOAD = ("great_expectations", "pyiceberg", "sqlalchemy", "pandera")


@pytest.mark.parametrize("provinces", [[], ["01", "02"]], ids=["one-province", "multi-province"])
def test_loading_the_definitions_does_not_import_heavy_libraries(
    tmp_path: Path, provinces: list[str]
) -> None:
    """Import and build the definitions in a fresh interpreter (as a run's process does) and list which
    of `NOT_AT_LOAD` ended up in `sys.modules`."""
    import subprocess
    import sys

    code = (
        "import sys; from pipelines.definitions import build_definitions; from pipelines.settings import "
        f"get_settings; build_definitions(get_settings(inbox={str(tmp_path)!r}, provinces={provinces!r})); "
        f"print(','.join(m for m in {NOT_AT_LOAD!r} if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_ui_default_asset_job_runs_like_the_school_year_job(defs: dg.Definitions) -> None:
    """The UI's "Materialize all" launches Dagster's implicit asset job: same executor, tags and assets
    (the full launch through GraphQL is tests/integration/test_ui_launch.py)."""
    from pipelines.definitions import RUN_TAGS, UI_ASSET_JOB

    ui = defs.resolve_implicit_global_asset_job_def()
    school_year = defs.resolve_job_def(YEAR_JOB)
    assert ui.name == UI_ASSET_JOB
    assert ui.executor_def.name == "in_process" and ui.tags == school_year.tags == RUN_TAGS
    assert set(ui.asset_layer.executable_asset_keys) == set(school_year.asset_layer.executable_asset_keys)
