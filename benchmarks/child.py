"""One pipeline run (`pipelines.runner.run_pipeline`) in its own process, for the benchmark.

    python -m benchmarks.child SPEC.json RESULT.json

SPEC holds inbox, warehouse, out, year, force. RESULT gets the run summary's stage seconds and rows,
and memory: the process's peak RSS (`ru_maxrss`) and the peak RSS of every Dagster step. Steps run
one after another in this process (in-process executor); at each STEP_START the kernel's high-water
mark is reset (`echo 5 > /proc/self/clear_refs`) and at the step's end VmHWM is read, so a step's
figure is its own peak. A stage's peak is the largest of its steps'. If the reset is not allowed, the
figures are cumulative peaks (marked `hwm_reset: false`). The reset also lowers `ru_maxrss`, so the
run's peak is the largest of the step peaks and the peaks read between steps.
"""

from __future__ import annotations

import json
import logging
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

_HWM = re.compile(r"^VmHWM:\s+(\d+)\s+kB", re.M)


def vm_hwm_bytes() -> int | None:
    """Peak resident set size of this process since the last reset, from /proc/self/status."""
    try:
        m = _HWM.search(Path("/proc/self/status").read_text())
    except OSError:
        return None
    return int(m.group(1)) * 1024 if m else None


def reset_hwm() -> bool:
    """Reset the peak-RSS high-water mark (Linux ≥ 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def main(spec_path: str, result_path: str) -> int:
    """Run the pipeline as described by the spec file and write the result file; exit code 0 on success."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    from rich.console import Console

    from pipelines import runner
    from pipelines.settings import get_settings

    step_peak: dict[str, int] = {}
    state: dict[str, Any] = {"hwm_reset": True, "groups": {}, "between": 0}

    class _MeasuringHandler(runner._ProgressHandler):
        """The CLI's progress handler plus a peak-RSS reading at each step boundary."""

        def emit(self, record: logging.LogRecord) -> None:
            meta = getattr(record, "dagster_meta", None) or {}
            event = meta.get("dagster_event")
            step = meta.get("step_key") or ""
            if event is not None:
                kind = event.event_type_value
                if kind == "STEP_START":
                    state["between"] = max(state["between"], vm_hwm_bytes() or 0)  # peak since the last step
                    state["hwm_reset"] = reset_hwm() and state["hwm_reset"]
                elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                    hwm = vm_hwm_bytes()
                    if hwm is not None:
                        step_peak[step] = max(step_peak.get(step, 0), hwm)
            super().emit(record)

    runner._ProgressHandler = _MeasuringHandler  # type: ignore[misc]  # this child process only
    original_execute = runner._execute

    def _execute(settings, console):  # type: ignore[no-untyped-def]
        res = original_execute(settings, console)
        state["groups"] = dict(res[3])
        return res

    runner._execute = _execute  # type: ignore[assignment]

    settings = get_settings(
        inbox=Path(spec["inbox"]),
        warehouse=Path(spec["warehouse"]),
        out=Path(spec["out"]),
        school_year=spec["year"],
    )
    log_file = open(spec["log"], "a", encoding="utf-8") if spec.get("log") else sys.stdout  # noqa: SIM115
    console = Console(file=log_file, width=140, force_terminal=False, color_system=None)
    t0 = time.perf_counter()
    outcome = runner.run_pipeline(settings, console, force=bool(spec.get("force")))
    wall = time.perf_counter() - t0
    summary = outcome.summary
    state["between"] = max(state["between"], vm_hwm_bytes() or 0)
    stage_peak: dict[str, int] = {}
    for step, peak in step_peak.items():
        group = state["groups"].get(step, step)
        stage_peak[group] = max(stage_peak.get(group, 0), peak)
    result = {
        "ok": bool(outcome.ok),
        "status": outcome.status,
        "wall_s": round(wall, 3),
        "stage_seconds": summary.get("stage_seconds", {}),
        "files": summary.get("files", {}),
        "rows_loaded": summary.get("rows", {}).get("loaded_this_run", 0),
        "rows_kept": summary.get("rows", {}).get("kept_in_year", 0),
        "changed_files": summary.get("changed_files", []),
        "step_peak_rss_bytes": step_peak,
        "stage_peak_rss_bytes": stage_peak,
        "hwm_reset": state["hwm_reset"],
        # the whole run's peak: the largest step peak or peak outside the steps (ru_maxrss follows the
        # resets, so it is only a lower bound here)
        "peak_rss_bytes": max([state["between"], *step_peak.values()]),
        "outside_steps_peak_rss_bytes": state["between"],
        "self_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        # worker processes of the run (e.g. an ingest parse pool): the largest one's peak; not in the above
        "workers_maxrss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    }
    Path(result_path).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if log_file is not sys.stdout:
        log_file.close()
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
