"""A simulation of the country on one machine (`cds simulate`): a small generated province under N
province codes, run through the multi-partitioned job by Dagster itself — `dagster-daemon` with the
run queue (`max_concurrent_runs`, one run per province at a time on `dagster/partition/province`), the
inbox sensor starting one run per (province, year), the default run launcher starting each run in its
own process — and the checks on what came out.

What belongs here: generating the provinces, the Dagster instance and daemon of a simulation, reading
the runs back (times, overlaps), and comparing a province's and the nation's outputs. The pipeline
itself is not here: the runs are ordinary runs of `pipelines.definitions`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipelines.settings import REPO_ROOT, Settings

WORKSPACE = REPO_ROOT / "workspace.yaml"
ADMIN_UNITS = REPO_ROOT / "indicator_sets" / "seeds" / "admin_units.csv"
_TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def province_codes(n: int) -> list[str]:
    """`n` real province codes (before the 2025 merger: their communes are in the registry file)."""
    with ADMIN_UNITS.open(encoding="utf-8", newline="") as fh:
        codes = sorted({int(r["province_code"]) for r in csv.DictReader(fh) if r["era"] == "pre2025"})
    if n > len(codes):
        raise ValueError(f"at most {len(codes)} provinces")
    return [f"{c:02d}" for c in codes[:n]]


@contextlib.contextmanager
def _small_preset_as(code: str) -> Iterator[None]:
    """The generator's `small` preset under another province code, for the duration of the block (the
    generator reads its presets by name; its output is otherwise unchanged)."""
    from sample_exports.generator import presets

    small = presets.PRESETS["small"]
    presets.PRESETS["small"] = dataclasses.replace(small, province_code=code, province_name=f"TỈNH {code}")
    try:
        yield
    finally:
        presets.PRESETS["small"] = small


def generate_provinces(inbox: Path, codes: Sequence[str], years: Sequence[str], seed: int = 7) -> None:
    """The `small` preset under each province code, into `<inbox>/<code>/` (the multi-province layout)."""
    from sample_exports.generator.province import generate

    for code in codes:
        with _small_preset_as(code):
            generate("small", seed, list(years), inbox / code, messiness=1.0)


def write_instance(home: Path, max_concurrent_runs: int = 2) -> Path:
    """`$DAGSTER_HOME/dagster.yaml` of a multi-province deployment: the run queue runs at most
    `max_concurrent_runs` runs, and at most one per province (its warehouse has one writer).

    The queue is checked every second (the shortest interval: Dagster's setting is whole seconds) and
    the runs one check takes are launched from threads: launching a run waits until its new process has
    started (~2–3 s on this machine, 10 s and more when it is busy), so one after the other the second
    run waited for the first one's. A slot freed while a check is still launching waits for the next
    check (the daemon's checks do not overlap): `cds simulate` reports that wait as the handoff."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    path.write_text(
        "run_queue:\n"
        f"  max_concurrent_runs: {max_concurrent_runs}\n"
        "  dequeue_interval_seconds: 1\n"
        "  dequeue_use_threads: true\n"
        f"  dequeue_num_workers: {max_concurrent_runs}\n"
        "  tag_concurrency_limits:\n"
        "    - key: dagster/partition/province\n"
        "      value:\n"
        "        applyLimitPerUniqueValue: true\n"
        "      limit: 1\n"
        "telemetry:\n"
        "  enabled: false\n",
        encoding="utf-8",
    )
    # create the instance's storage (its SQLite files and their schema) once, here: a daemon and a
    # `dagster sensor start` that create it at the same moment race on the schema revision and one fails
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)):
        pass
    return path


def deployment_env(settings: Settings, home: Path, **extra: str) -> dict[str, str]:
    """The environment of the daemon and its runs: the deployment's settings as `CDS_*` variables."""
    import json

    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(home),
        CDS_INBOX=str(settings.inbox),
        CDS_WAREHOUSE=str(settings.warehouse),
        CDS_OUT=str(settings.out),
        CDS_LAKE=str(settings.lake or settings.warehouse.parent / "lake"),
        CDS_LAKE_CATALOG_URI=settings.lake_catalog_uri.get_secret_value(),
        CDS_PROVINCES=json.dumps(settings.provinces),
        CDS_SENSOR_DEBOUNCE_SECONDS=str(settings.sensor_debounce_seconds),
        CDS_SENSOR_INTERVAL_SECONDS=str(settings.sensor_interval_seconds),
        CDS_INGEST_SETTLE_SECONDS=str(settings.ingest_settle_seconds),
        DAGSTER_DISABLE_TELEMETRY="1",
    )
    env.update(extra)
    return env


