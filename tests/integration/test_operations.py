"""Operations end to end: the warehouse lock across processes (CLI and Dagster runs), the run summary,
the no-change fast path of `cds run`, re-ingesting only a changed file, `cds config` masking secrets,
and `dagster definitions validate` on the workspace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from pipelines.lock import WarehouseBusyError, warehouse_lock
from pipelines.runner import run_pipeline
from pipelines.settings import REPO_ROOT, get_settings

pytestmark = pytest.mark.integration
YEAR = "2024-2025"
SAMPLE = REPO_ROOT / "sample_exports" / "inbox"
BIN = Path(sys.executable).parent
SMALL_INBOX = ["province/DanhSachTruong.xlsx", *(f"0800000{i}/DanhSachPhong.xlsx" for i in (1, 2, 3))]


def _hold_lock_in_child(warehouse: Path, seconds: float) -> subprocess.Popen[str]:
    code = textwrap.dedent(f"""
        import sys, time
        from pipelines.lock import warehouse_lock
        with warehouse_lock({str(warehouse)!r}, owner="test-holder"):
            print("held", flush=True)
            time.sleep({seconds})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_process_is_refused_then_waits_for_the_lock(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    holder = _hold_lock_in_child(warehouse, 2)
    try:
        with pytest.raises(WarehouseBusyError) as err, warehouse_lock(warehouse, wait_seconds=0):
            pass
        assert "đang được một lượt chạy khác sử dụng" in str(err.value)
        assert "in use by another run" in str(err.value)
        assert "test-holder" in str(err.value)
        t0 = time.monotonic()
        with warehouse_lock(warehouse, wait_seconds=30):
            assert time.monotonic() - t0 > 0.5  # it really waited for the holder to finish
    finally:
        holder.wait(timeout=30)


def test_cds_run_exits_with_a_bilingual_message_and_leaves_the_warehouse_alone(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    holder = _hold_lock_in_child(warehouse, 20)
    try:
        proc = subprocess.run(
            [
                str(BIN / "cds"),
                "run",
                "--inbox",
                str(SAMPLE),
                "--warehouse",
                str(warehouse),
                "--out",
                str(tmp_path / "out"),
                "--year",
                YEAR,
                "--wait",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO_ROOT,
        )
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Kho dữ liệu đang được" in proc.stdout and "warehouse is in use" in proc.stdout
    assert not warehouse.exists()


def test_dagster_run_takes_the_lock_too(tmp_path: Path) -> None:
    import dagster as dg

    from pipelines.definitions import YEAR_JOB, build_definitions

    warehouse = tmp_path / "wh.duckdb"
    settings = get_settings(inbox=SAMPLE, warehouse=warehouse, out=tmp_path / "out", school_year=YEAR)
    settings.run_lock_wait_seconds = 0
    job = build_definitions(settings).resolve_job_def(YEAR_JOB)
    holder = _hold_lock_in_child(warehouse, 20)
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            result = job.execute_in_process(partition_key=YEAR, instance=instance, raise_on_error=False)
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_failure)
    assert "warehouse is in use" in str(failure.event_specific_data)
    assert not warehouse.exists()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("ops")
    inbox = tmp / "inbox"
    for rel in SMALL_INBOX:  # a small slice of the sample keeps the test fast
        (inbox / YEAR / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SAMPLE / YEAR / rel, inbox / YEAR / rel)
    settings = get_settings(inbox=inbox, warehouse=tmp / "wh.duckdb", out=tmp / "out", school_year=YEAR)
    t0 = time.perf_counter()
    outcome = run_pipeline(settings, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    return {"settings": settings, "outcome": outcome, "seconds": time.perf_counter() - t0}


def _events(settings, run_id_since: str | None = None) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        last = con.execute("SELECT run_id FROM ingest_events ORDER BY event_at DESC LIMIT 1").fetchone()[0]
        return con.execute(
            "SELECT source_file, action FROM ingest_events WHERE run_id = ? ORDER BY source_file", [last]
        ).fetchall()
    finally:
        con.close()


def test_first_run_writes_the_summary(first_run: dict) -> None:
    outcome, settings = first_run["outcome"], first_run["settings"]
    assert outcome.ok, outcome.summary
    path = settings.out / f"run_summary_{YEAR}.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    assert summary["status"] == "success"
    n_files = len(list((settings.inbox / YEAR).rglob("*.*")))
    assert summary["files"]["seen"] == n_files
    assert summary["files"]["ingested"] + summary["files"]["quarantined"] == n_files
    assert summary["rows"]["kept_in_year"] > 0
    assert set(summary["findings_by_severity"]) >= {"high", "medium", "low"}
    assert sum(summary["schools_by_level"].values()) > 0
    assert {"ingest", "models", "scoring", "exports"} <= set(summary["stage_seconds"])
    assert summary["outputs"] and all(Path(p).exists() for p in summary["outputs"])


def test_second_run_without_changes_takes_the_fast_path(first_run: dict) -> None:
    settings = first_run["settings"]
    assert first_run["outcome"].ok
    outcome = run_pipeline(settings, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    assert outcome.ok and outcome.status == "no_changes"
    assert outcome.summary["files"]["skipped"] == outcome.summary["files"]["seen"] > 0
    assert outcome.summary["files_hashed"] == 0
    # touching a file (same content) costs one hash and still changes nothing
    target = next((settings.inbox / YEAR).glob("0*/*.xlsx"))
    os.utime(target)
    outcome = run_pipeline(settings, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    assert outcome.status == "no_changes" and outcome.summary["files_hashed"] == 1


@pytest.mark.slow  # a second full pipeline run (~10-30 s); run with -m slow
def test_changing_one_schools_file_reingests_only_that_file(first_run: dict) -> None:
    import openpyxl

    settings = first_run["settings"]
    assert first_run["outcome"].ok
    target = sorted((settings.inbox / YEAR).glob("0*/*.xlsx"))[0]
    wb = openpyxl.load_workbook(target)
    ws = wb.worksheets[0]
    ws.cell(row=1, column=1, value=f"{ws.cell(row=1, column=1).value or ''} (sửa lại)")
    wb.save(target)
    outcome = run_pipeline(settings, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    assert outcome.ok and outcome.status == "success"
    rel = target.relative_to(settings.inbox).as_posix()
    actions = dict(_events(settings))
    assert actions.pop(rel) == "replaced"
    assert set(actions.values()) == {"skipped"}
    assert outcome.summary["files"]["replaced"] == 1
    assert outcome.summary["changed_files"] == [rel]


def test_cds_config_masks_secrets(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CDS_HASH_KEY": "very-secret-hash",
        "CDS_API_KEY": "very-secret-api",
        "CDS_WAREHOUSE": str(tmp_path / "w.duckdb"),
    }
    proc = subprocess.run([str(BIN / "cds"), "config"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "very-secret" not in proc.stdout
    lines = {line.split()[0]: line.split(maxsplit=1)[1:] for line in proc.stdout.splitlines() if line.strip()}
    assert lines["CDS_HASH_KEY"] == ["********"] and lines["CDS_API_KEY"] == ["********"]
    assert lines["CDS_WAREHOUSE"] == [str(tmp_path / "w.duckdb")]
    assert lines["CDS_SENSOR_DEBOUNCE_SECONDS"] == ["300"]


def test_dagster_definitions_validate_passes(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    proc = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO_ROOT,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "All code locations passed validation" in proc.stdout + proc.stderr
