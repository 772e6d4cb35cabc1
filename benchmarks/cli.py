"""`cds-bench`: cold and incremental pipeline runs on generated inboxes of several sizes, with
per-stage wall time, throughput and peak RSS, reader and scan baselines, the growth exponent and the
issue-9 targets. Writes out/bench/results.json and out/bench/results.md (and prints the latter).

    cds-bench                                   # small, medium (≈ 60 schools), province-mountain
    cds-bench --sizes small,medium              # the two quick sizes (about 10 minutes)

Figures are a snapshot of the machine and the commit they ran on (both are recorded); nothing here
asserts on time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from benchmarks import datasets
from benchmarks.core import evaluate_targets, growth_exponent, render_markdown

REPO_ROOT = datasets.REPO_ROOT


def _echo(msg: str) -> None:
    click.echo(f"[bench {time.strftime('%H:%M:%S')}] {msg}", err=True)


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _meta() -> dict[str, Any]:
    import duckdb
    import fastexcel
    import pandas

    dirty = [ln[3:] for ln in _git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return {
        "commit": _git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(dirty),
        "dirty_files": dirty,
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "versions": {
            "duckdb": duckdb.__version__,
            "fastexcel": fastexcel.__version__,
            "pandas": pandas.__version__,
        },
    }


def run_child(label: str, spec: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run the pipeline in a child process; its result plus the child's rusage (via os.wait4)."""
    spec_path, result_path = work / f"{label}.spec.json", work / f"{label}.result.json"
    spec["log"] = str(work / f"{label}.log")
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    # the bench writes its inboxes (and the incremental run's changed files) moments before a run: they are
    # finished, not being written, so no settle time (else the cold run defers every file and loads nothing)
    env["CDS_INGEST_SETTLE_SECONDS"] = "0"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.child", str(spec_path), str(result_path)], cwd=REPO_ROOT, env=env
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    try:
        result = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = {"ok": False, "status": f"child exited {proc.returncode}", "stage_seconds": {}}
    result["process_wall_s"] = round(wall, 3)
    result["process_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 3)
    result["wait4_maxrss_bytes"] = usage.ru_maxrss * 1024
    result.setdefault("peak_rss_bytes", usage.ru_maxrss * 1024)
    result.setdefault("wall_s", wall)
    return result


def bench_size(size: str, opts: dict[str, Any], out: Path) -> tuple[dict[str, Any], Path, list[Path]]:
    """Cold run, one scan and the incremental run for one size; returns (figures, inbox, year files)."""
    cached, info = datasets.ensure_inbox(size, opts["seed"], opts["years"], opts["messiness"], log=_echo)
    _echo(f"{size}: inbox {'from cache' if info.get('cached') else 'generated'} ({info['key']})")
    work = out / "work" / size
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    inbox = datasets.work_copy(cached, work / "inbox")
    school_year = opts["year"]
    files = datasets.year_files(inbox, school_year)
    nbytes = sum(p.stat().st_size for p in files)
    fig: dict[str, Any] = {
        "inbox": {
            "files": len(files),
            "bytes": nbytes,
            "schools": datasets.school_count(size),
            "cache_key": info["key"],
            "generate_s": info.get("generate_s"),
        }
    }
    spec = {
        "inbox": str(inbox),
        "warehouse": str(work / "warehouse.duckdb"),
        "out": str(work / "out"),
        "year": school_year,
        "force": False,
    }
    _echo(f"{size}: cold run on {len(files)} files, {nbytes / 1e6:.1f} MB (log: {work / 'cold.log'})")
    cold = run_child("cold", spec, work)
    cold.update(input_bytes=nbytes, bytes_ingested=nbytes)
    fig["cold"] = cold
    _echo(
        f"{size}: cold {cold['status']} in {cold['wall_s']:.1f} s, peak "
        f"{cold['peak_rss_bytes'] / 2**20:.0f} MiB"
    )
    if not cold.get("ok"):
        return fig, inbox, files
    from pipelines.settings import get_settings

    scan = datasets_scan(Path(spec["warehouse"]), get_settings().duckdb_threads)
    if scan:
        marts = float(cold["stage_seconds"].get("models", 0.0))
        scan.update(marts_s=marts, marts_vs_scan=(marts / scan["scan_s"]) if scan["scan_s"] else None)
        fig["scan"] = scan
    if opts["incremental"]:
        changed = datasets.pick_changes(inbox, school_year, opts["change_fraction"], opts["seed"])
        changed_bytes = datasets.apply_changes(inbox, changed, stamp=f"{opts['seed']}-{time.time_ns()}")
        _echo(f"{size}: incremental run after changing {len(changed)}/{len(files)} files")
        inc = run_child("incremental", spec, work)
        inc.update(input_bytes=nbytes, bytes_ingested=changed_bytes, changed=changed)
        fig["incremental"] = inc
        _echo(
            f"{size}: incremental {inc['status']} in {inc['wall_s']:.1f} s "
            f"({inc['wall_s'] / cold['wall_s']:.0%} of cold)"
        )
    return fig, inbox, files


def datasets_scan(warehouse: Path, threads: int) -> dict[str, Any]:
    """One full scan of the largest raw table (see `readers.one_scan`)."""
    from benchmarks.readers import one_scan

    return one_scan(warehouse, threads)


def growth(sizes: dict[str, Any]) -> dict[str, Any]:
    """Growth exponents of cold wall time over the sizes that ran, and the province-mountain estimate."""
    ok = [(n, s) for n, s in sizes.items() if s.get("cold", {}).get("ok")]
    if len(ok) < 2:
        return {"sizes": [n for n, _ in ok], "exponent_vs_mb": None, "exponent_vs_rows": None}
    walls = [s["cold"]["wall_s"] for _, s in ok]
    return {
        "sizes": [n for n, _ in ok],
        "exponent_vs_mb": growth_exponent([s["inbox"]["bytes"] for _, s in ok], walls),
        "exponent_vs_rows": growth_exponent([s["cold"]["rows_kept"] for _, s in ok], walls),
        "exponent_vs_schools": growth_exponent([s["inbox"]["schools"] for _, s in ok], walls),
    }


NOTES = [
    "Each run is a child process (`python -m benchmarks.child`) calling `pipelines.runner.run_pipeline` "
    "on a copy of the cached inbox; cold = fresh warehouse and out folder, incremental = same warehouse "
    "after changing the files (the runner's own change check, no --force).",
    "Stage wall time = the run summary's `stage_seconds` (Dagster step durations summed per asset group, "
    "asset checks included); total = the run's wall time including Dagster start-up.",
    "rows/s and MB/s = input over stage time: ingest uses the rows loaded and the bytes of the files "
    "(re)ingested in that run; later stages use the rows kept for the year and the year's inbox bytes.",
    "Peak RSS per stage: the kernel's high-water mark is reset at each STEP_START (/proc/self/clear_refs) "
    "and VmHWM read at the step's end (steps run sequentially in-process); a stage's figure is its "
    "largest step. The run's peak also covers the time between steps (Dagster start-up, summary).",
    "5% change: ceil(5% of the year's files), a deterministic sha256-ranked pick among the .xlsx files; "
    "in each the last plain-number cell of the first sheet changes by one (a real change of data, so the "
    "stages after ingest cannot skip their work) and docProps/core.xml gets an XML comment.",
    "Readers: one untimed pass (warms the page cache, drops files any reader cannot read), then one timed "
    "pass per reader over the same Excel files (medium by default: the connector parses files in batches, "
    "which a tiny inbox does not show). The connector is `ingest_inbox` on a copy of those files into a "
    "fresh DuckDB file (read, detect, parse, normalise, load, manifest): once in one process (the ingest "
    "targets: like for like with the single-process readers) and once with its 2-process pool.",
    "One scan: `SELECT count(*), sum(hash(COLUMNS(*)))` over the largest raw_* table (every column read), "
    "best of 3, same thread count as the pipeline; compared with the models stage time.",
    "Marks fold alone: when that table is the grade book, the one aggregation of it the models cannot do "
    "without (every mark of a component 2.3.3 reads folded per school, year, student and subject into a "
    "bit set: `benchmarks.readers.MARKS_FLOOR_SQL`), best of 3: a lower bound of the models stage, not "
    "the stage.",
    "RSS figures are of the pipeline's main process; worker processes (e.g. the ingest parse pool) are "
    "not in them: the largest worker's peak (RUSAGE_CHILDREN) is shown next to the run's total.",
    "MB = 2^20 bytes of the files as delivered (xlsx/xls/csv/json).",
    "`medium` = province-mountain scaled to 60 schools (preset added in the bench process; "
    "generator unchanged).",
]


@click.command("bench")
@click.option(
    "--sizes",
    default="small,medium,province-mountain",
    show_default=True,
    help="Kích thước, cách nhau bởi dấu phẩy: small, medium (≈60 trường), province-mountain, "
    "province-hanoi (≈2.800 trường, 2,2 triệu học sinh; chỉ chạy khi được chọn).",
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--years", default="2024-2025", show_default=True, help="Các năm học sinh dữ liệu.")
@click.option("--messiness", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option(
    "--change-fraction",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Tỉ lệ tệp thay đổi trước lượt chạy gia tăng.",
)
@click.option(
    "--ratios-on",
    default=None,
    help="Kích thước dùng để so sánh các bộ đọc (mặc định: medium nếu có, nếu không là kích thước đầu).",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="Số lần đo mỗi bộ đọc (lấy lần nhanh nhất).",
)
@click.option("--incremental/--no-incremental", default=True, show_default=True)
@click.option("--ratios/--no-ratios", default=True, show_default=True)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPO_ROOT / "out" / "bench",
    show_default=True,
)
def bench(
    sizes: str,
    seed: int,
    years: str,
    messiness: float,
    change_fraction: float,
    ratios_on: str | None,
    repeat: int,
    incremental: bool,
    ratios: bool,
    out: Path,
) -> None:
    """Đo hiệu năng pipeline (chạy nguội, chạy gia tăng, so sánh bộ đọc) và ghi
    out/bench/results.{json,md}."""
    names = [s.strip() for s in sizes.split(",") if s.strip()]
    bad = [s for s in names if s not in datasets.SIZES]
    if bad:
        raise click.BadParameter(
            f"unknown size(s) {bad}; choose from {list(datasets.SIZES)}", param_hint="--sizes"
        )
    year_list = [y.strip() for y in years.split(",") if y.strip()]
    opts = {
        "seed": seed,
        "years": year_list,
        "year": year_list[-1],
        "messiness": messiness,
        "change_fraction": change_fraction,
        "incremental": incremental,
    }
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "meta": _meta(),
        "options": {**opts, "sizes": names},
        "sizes": {},
        "notes": NOTES,
    }
    ratio_size = ratios_on or ("medium" if "medium" in names else names[0])
    for size in names:
        fig, inbox, files = bench_size(size, opts, out)
        results["sizes"][size] = fig
        if ratios and size == ratio_size and fig.get("cold", {}).get("ok"):
            from benchmarks.readers import measure_readers

            _echo(f"{size}: reader ratios on the year's Excel files")
            results["ratios"] = {
                "size": size,
                **measure_readers(inbox, files, opts["year"], out / "work" / f"{size}-readers", repeat),
            }
            shutil.rmtree(out / "work" / f"{size}-readers", ignore_errors=True)
        _write(results, out, final=False)
    results["growth"] = growth(results["sizes"])
    exp = results["growth"].get("exponent_vs_schools")
    done = [n for n in names if results["sizes"][n].get("cold", {}).get("ok")]
    if exp is not None and "province-mountain" not in done and done:
        last = results["sizes"][done[-1]]
        factor = datasets.school_count("province-mountain") / last["inbox"]["schools"]
        results["mountain_estimate_s"] = last["cold"]["wall_s"] * factor**exp
    from benchmarks.structure import measure_structure

    _echo("connectors structure: function and module sizes, mypy")
    results["structure"] = measure_structure()
    results["targets"] = evaluate_targets(results)
    md = _write(results, out, final=True)
    click.echo(md)


def _write(results: dict[str, Any], out: Path, *, final: bool) -> str:
    """Write results.json and results.md (also after each size, so a long run leaves partial figures)."""
    if not final:
        results = {**results, "targets": evaluate_targets(results)}
    (out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    md = render_markdown(results)
    (out / "results.md").write_text(md, encoding="utf-8")
    return md