@dataclass
class RunTimes:
    """One finished run: its partition and when it ran (seconds since the epoch)."""

    run_id: str
    province: str
    school_year: str
    status: str
    start: float
    end: float
    launched: float = 0.0  # when the queue launched it (RUN_STARTING), before its process loaded the code

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Simulation:
    """What a simulation measured."""

    runs: list[RunTimes] = field(default_factory=list)
    wall_seconds: float = 0.0  # first run start → last run end

    @property
    def sum_seconds(self) -> float:
        return sum(r.seconds for r in self.runs)

    def launch_seconds(self) -> list[float]:
        """Per run, from its launch by the queue to the start of its own clock: a new process starting
        and loading the code location, which holds a slot of the queue but is not in the run's time."""
        return [r.start - r.launched for r in self.runs if r.launched and r.start]

    def handoff_seconds(self) -> list[float]:
        """Per run that waited for a slot, from the end of the run before it to its launch (the queue's
        polling and its own bookkeeping)."""
        out = []
        for r in self.runs:
            ended = [o.end for o in self.runs if o is not r and o.end and o.end <= r.launched]
            if r.launched and ended:
                out.append(r.launched - max(ended))
        return out

    def overlapping(self, same_province: bool) -> list[tuple[str, str]]:
        """Pairs of runs whose run times overlap, of the same province or of different ones."""
        pairs = []
        for a, b in itertools.combinations(self.runs, 2):
            if (a.province == b.province) == same_province and a.start < b.end and b.start < a.end:
                pairs.append((a.run_id, b.run_id))
        return pairs


def read_runs(home: Path, job_name: str) -> list[RunTimes]:
    """The runs of `job_name` in the instance at `home` (times of the finished ones)."""
    import dagster as dg

    from pipelines.partitions import split_key

    out = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for rec in instance.get_run_records(filters=dg.RunsFilter(job_name=job_name)):
            run = rec.dagster_run
            province, school_year = split_key(run.tags.get("dagster/partition", ""))
            times = (rec.start_time or 0.0, rec.end_time or 0.0)
            out.append(RunTimes(run.run_id, province or "", school_year, run.status.value, *times))
    return out


def with_launch_times(home: Path, runs: list[RunTimes]) -> list[RunTimes]:
    """`runs` with the time the queue launched each (its RUN_STARTING event in the instance at `home`)."""
    import dagster as dg

    out = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for r in runs:
            found = instance.get_records_for_run(r.run_id, of_type=dg.DagsterEventType.RUN_STARTING, limit=1)
            launched = found.records[0].timestamp if found.records else 0.0
            out.append(dataclasses.replace(r, launched=launched))
    return out


