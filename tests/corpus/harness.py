"""Helpers shared by the corpus, privacy and kill tests: a small good inbox copied from the committed
sample, a child process with an address-space limit, and the child's entry points (ingest only, or
the whole pipeline) that capture every log record into a file.

    python -m tests.corpus.harness ingest <inbox> <warehouse> <log file>
    python -m tests.corpus.harness run <inbox> <warehouse> <out> <log file>
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

    from tests.corpus.make_corpus import Case

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "sample_exports" / "inbox"
YEAR = "2024-2025"
TEST_HASH_KEY = "corpus-test-key-0123456789abcdef"
# The calendar day child runs read the season at: fixed when the test session starts, so that two runs
# compared by a test agree on "today" (and on the days left) even when the session crosses midnight.
SESSION_DAY = dt.date.today().isoformat()
#: A small good inbox: the registry, two schools' room lists, one school's students and staff.
GOOD_FILES = (
    "province/DanhSachTruong.xlsx",
    "08000001/DanhSachPhong.xlsx",
    "08000001/DanhSachHocSinh.xls",
    "08000001/CSDL_GiaoVien.xls",
    "08000002/DanhSachPhong.xlsx",
)
# address space of the run (RLIMIT_AS), not its memory: the corpus run reserves 3.09 GiB at its peak
# (29 threads' stacks and allocator arenas; resident < 600 MB, asserted separately), so 3 GiB failed a
# thread start now and then; 4 GiB is the README's bound for the process tree
MEMORY_LIMIT_BYTES = 4 * 1024**3


def good_inbox(dest: Path, files: tuple[str, ...] = GOOD_FILES) -> Path:
    """Copy the good files (relative to `<sample>/<YEAR>/`) into `dest/<YEAR>/…`."""
    for rel in files:
        target = dest / YEAR / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SAMPLE / YEAR / rel, target)
    return dest


def _limit_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _PR_CAPBSET_DROP = 1, 2, 24


def permissions_apply() -> str | None:
    """None when a child started with `unprivileged=True` obeys file permissions; else why not. Not root:
    permissions apply anyway. Root: the child drops the two capabilities that let root read any file and
    list any folder (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from its bounding set before it executes
    Python, which needs CAP_SETPCAP (a container may lack it)."""
    if os.geteuid() != 0:
        return None
    status = Path("/proc/self/status").read_text()
    eff = int(next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")), 16)
    return None if eff & (1 << 8) else "running as root without CAP_SETPCAP: cannot drop the read override"


def _unprivileged() -> None:  # runs in the child before exec
    _limit_memory()
    if os.geteuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
            if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def child_env(**extra: str) -> dict[str, str]:
    """Environment of a child run: development mode, a test key, no API, English-free locale issues."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update(
        {
            "CDS_HASH_KEY": TEST_HASH_KEY,
            "CDS_MODE": "development",
            "PYTHONIOENCODING": "utf-8",
            "CDS_INGEST_SETTLE_SECONDS": "0",
            "CDS_SEASON_TODAY": SESSION_DAY,
            "DAGSTER_HOME": env.get("DAGSTER_HOME", ""),
            **extra,
        }
    )
    if not env["DAGSTER_HOME"]:
        env.pop("DAGSTER_HOME")
    return env


def run_limited(
    args: list[str], timeout: float, env: dict[str, str] | None = None, unprivileged: bool = False
) -> subprocess.CompletedProcess:
    """Run `python -m tests.corpus.harness <args>` with the memory limit (and, `unprivileged`, obeying
    file permissions even as root: `permissions_apply`); raises on timeout."""
    return subprocess.run(
        [sys.executable, "-m", "tests.corpus.harness", *args],
        cwd=REPO_ROOT,
        env=env or child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=_unprivileged if unprivileged else _limit_memory,
    )


def _capture_logs(log_file: Path) -> None:
    """Every log record of the process (any logger, DEBUG and up) goes to `log_file`."""
    handler = logging.FileHandler(log_file, encoding="utf-8", errors="backslashreplace")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def _ingest(inbox: Path, warehouse: Path, log_file: Path) -> None:
    from connectors import raw_store
    from connectors.filedrop import ingest_inbox

    _capture_logs(log_file)
    con = raw_store.connect(warehouse)
    try:
        summary = ingest_inbox(
            con,
            inbox,
            YEAR,
            hash_key=TEST_HASH_KEY,
            progress=lambda f: logging.getLogger("corpus").info("ingesting %s", f),
        )
    finally:
        con.close()
    print(f"files_seen={summary.files_seen} quarantined={summary.quarantined}", flush=True)


