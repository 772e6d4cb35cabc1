"""Crash safety: `cds run` killed with SIGKILL at seeded random moments never leaves the warehouse
unusable or inconsistent, and running again gives the outputs of an uninterrupted run.

One uninterrupted run gives the reference outputs, raw rows and its list of steps. Then `TRIALS` runs
on one warehouse are each killed at a seeded random moment: every third trial starts from an empty
warehouse and is killed at a random point of the ingest step (where raw rows are written); the others
continue from the killed state and are killed 0–1 s after a randomly chosen step starts. After every kill:
the warehouse opens, each manifest row's raw rows exist iff it is loaded/partly loaded (and match
its row count), no raw or reject row belongs to a file without a manifest row. At two checkpoints
(half-way and at the end) a run is let finish and its CSV outputs and raw tables must equal the
reference. Slow (a few minutes): run with `pytest -m slow tests/integration/test_kill.py`.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.corpus import harness

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 4725
TRIALS = int(os.environ.get("CDS_KILL_TRIALS", "20"))
CHECKPOINTS = {TRIALS // 2, TRIALS}
IGNORED_COLUMNS = ("ingested_at", "recorded_at", "run_id", "event_at")
LOAD_TIME_COLUMNS = ("first_arrived", "last_arrived")  # out/season_status_<year>.csv


def _cds_run(inbox: Path, warehouse: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "run",
            "--force",
            "--inbox",
            str(inbox),
            "--warehouse",
            str(warehouse),
            "--out",
            str(out),
            "--year",
            harness.YEAR,
        ],
        cwd=harness.REPO_ROOT,
        env=harness.child_env(PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _run_to_end(inbox: Path, warehouse: Path, out: Path) -> tuple[list[str], float]:
    """Let a run finish: (the steps it started, in order; seconds its ingest step took)."""
    proc = _cds_run(inbox, warehouse, out)
    steps: list[str] = []
    started = ingest_s = 0.0
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip().startswith("▶"):
            steps.append(line.strip())
            if "ingest_inbox" in line:
                started = time.monotonic()
        elif "✓ ingest_inbox" in line:
            ingest_s = time.monotonic() - started
    assert proc.wait(timeout=600) == 0
    assert steps and ingest_s > 0
    return steps, ingest_s


def _kill_at(inbox: Path, warehouse: Path, out: Path, marker: str, delay: float) -> str:
    """Start a run; once it prints `marker` (a step start), wait `delay` s and SIGKILL its process
    group. Returns the last progress line it printed."""
    proc = _cds_run(inbox, warehouse, out)
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.strip() == marker:
            time.sleep(delay)
            break
    os.killpg(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate(timeout=60)
    lines += [ln.strip() for ln in rest.splitlines()]
    shown = [ln for ln in lines if ln.startswith(("▶", "✓"))]
    return shown[-1] if shown else "(before the first step)"


def _raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'raw\\_%' "
            "ESCAPE '\\' ORDER BY 1"
        ).fetchall()
    ]


def check_consistent(warehouse: Path) -> list[str]:
    """Problems of a (possibly just killed) warehouse's raw layer; [] when consistent."""
    con = duckdb.connect(str(warehouse))  # opening replays the WAL, as the next run would
    problems: list[str] = []
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "ingest_manifest" not in tables:
            return []  # killed before the schema existed: nothing to be inconsistent about
        manifest = dict(con.execute("SELECT source_file, status FROM ingest_manifest").fetchall())
        cols = {
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'ingest_manifest'"
            ).fetchall()
        }
        # records in the raw tables (killed before the column was added: no manifest row has it either)
        records = "records_written" if "records_written" in cols else "rows_kept"
        kept = dict(con.execute(f"SELECT source_file, {records} FROM ingest_manifest").fetchall())
        counts: dict[str, int] = {}
        for t in _raw_tables(con):
            for f, n in con.execute(f"SELECT source_file, count(*) FROM {t} GROUP BY 1").fetchall():
                counts[f] = counts.get(f, 0) + n
        for f, status in manifest.items():
            n = counts.get(f, 0)
            if status in ("loaded", "partly_loaded") and n != kept[f]:
                problems.append(f"{f}: {status} with {kept[f]} records written but {n} raw rows")
            if status not in ("loaded", "partly_loaded") and n:
                problems.append(f"{f}: {status} but {n} raw rows")
        problems += [
            f"{f}: {n} raw rows without a manifest row" for f, n in counts.items() if f not in manifest
        ]
        for table in ("dq_quarantine_rows", "ingest_warnings"):
            orphans = con.execute(
                f"SELECT DISTINCT source_file FROM {table} WHERE source_file NOT IN (SELECT "
                "source_file FROM ingest_manifest)"
            ).fetchall()
            problems += [f"{f}: {table} rows without a manifest row" for (f,) in orphans]
    finally:
        con.close()
    return problems