@contextlib.contextmanager
def daemon(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`dagster-daemon run` on the repository's workspace (sensors, run queue, run launcher), stopped
    (with every run it started) at the end of the block."""
    exe = Path(sys.executable).parent / "dagster-daemon"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(exe), "run", "-w", str(WORKSPACE)],
            env=env,
            cwd=REPO_ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def start_sensor(env: dict[str, str], name: str) -> None:
    """Turn a sensor on in the instance of `env` (as an operator would: `dagster sensor start`).
    Call it before the daemon starts: the daemon reads the sensor's state when it ticks."""
    exe = Path(sys.executable).parent / "dagster"
    done = subprocess.run(
        [str(exe), "sensor", "start", name, "-w", str(WORKSPACE)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dagster sensor start {name} exited {done.returncode}: {done.stderr[-3000:]}")


def wait_for_runs(
    home: Path, job_name: str, expected: int, timeout: float, since: float = 0.0
) -> list[RunTimes]:
    """Poll the instance until `expected` runs started after `since` are finished; raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        runs = [r for r in read_runs(home, job_name) if r.start == 0.0 or r.start >= since]
        done = [r for r in runs if r.status in _TERMINAL]
        if len(done) >= expected:
            return sorted(done, key=lambda r: r.start)
        if time.monotonic() > deadline:
            states = sorted(f"{r.province}|{r.school_year}:{r.status}" for r in runs)
            raise TimeoutError(f"{len(done)}/{expected} runs finished after {timeout:.0f} s: {states}")
        time.sleep(1.0)


def simulate(
    settings: Settings,
    home: Path,
    years: Sequence[str],
    *,
    max_concurrent_runs: int = 2,
    timeout: float = 3600,
) -> Simulation:
    """Run every (province, year) of the deployment's inbox through Dagster and return the run times.
    `settings.provinces` must already hold the province codes and their inbox folders exist."""
    from pipelines.definitions import YEAR_JOB
    from pipelines.sensors import INBOX_SENSOR

    write_instance(home, max_concurrent_runs)
    env = deployment_env(settings, home)
    start_sensor(env, INBOX_SENSOR)
    with daemon(env, home / "daemon.log"):
        runs = wait_for_runs(home, YEAR_JOB, len(settings.provinces) * len(years), timeout)
    sim = Simulation(runs=with_launch_times(home, runs))
    if runs:
        sim.wall_seconds = max(r.end for r in runs) - min(r.start for r in runs)
    return sim


# ------------------------------------------------------------------------------------------ the checks
def province_tables(settings: Settings, province: str, school_year: str) -> dict[str, pa.Table]:
    """The published tables of one province's year, read from its own warehouse file."""
    from lakehouse.publish import extract
    from warehouse.connection import connect

    con = connect(settings.warehouse, None, None, read_only=True)
    try:
        return extract(con, province, school_year)
    finally:
        con.close()


def sorted_frame(t: pa.Table) -> pd.DataFrame:
    """A table as a frame in a canonical order (columns by name, rows by every column)."""
    return sorted_frame_df(t.to_pandas())


def sorted_frame_df(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame in a canonical order (columns by name, rows by every column), its index reset."""
    frame = frame[sorted(frame.columns)]
    return frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)


def national_from_union(tables: Sequence[dict[str, pa.Table]]) -> dict[str, pd.DataFrame]:
    """The national marts computed over the union of the provinces' own tables (no lakehouse)."""
    from lakehouse.catalog import TABLES
    from lakehouse.national import national_sql
    from lakehouse.publish import conform
    from warehouse.connection import connect

    con = connect(":memory:", None, None)
    try:
        for name, schema in TABLES.items():
            parts = [schema.empty_table(), *(conform(t[name], schema) for t in tables)]
            con.register(f"lake_{name}", pa.concat_tables(parts))
        return {name: con.execute(sql).df() for name, sql in national_sql().items()}
    finally:
        con.close()


def report_lines(sim: Simulation, max_concurrent_runs: int = 2) -> list[str]:
    """The simulation's figures, one per line (Vietnamese, decimal comma)."""

    def num(x: float) -> str:
        return f"{x:.1f}".replace(".", ",")

    ideal = sim.sum_seconds / max_concurrent_runs
    ratio = sim.wall_seconds / ideal if ideal else 0.0
    failed = [f"{r.province}|{r.school_year}" for r in sim.runs if r.status != "SUCCESS"]
    lines = [
        f"Số lượt chạy: {len(sim.runs)} (thất bại: {', '.join(failed) or 'không'})",
        f"Thời gian thực: {num(sim.wall_seconds)} giây; "
        f"tổng thời gian các lượt: {num(sim.sum_seconds)} giây; "
        f"tổng ÷ {max_concurrent_runs} = {num(ideal)} giây; tỉ lệ {f'{ratio:.2f}'.replace('.', ',')}× "
        "(mục tiêu ≤ 1,2×)",
        f"Cặp lượt chạy của hai tỉnh khác nhau chạy đồng thời: {len(sim.overlapping(False))}",
        f"Cặp lượt chạy cùng một tỉnh chạy đồng thời (phải là 0): {len(sim.overlapping(True))}",
    ]
    launch, handoff = sim.launch_seconds(), sim.handoff_seconds()
    if launch:
        lines.append(
            f"Khởi động mỗi lượt (hàng đợi phát lệnh → lượt bắt đầu tính giờ: tiến trình mới nạp mã nguồn): "
            f"trung bình {num(sum(launch) / len(launch))} giây, lâu nhất {num(max(launch))} giây"
        )
    if handoff:
        lines.append(
            "Từ khi một lượt xong đến khi hàng đợi phát lệnh lượt kế tiếp: "
            f"trung bình {num(sum(handoff) / len(handoff))} giây, lâu nhất {num(max(handoff))} giây"
        )
    return lines