def _run(inbox: Path, warehouse: Path, out: Path, log_file: Path) -> None:
    from rich.console import Console

    from pipelines.runner import run_pipeline
    from pipelines.settings import get_settings

    _capture_logs(log_file)
    settings = get_settings(inbox=inbox, warehouse=warehouse, out=out, school_year=YEAR)
    with log_file.with_suffix(".console").open("w", encoding="utf-8") as fh:
        outcome = run_pipeline(settings, Console(file=fh, width=200), force=True)
    sys.exit(0 if outcome.ok else 1)


RUN_TIMEOUT_SECONDS = 420.0


@dataclass
class CorpusRun:
    """What the hostile pipeline run and the baseline ingest left behind."""

    root: Path
    inbox: Path
    out: Path
    log_file: Path
    cases: list[Case]
    manifest: dict[str, dict]
    rejects: dict[str, set[str]]
    seconds: dict[str, float]
    hostile_db: Path
    baseline_db: Path
    wall_seconds: float
    max_rss_bytes: int
    tree_peak_bytes: int  # resident memory of the run and its workers together, at its peak
    run_ok: bool


_RUNS: dict[str, CorpusRun] = {}


def _tree(pid: int) -> list[int]:
    """`pid` and every process descending from it, read from /proc (Linux)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return out


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0  # the process ended between the listing and the read


class TreeMemory(threading.Thread):
    """The peak, over time, of the resident memory summed over a process and its descendants (the run
    and its parse workers), sampled every 50 ms while the process lives."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_bytes, self._stop_event = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_bytes = max(self.peak_bytes, sum(_rss_bytes(p) for p in _tree(self.pid)))
            self._stop_event.wait(0.05)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak_bytes


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.corpus.harness", *args],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_limit_memory,
    )


def _finish(proc: subprocess.Popen[str], what: str) -> int:
    import pytest

    try:
        _, err = proc.communicate(timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"{what} did not finish in {RUN_TIMEOUT_SECONDS} s; last output:\n{err[-3000:]}")
    assert proc.returncode in (0, 1), f"{what} crashed ({proc.returncode}):\n{err[-5000:]}"
    return proc.returncode


def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    """Run once per test session (shared by test_corpus.py and test_privacy.py): the whole pipeline on
    the good inbox plus the corpus, and, at the same time, an ingest of the good inbox alone."""
    import duckdb

    from tests.corpus.make_corpus import build_corpus

    if "run" in _RUNS:
        return _RUNS["run"]
    root = tmp_path_factory.mktemp("corpus")
    baseline_inbox = good_inbox(root / "baseline_inbox")
    inbox = good_inbox(root / "inbox")
    cases = build_corpus(inbox, root / "outside")
    t0 = time.perf_counter()
    baseline = _start(
        ["ingest", str(baseline_inbox), str(root / "baseline.duckdb"), str(root / "baseline.log")]
    )
    hostile = _start(
        ["run", str(inbox), str(root / "hostile.duckdb"), str(root / "out"), str(root / "run.log")]
    )
    tree = TreeMemory(hostile.pid)
    tree.start()
    rc = _finish(hostile, "the pipeline run with the corpus")
    tree_peak = tree.stop()
    assert _finish(baseline, "the baseline ingest") == 0
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    con = duckdb.connect(str(root / "hostile.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT * FROM ingest_manifest").df().to_dict("records")
        rejects: dict[str, set[str]] = {}
        for f, code in con.execute(
            "SELECT DISTINCT source_file, reason_code FROM dq_quarantine_rows"
        ).fetchall():
            rejects.setdefault(f, set()).add(code)
        events = con.execute(
            "SELECT source_file, event_at FROM ingest_events WHERE action <> 'skipped' ORDER BY event_at"
        ).fetchall()
    finally:
        con.close()
    seconds: dict[str, float] = {}
    previous: dt.datetime | None = None
    for f, at in events:  # a file's time = from the previous file's commit to its own
        seconds[f] = (at - previous).total_seconds() if previous else 0.0
        previous = at
    run = CorpusRun(
        root,
        inbox,
        root / "out",
        root / "run.log",
        cases,
        {r["source_file"]: r for r in rows},
        rejects,
        seconds,
        root / "hostile.duckdb",
        root / "baseline.duckdb",
        wall,
        rss,
        tree_peak,
        rc == 0,
    )
    _RUNS["run"] = run
    return run


def main(argv: list[str]) -> None:
    """Child entry point (see the module docstring)."""
    kind, *paths = argv
    if kind == "ingest":
        _ingest(*(Path(p) for p in paths))
    elif kind == "run":
        _run(*(Path(p) for p in paths))
    else:
        raise SystemExit(f"unknown command {kind}")


if __name__ == "__main__":
    main(sys.argv[1:])
