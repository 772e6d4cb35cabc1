"""Run the school-year job in-process (the same definitions `dagster dev` loads) and show progress:
one line per step as it starts and finishes, then the run summary (also written to
out/run_summary_<year>.json).

The whole run holds the warehouse lock (`pipelines.lock`). Before starting Dagster it compares the
inbox with the last successful run (`pipelines.inbox_state`): when nothing changed and the previous
outputs still exist it stops there ("không có thay đổi" / no changes) without importing Dagster.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from rich.console import Console

from pipelines import inbox_state
from pipelines.lock import warehouse_lock
from pipelines.run_summary import build_summary, summary_lines, summary_path, write_summary
from pipelines.settings import InsecureHashKeyError, Settings, check_hash_key
from warehouse.connection import connect

if TYPE_CHECKING:
    import dagster as dg

log = logging.getLogger(__name__)

_EVENTS = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "ASSET_MATERIALIZATION"}

#: settings that change the outputs of unchanged inputs: a change makes `cds run` run again
OUTPUT_SETTINGS = {
    "province_name",
    "province_code",
    "thi_dua_groups",
    "season_self_assessment",
    "season_external_review",
    "season_deadlines",
    "season_warn_days",
    "season_today",
}


def make_console() -> Console:
    """The console of `cds`: lines are never wrapped at the terminal width, so the output copied to a
    file or a CI log (where rich would assume 80 columns) keeps one line per message."""
    return Console(soft_wrap=True)


class _ProgressHandler(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__(logging.DEBUG)
        self.console = console
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            if record.levelno >= logging.WARNING:
                self.console.print(
                    f"  [yellow]![/yellow] {record.getMessage()}", markup=True, highlight=False
                )
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
            self.console.print(f"  [cyan]▶[/cyan] {step}", highlight=False)
        elif kind == "STEP_SUCCESS":
            dt_s = time.perf_counter() - self.started.get(step, time.perf_counter())
            self.console.print(
                f"  [green]✓[/green] {step} ({f'{dt_s:.1f}'.replace('.', ',')} giây)", highlight=False
            )
        elif kind == "STEP_FAILURE":
            self.console.print(f"  [red]✗[/red] {step}: {record.getMessage()[:500]}", highlight=False)


def _inbox_refusal(inbox: Path) -> str | None:
    """A Vietnamese message when the inbox folder exists but the run's account may not list it (None
    otherwise: a missing or empty inbox is an empty run)."""
    try:
        if inbox.is_dir():
            os.scandir(inbox).close()
    except PermissionError as exc:
        return (
            f"Không mở được thư mục nhận tệp {inbox}: tài khoản chạy pipeline không có quyền đọc thư mục "
            f"này ({exc.strerror}). Hãy cấp quyền đọc cho tài khoản đó (hoặc sửa CDS_INBOX) rồi chạy lại; "
            "kho dữ liệu chưa bị thay đổi."
        )
    return None


def progress_logger(console: Console) -> dg.LoggerDefinition:
    import dagster as dg

    @dg.logger(config_schema=None, description="Progress lines for the cds CLI")
    def _logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
        log = logging.Logger("cds_progress", level=logging.DEBUG)
        log.addHandler(_ProgressHandler(console))
        return log

    return _logger


@dataclass
class RunOutcome:
    """Result of `run_pipeline`; truthy when the run succeeded (or had nothing to do)."""

    ok: bool
    status: str  # success | failed | no_changes | refused
    summary: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok


def _previous_outputs_exist(settings: Settings) -> bool:
    """The files the last successful run wrote (listed in its summary) are all still there."""
    import json

    path = summary_path(settings.out, settings.school_year)
    try:
        prev = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    outputs = prev.get("outputs") or []
    return (
        prev.get("status") in ("success", "no_changes")
        and bool(outputs)
        and all(Path(p).exists() for p in outputs)
    )


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    return connect(settings.warehouse, settings.duckdb_threads, settings.duckdb_memory_limit)


def _execute(settings: Settings, console: Console) -> tuple[bool, str, dict[str, float], dict[str, str]]:
    """Execute the job in-process; returns (success, run id, seconds per step, group of each step)."""
    import dagster as dg

    from pipelines.definitions import YEAR_JOB, build_definitions
    from pipelines.sensors import step_groups, step_seconds_of

    defs = build_definitions(settings)
    group_of_step = step_groups(defs.assets or [], defs.asset_checks or [])
    job = defs.resolve_job_def(YEAR_JOB).with_logger_defs({"progress": progress_logger(console)})
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            partition_key=settings.school_year,
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"progress": {}}},
            tags={"cds/trigger": "cli"},
        )
        steps = step_seconds_of(instance, result.run_id)
    return result.success, result.run_id, steps, group_of_step


def _refusal(settings: Settings) -> str | None:
    """The message of a set-up error that refuses the run before the warehouse is touched (production
    mode with the default hash key, an invalid code mapping file, an inbox that cannot be listed)."""
    try:
        check_hash_key(settings.mode, settings.hash_key.get_secret_value())
    except InsecureHashKeyError as exc:
        log.error("refused: production mode with the default hash key")
        return str(exc)
    if settings.code_mapping is not None:  # a wrong join is worse than none: refuse before any stage
        from indicator_sets.code_mapping import CodeMappingError, load_code_mapping

        try:
            load_code_mapping(settings.code_mapping)
        except CodeMappingError as exc:
            log.error("refused: invalid code mapping file")
            return str(exc)
    refusal = _inbox_refusal(Path(settings.inbox))
    if refusal is not None:  # a set-up error, not a school's file
        log.error("refused: the inbox folder cannot be listed")
    return refusal


def _change_check(
    settings: Settings, snap: dict[str, inbox_state.FileStat], config_sha: str, force: bool
) -> inbox_state.ChangeCheck:
    """Whether the year must run: forced, no warehouse or previous outputs yet, or the inbox or the
    configuration changed since the last successful run."""
    check = inbox_state.ChangeCheck(files_seen=len(snap), reason="forced" if force else "")
    if force:
        return check
    if not Path(settings.warehouse).exists():
        check.reason = "no warehouse yet"
    elif not _previous_outputs_exist(settings):
        check.reason = "previous outputs missing"
    else:
        con = _connect(settings)
        try:
            check = inbox_state.check_changes(con, settings.inbox, settings.school_year, snap, config_sha)
        finally:
            con.close()
    return check


def _full_run(
    settings: Settings,
    console: Console,
    started: dt.datetime,
    snap: dict[str, inbox_state.FileStat],
    config_sha: str,
    check: inbox_state.ChangeCheck,
) -> tuple[bool, dict[str, Any], list[str], Path]:
    """Run the job for the year and write its summary: (success, summary, outputs, summary path)."""
    school_year = settings.school_year
    log.info("full run for %s: %s", school_year, check.reason)
    console.print(
        f"[bold]Chạy pipeline năm học {school_year}[/bold] — thư mục nhận: {settings.inbox}, "
        f"kho dữ liệu: {settings.warehouse}",
        highlight=False,
    )
    con = _connect(settings)
    try:
        inbox_state.invalidate_state(con, school_year)
    finally:
        con.close()
    ok, run_id, steps, group_of_step = _execute(settings, console)
    con = _connect(settings)
    try:
        if ok:
            inbox_state.record_state(con, school_year, snap, config_sha)
        summary = build_summary(
            con,
            school_year=school_year,
            status="success" if ok else "failed",
            started_at=started,
            finished_at=dt.datetime.now(),
            trigger="cli",
            run_id=run_id,
            files_seen=len(snap),
            step_seconds=steps,
            group_of_step=group_of_step,
            changed_files=check.changed,
        )
    finally:
        con.close()
    outputs = sorted(
        str(p) for p in settings.out.glob(f"*{school_year}*") if not p.name.startswith("run_summary_")
    )
    summary["outputs"] = outputs if ok else []
    path = write_summary(settings.out, summary)
    return ok, summary, outputs, path


def run_pipeline(
    settings: Settings,
    console: Console | None = None,
    *,
    force: bool = False,
    wait_seconds: float | None = None,
) -> RunOutcome:
    """Execute every stage for `settings.school_year` unless nothing changed since the last successful
    run (`force` runs anyway). Raises `pipelines.lock.WarehouseBusyError` when another run holds the
    warehouse for longer than `wait_seconds` (default: the `lock_wait_seconds` setting)."""
    console = console or make_console()
    refusal = _refusal(settings)
    if refusal is not None:  # refuse before touching the warehouse
        console.print(refusal, style="red", markup=False, highlight=False)
        return RunOutcome(False, "refused")
    school_year = settings.school_year
    wait = settings.lock_wait_seconds if wait_seconds is None else wait_seconds
    started = dt.datetime.now()
    with warehouse_lock(settings.warehouse, wait, owner="cds run"):
        snap = inbox_state.snapshot(settings.inbox, school_year)
        config_sha = inbox_state.config_fingerprint(
            settings.indicator_set, [settings.code_mapping], settings.model_dump(include=OUTPUT_SETTINGS)
        )
        check = _change_check(settings, snap, config_sha, force)
        if not check.has_changes:
            return _no_changes(settings, console, started, check)
        ok, summary, outputs, path = _full_run(settings, console, started, snap, config_sha, check)
    for line in summary_lines(summary):
        console.print(f"  {line}", highlight=False, markup=False)
    if not ok:
        console.print("[red]Pipeline thất bại.[/red]")
        return RunOutcome(False, "failed", summary)
    console.print("[bold green]Xong.[/bold green] Kết quả:", highlight=False)
    for p in [*outputs, str(path)]:
        console.print(f"  • {p}", highlight=False)
    return RunOutcome(True, "success", summary)


def _no_changes(
    settings: Settings, console: Console, started: dt.datetime, check: inbox_state.ChangeCheck
) -> RunOutcome:
    """Nothing changed: refresh the summary from the warehouse and stop (the lock is still held)."""
    import json

    con = connect(settings.warehouse, None, None, read_only=True)
    try:
        summary = build_summary(
            con,
            school_year=settings.school_year,
            status="no_changes",
            started_at=started,
            finished_at=dt.datetime.now(),
            trigger="cli",
            files_seen=check.files_seen,
        )
    finally:
        con.close()
    prev = json.loads(summary_path(settings.out, settings.school_year).read_text(encoding="utf-8"))
    summary["outputs"] = prev.get("outputs", [])
    summary["files_hashed"] = check.files_hashed
    write_summary(settings.out, summary)
    console.print(
        f"[bold]Năm học {settings.school_year}: không có thay đổi trong thư mục nhận (no changes)[/bold] — "
        f"giữ nguyên kết quả lần chạy trước.",
        highlight=False,
    )
    for line in summary_lines(summary)[1:]:
        console.print(f"  {line}", highlight=False, markup=False)
    return RunOutcome(True, "no_changes", summary)