def _without_times(path: Path) -> str:
    """A CSV output without its load-time columns (a file's arrival is when a run loaded it: a killed run
    keeps the time it loaded a file at, an uninterrupted one has its own)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.drop(columns=[c for c in frame.columns if c in IGNORED_COLUMNS + LOAD_TIME_COLUMNS]).to_csv(
        index=False
    )


def snapshot(warehouse: Path, out: Path) -> dict[str, str]:
    """The CSV outputs and every raw table (without timestamps and run ids), as text."""
    snap = {f"out/{p.name}": _without_times(p) for p in sorted(out.glob("*.csv"))}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for t in [*_raw_tables(con), "ingest_manifest", "dq_quarantine_rows", "ingest_warnings"]:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [t],
                ).fetchall()
                if c not in IGNORED_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            snap[t] = con.execute(f"SELECT {select} FROM {t} ORDER BY ALL").df().to_csv(index=False)
    finally:
        con.close()
    return snap


def test_killed_runs_leave_a_consistent_warehouse_and_rerun_matches(tmp_path: Path) -> None:
    inbox = harness.good_inbox(tmp_path / "inbox")
    steps, ingest_s = _run_to_end(inbox, tmp_path / "ref.duckdb", tmp_path / "ref_out")
    assert check_consistent(tmp_path / "ref.duckdb") == []
    reference = snapshot(tmp_path / "ref.duckdb", tmp_path / "ref_out")
    assert any(k.startswith("out/") for k in reference)
    ingest_step = next(st for st in steps if "ingest_inbox" in st)

    rng = random.Random(SEED)
    warehouse, out = tmp_path / "wh.duckdb", tmp_path / "out"
    log: list[str] = []
    for trial in range(1, TRIALS + 1):
        fresh = trial % 3 == 1
        if fresh:  # an empty warehouse, killed while files are being loaded
            for p in tmp_path.glob("wh.duckdb*"):
                p.unlink()
            shutil.rmtree(out, ignore_errors=True)
            marker, delay = ingest_step, rng.uniform(0.0, ingest_s)
        else:  # continue from the killed state, killed in a random stage
            marker, delay = rng.choice(steps), rng.uniform(0.0, 1.0)
        last = _kill_at(inbox, warehouse, out, marker, delay)
        problems = check_consistent(warehouse)
        log.append(
            f"trial {trial}: {'fresh' if fresh else 'continued'}, killed {delay:.1f} s after "
            f"{marker!r} (last {last!r}): "
            f"{problems or 'consistent'}"
        )
        assert not problems, "\n".join(log)
        if trial in CHECKPOINTS:
            _run_to_end(inbox, warehouse, out)
            assert check_consistent(warehouse) == []
            got = snapshot(warehouse, out)
            assert got.keys() == reference.keys()
            differ = [k for k in reference if got[k] != reference[k]]
            assert not differ, f"after trial {trial} the re-run differs in {differ}\n" + "\n".join(log)
    print("\n".join(log))
