"""Run the school-year job in-process (the same definitions `dagster dev` loads) and show progress:
one line per step as it starts and finishes, then a summary of where the outputs are."""

from __future__ import annotations

import logging
import time

import dagster as dg
from rich.console import Console

from pipelines.definitions import YEAR_JOB, build_definitions
from pipelines.settings import Settings

_EVENTS = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "ASSET_MATERIALIZATION"}


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
                self.console.print(f"  [yellow]![/yellow] {record.getMessage()}", markup=True, highlight=False)
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
            self.console.print(f"  [cyan]▶[/cyan] {step}", highlight=False)
        elif kind == "STEP_SUCCESS":
            dt_s = time.perf_counter() - self.started.get(step, time.perf_counter())
            self.console.print(f"  [green]✓[/green] {step} ({dt_s:.1f} s)", highlight=False)
        elif kind == "STEP_FAILURE":
            self.console.print(f"  [red]✗[/red] {step}: {record.getMessage()[:500]}", highlight=False)


def progress_logger(console: Console) -> dg.LoggerDefinition:
    @dg.logger(description="Progress lines for the cds CLI")
    def _logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
        log = logging.Logger("cds_progress", level=logging.DEBUG)
        log.addHandler(_ProgressHandler(console))
        return log

    return _logger


def run_pipeline(settings: Settings, console: Console | None = None) -> bool:
    """Execute every stage for `settings.school_year`; returns True on success."""
    console = console or Console()
    defs = build_definitions(settings)
    job = defs.resolve_job_def(YEAR_JOB)
    job = job.with_logger_defs({"progress": progress_logger(console)})
    console.print(
        f"[bold]Chạy pipeline năm học {settings.school_year}[/bold] — thư mục nhận: {settings.inbox}, "
        f"kho dữ liệu: {settings.warehouse}",
        highlight=False,
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            partition_key=settings.school_year, instance=instance, raise_on_error=False,
            run_config={"loggers": {"progress": {}}},
        )  # fmt: skip
    if not result.success:
        console.print("[red]Pipeline thất bại.[/red]")
        return False
    out = settings.out
    console.print("[bold green]Xong.[/bold green] Kết quả:", highlight=False)
    for p in sorted(out.glob(f"*{settings.school_year}*")):
        console.print(f"  • {p}", highlight=False)
    return True
