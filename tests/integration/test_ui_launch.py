"""The UI's obvious button: "Materialize all" → a partition launches Dagster's default asset job
(`__ASSET_JOB`) through GraphQL, exactly as `dagster dev`'s web UI does. The run must behave like
`cds_school_year_job`: the in-process executor (one DuckDB writer; no subprocess per step), the
`cds/warehouse` tag (so the run queue's one-run-at-a-time limit holds) and the run summary written by
the run-status sensor.

Real parts: the repo's `workspace.yaml` loaded by a code server, a temporary Dagster instance whose run
launcher starts the run in its own process, and a hand-made inbox of three room lists.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import RUN_TAGS, UI_ASSET_JOB
from pipelines.sensors import SUMMARY_SENSOR
from tests.integration.test_slice import EXPECTED_POINTS, ROOMS, YEAR, points_from_workbook, write_rooms

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a code server and a run process (~85 s)

REPO = Path(__file__).resolve().parents[2]
#: Launch at once (a test instance queues runs for a daemon that is not running here).
LAUNCH_NOW = {
    "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"}
}


def test_materialize_all_for_a_partition_runs_like_the_school_year_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_graphql.test.utils import define_out_of_process_context, materialize_assets

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    for school, rooms in ROOMS.items():
        write_rooms(inbox / YEAR / school / "phong_hoc.xlsx", school, rooms)
    # the code server and the run process read their settings from the environment, as under `dagster dev`
    monkeypatch.setenv("CDS_INBOX", str(inbox))
    monkeypatch.setenv("CDS_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("CDS_OUT", str(out))
    monkeypatch.chdir(REPO)
    (tmp_path / "dagster_home").mkdir()
    with (
        dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home"), overrides=LAUNCH_NOW) as instance,
        define_out_of_process_context(str(REPO / "workspace.yaml"), None, instance) as context,
    ):
        location = context.code_locations[0]
        repo = next(iter(location.get_repositories().values()))
        keys = [node.asset_key for node in repo.get_asset_node_snaps() if node.is_materializable]
        result = materialize_assets(context, keys, partition_keys=[YEAR])
        launched = result[0].data["launchPipelineExecution"]  # type: ignore[index]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        from dagster._core.test_utils import poll_for_finished_run

        run = poll_for_finished_run(instance, run_id, timeout=300)
        assert run.job_name == UI_ASSET_JOB
        assert run.status == dg.DagsterRunStatus.SUCCESS, [
            e.message for e in instance.all_logs(run_id) if e.is_dagster_event and e.dagster_event.is_failure
        ]
        # tagged like the school-year job: the queue limit on cds/warehouse applies to it
        for key, value in RUN_TAGS.items():
            assert run.tags.get(key) == value
        assert run.tags.get("dagster/partition") == YEAR
        # in-process executor: the engine says so, and every step ran in the run's own process
        engine = [
            e.message
            for e in instance.all_logs(run_id)
            if e.is_dagster_event and e.dagster_event.event_type == dg.DagsterEventType.ENGINE_EVENT
        ]
        assert any("in process" in (m or "").lower() for m in engine), engine
        assert not any("multiprocess" in (m or "").lower() for m in engine)
        starts = [e for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)]
        assert len(starts) > 20 and len({e.dagster_event.pid for e in starts}) == 1  # type: ignore[union-attr]
        assert points_from_workbook(out) == EXPECTED_POINTS

        # the run summary: the run-status sensor (RUNNING by default) watches this job too
        from pipelines.definitions import build_definitions
        from pipelines.settings import get_settings

        sensor = build_definitions(get_settings()).get_sensor_def(SUMMARY_SENSOR)
        success = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)[0]
        ctx = dg.build_run_status_sensor_context(
            sensor_name=SUMMARY_SENSOR,
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=success.dagster_event,  # type: ignore[arg-type]
        )
        sensor(ctx)  # type: ignore[operator]
    summary = json.loads((out / f"run_summary_{YEAR}.json").read_text(encoding="utf-8"))
    assert summary["run_id"] == run_id and summary["status"] == "success"
    assert summary["files"]["ingested"] == len(ROOMS)
    assert set(summary["stage_seconds"]) >= {"ingest", "validate", "models", "scoring", "reconcile"}
