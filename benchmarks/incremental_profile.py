"""Where an incremental run's time goes: copy a benchmark work folder (the warehouse, inbox and outputs
`cds-bench` left for one size), change a share of its files as the bench does, and run the pipeline
once on the copy: stage times, CPU of this process, the DuckDB statements of ingest grouped by their
first words, and optionally a cProfile of the whole run. A script, not a test.

    python benchmarks/incremental_profile.py province-mountain            # a size `cds-bench` ran
    python benchmarks/incremental_profile.py province-mountain --profile 40
    python benchmarks/incremental_profile.py medium --fraction 0.05 --seed 11
    python benchmarks/incremental_profile.py FOLDER --set max_vacuum_tasks=100

The copy goes to a temporary folder (or --scratch) and the work folder is left as it was, so runs can
be repeated on the same starting state; `--set NAME=VALUE` tries a DuckDB setting on the run's
warehouse connections. Parse workers are other processes: their CPU is not in the figures of this
process.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import datetime as dt
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]  # the checkout: its out/ and sample inbox


class TimedConnection:
    """A DuckDB connection whose `execute` calls are timed, grouped by their first four words."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.seconds: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        key = " ".join(sql.split()[:4])[:70]
        t0 = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            self.seconds[key] += time.perf_counter() - t0
            self.calls[key] += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def copy_work(work: Path, dest: Path) -> None:
    """Warehouse, inbox (file times kept: the change check compares them) and outputs of a bench run."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(work / "warehouse.duckdb", dest / "warehouse.duckdb")
    shutil.copytree(work / "inbox", dest / "inbox", ignore=shutil.ignore_patterns("_truth"))
    if (work / "out").is_dir():
        shutil.copytree(work / "out", dest / "out")


def rewritten_files(warehouse: Path, since: dt.datetime) -> str:
    """Per kind, the output files the run wrote and those it left unchanged (`ops_export_files`)."""
    import duckdb

    from warehouse.connection import connect

    con = connect(warehouse, read_only=True)
    try:
        rows = con.execute(
            "SELECT kind, count(*) FILTER (WHERE written_at >= ?), count(*) FROM ops_export_files "
            "GROUP BY kind",
            [since],
        ).fetchall()
    except duckdb.CatalogException:
        return "(no ops_export_files table)"
    finally:
        con.close()
    return ", ".join(f"{kind} {new} of {total}" for kind, new, total in rows) or "none recorded"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "work",
        help="a size `cds-bench` ran (its work folder under out/bench) or a folder holding "
        "warehouse.duckdb, inbox/ and out/",
    )
    ap.add_argument("--year", default="2024-2025")
    ap.add_argument("--fraction", type=float, default=0.05, help="share of the year's files to change")
    ap.add_argument("--seed", type=int, default=11, help="which files change (the bench's own run uses 7)")
    ap.add_argument(
        "--profile", type=int, metavar="N", help="cProfile the run; print the N costliest functions"
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a DuckDB setting for the run's warehouse connections, e.g. max_vacuum_tasks=0",
    )
    ap.add_argument("--scratch", type=Path, help="copy here instead of a temporary folder (must not exist)")
    args = ap.parse_args()

    from rich.console import Console

    from benchmarks import datasets
    from connectors import filedrop
    from pipelines import runner
    from pipelines.settings import get_settings

    # the changed files were written a moment ago but are finished: no settle time, as in `cds-bench`
    # (else ingest defers every changed file and the run reads none of them)
    os.environ["CDS_INGEST_SETTLE_SECONDS"] = "0"
    work = Path(args.work) if Path(args.work).is_dir() else ROOT / "out" / "bench" / "work" / args.work
    tmp = None if args.scratch else tempfile.TemporaryDirectory(prefix="cds-incr-")
    scratch = args.scratch or Path(tmp.name)  # type: ignore[union-attr]
    try:
        copy_work(work, scratch)
        inbox = scratch / "inbox"
        changed = datasets.pick_changes(inbox, args.year, args.fraction, args.seed)
        datasets.apply_changes(inbox, changed, stamp=f"profile-{time.time_ns()}")
        print(f"changed {len(changed)} files of {work}")

        statements: list[TimedConnection] = []
        original = filedrop.ingest_inbox

        def timed_ingest(con: Any, *a: Any, **k: Any) -> Any:
            timed = TimedConnection(con)
            statements.append(timed)
            return original(timed, *a, **k)

        import pipelines.assets.ingest as ingest_asset
        from connectors import raw_store

        plain_connect = raw_store.connect

        def _with_settings(con: Any) -> Any:
            for item in args.set:
                name, _, value = item.partition("=")
                con.execute(f"SET {name} = '{value}'")
            return con

        def connect_with_settings(*a: Any, **k: Any) -> Any:
            return _with_settings(plain_connect(*a, **k))

        raw_store.connect = connect_with_settings  # this process only
        runner_connect = runner._connect
        runner._connect = lambda st: _with_settings(runner_connect(st))  # this process only

        ingest_asset.ingest_inbox = timed_ingest  # this process only
        from pipelines import sensors

        step_times: dict[str, float] = {}
        plain_steps = sensors.step_seconds_of

        def keep_step_seconds(*a: Any, **k: Any) -> dict[str, float]:
            step_times.update(plain_steps(*a, **k))
            return step_times

        sensors.step_seconds_of = keep_step_seconds  # this process only: the runner imports it per run
        settings = get_settings(
            inbox=inbox, warehouse=scratch / "warehouse.duckdb", out=scratch / "out", school_year=args.year
        )
        prof = cProfile.Profile() if args.profile else None
        with (scratch / "run.log").open("w", encoding="utf-8") as log:
            console = Console(file=log, width=140)
            started = dt.datetime.now()
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            if prof:
                prof.enable()
            outcome = runner.run_pipeline(settings, console)
            if prof:
                prof.disable()
            wall = time.perf_counter() - t0
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        print(f"run {outcome.status}: {wall:.1f} s wall, {cpu:.1f} s CPU in this process")
        for stage, secs in sorted(
            (outcome.summary or {}).get("stage_seconds", {}).items(), key=lambda x: -x[1]
        ):
            print(f"  {stage:<10} {secs:6.1f} s")
        written = rewritten_files(scratch / "warehouse.duckdb", started)
        print(f"output files written again this run: {written}")
        print("steps of 0.3 s or more:")
        for step, secs in sorted(step_times.items(), key=lambda x: -x[1]):
            if secs >= 0.3:
                print(f"  {step:<40} {secs:6.1f} s")
        for timed in statements:
            print(f"ingest DuckDB statements: {sum(timed.seconds.values()):.1f} s")
            for key, secs in timed.seconds.most_common(15):
                print(f"  {secs:6.2f} s {timed.calls[key]:5d}×  {key}")
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
        return 0 if outcome.ok else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
