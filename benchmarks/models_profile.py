"""Time every SQL model of `dbt_like_sql/` on a copy of a built warehouse, next to one scan of the
largest raw table, and optionally compare every model's rows with a saved snapshot.

    python benchmarks/models_profile.py WAREHOUSE [--repeat 2] [--stage N] [--year Y] [--save DIR]
        [--compare DIR]

The warehouse is copied to a temporary file first (the original is never written). `--save DIR`
writes every model (staging, intermediate, mart; tables and views) as Parquet; `--compare DIR` checks
that each model in the snapshot equals the saved one as a multiset of rows (EXCEPT ALL both ways, so
equal row counts too) and exits 1 on any difference.

After the whole build it times a build of one year (`--year`) as a run of that year does it: the
partitioned tables (`-- partition: school_year`) get that year's rows replaced, the others are built
whole (the year's recorded fingerprints are forgotten first, so nothing is skipped).

`--stage N` also runs the whole models stage N times as `cds run` and the benchmark do: the Dagster
step `sql_models` of the school-year job (`--year`), in-process on an ephemeral instance, on the copy
(the year's recorded fingerprints are forgotten before each run, so each one rebuilds the year). It
prints Dagster's step duration (the figure `cds-bench` compares with one scan), the process CPU during
the step, and its parts: the build (fingerprints, every model and the commit) and the rest (connection,
one Dagster materialization event per model).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.readers import one_scan
from pipelines.settings import Settings, get_settings
from warehouse.connection import connect
from warehouse.sql_models import STATE_DDL, build_model, build_models, discover, drop_changed_kinds, run_order


def _saved(models: dict) -> list[str]:
    """Every model, views included: a model may change kind, its rows must not."""
    return list(run_order(models))


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def compare(con: duckdb.DuckDBPyConnection, names: list[str], snap: Path) -> list[str]:
    """Models whose rows differ from the snapshot (as multisets, on the snapshot's columns), with the
    counts of each side; a column the snapshot has and the model lacks is a difference, a column the
    model gained is only reported."""
    bad = []
    for name in names:
        path = snap / f"{name}.parquet"
        if not path.exists():
            bad.append(f"{name}: not in snapshot")
            continue
        src = f"read_parquet('{path}')"
        want, have = _columns(con, src), _columns(con, name)
        if lost := [c for c in want if c not in have]:
            bad.append(f"{name}: columns missing {lost}")
            continue
        if added := [c for c in have if c not in want]:
            print(f"note {name}: new columns {added} (not compared)")
        cols = ", ".join(f'"{c}"' for c in want)
        mine, saved = f"SELECT {cols} FROM {name}", f"SELECT {cols} FROM {src}"
        extra = con.execute(f"SELECT count(*) FROM ({mine} EXCEPT ALL {saved})").fetchone()[0]
        missing = con.execute(f"SELECT count(*) FROM ({saved} EXCEPT ALL {mine})").fetchone()[0]
        if extra or missing:
            bad.append(f"{name}: {extra} row(s) not in snapshot, {missing} snapshot row(s) missing")
    return bad


def time_stage(warehouse: Path, settings: Settings, school_year: str, runs: int) -> list[dict[str, float]]:
    """Run the `sql_models` step through Dagster `runs` times on `warehouse` (a copy); per run: the step's
    duration from the event log, the process CPU, and the seconds of its parts."""
    import dagster as dg

    import pipelines.assets.models as model_assets
    from pipelines.definitions import YEAR_JOB, build_definitions
    from pipelines.sensors import step_seconds_of

    parts: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    # wrap the names the asset module imported (the step looks them up there at run time)
    targets = [(model_assets, "build_models", "build")]
    originals = [(module, attr, getattr(module, attr)) for module, attr, _ in targets]
    for module, attr, label in targets:
        setattr(module, attr, timed(label, getattr(module, attr)))
    out: list[dict[str, float]] = []
    try:
        job = build_definitions(settings.model_copy(update={"warehouse": warehouse})).resolve_job_def(
            YEAR_JOB
        )
        keys = [dg.AssetKey(n) for n in discover()]
        for _ in range(runs):
            con = connect(warehouse, None, None)
            con.execute(STATE_DDL)
            # forget the year's last build: this run rebuilds the year
            con.execute("DELETE FROM ops_model_partitions WHERE school_year = ?", [school_year])
            con.close()
            parts.clear()
            with dg.DagsterInstance.ephemeral() as instance:
                c0 = time.process_time()
                res = job.execute_in_process(
                    partition_key=school_year,
                    instance=instance,
                    asset_selection=keys,
                    run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                )
                cpu = time.process_time() - c0
                step = step_seconds_of(instance, res.run_id)["sql_models"]
            out.append({"step_s": step, "process_cpu_s": cpu, "build_s": parts.get("build", 0.0)})
            out[-1]["rest_s"] = step - out[-1]["build_s"]
    finally:
        for module, attr, fn in originals:
            setattr(module, attr, fn)
    return out


def time_year(
    con: duckdb.DuckDBPyConnection, models: dict, school_year: str, runs: int
) -> tuple[float, float, list]:
    """Best wall and CPU of `runs` builds of one year (`build_models` with the year; its recorded
    fingerprints forgotten before each, so every partitioned table has the year's rows replaced), and
    what the best one did per model."""
    con.execute(STATE_DDL)
    build_models(con, models, None, school_year)  # records the SQL each table is built whole with
    best: tuple[float, float, list] | None = None
    for _ in range(runs):
        con.execute("DELETE FROM ops_model_partitions WHERE school_year = ?", [school_year])
        t0, c0 = time.perf_counter(), time.process_time()
        built = build_models(con, models, None, school_year)
        cur = (time.perf_counter() - t0, time.process_time() - c0, built)
        best = cur if best is None or cur[0] < best[0] else best
    assert best is not None
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--repeat", type=int, default=1, help="build the models this many times (best kept)")
    ap.add_argument("--save", type=Path, help="write every model (tables and views) as Parquet here")
    ap.add_argument("--compare", type=Path, help="compare every model in this snapshot with it")
    ap.add_argument(
        "--stage", type=int, default=0, help="also run the Dagster step sql_models this many times"
    )
    ap.add_argument("--year", default="2024-2025", help="school year (partition) of the --stage runs")
    args = ap.parse_args()
    s = get_settings()
    models = discover()
    with tempfile.TemporaryDirectory(prefix="cds_models_") as tmp:
        copy = Path(tmp) / "wh.duckdb"
        shutil.copy(args.warehouse, copy)
        scan = one_scan(copy, s.duckdb_threads)
        con = connect(copy, None, None)
        con.execute(f"SET threads = {int(s.duckdb_threads)}")
        con.execute("SET memory_limit = ?", [s.duckdb_memory_limit])
        best: dict[str, tuple[float, float]] = {}
        totals = []
        for _ in range(max(1, args.repeat)):
            # per model: wall and CPU (process time: every DuckDB thread included), as build_models does it
            t0, c0 = time.perf_counter(), time.process_time()
            con.execute("BEGIN TRANSACTION")
            drop_changed_kinds(con, list(models.values()))
            for name in run_order(models):
                m0, mc0 = time.perf_counter(), time.process_time()
                build_model(con, models[name])
                cur = (time.perf_counter() - m0, time.process_time() - mc0)
                best[name] = min(best.get(name, cur), cur)
            m0, mc0 = time.perf_counter(), time.process_time()
            con.execute("COMMIT")
            cur = (time.perf_counter() - m0, time.process_time() - mc0)
            best["(commit)"] = min(best.get("(commit)", cur), cur)
            totals.append((time.perf_counter() - t0, time.process_time() - c0))
        wall, cpu = min(totals)
        c0 = time.process_time()
        for _ in range(3):
            con.execute(scan["sql"]).fetchall()
        scan_cpu = (time.process_time() - c0) / 3
        print(
            f"scan {scan.get('table')} ({scan.get('rows')} rows): wall {scan.get('scan_s')} s, cpu "
            f"{scan_cpu:.3f} s"
        )
        print(
            f"models: wall {wall:.3f} s ({wall / scan['scan_s']:.1f}× scan), "
            f"cpu {cpu:.3f} s ({cpu / scan_cpu:.1f}× scan cpu)"
        )
        print("  wall s    cpu s  model")
        for name, (w, c) in sorted(best.items(), key=lambda kv: -kv[1][1])[:15]:
            print(f"  {w:6.3f}  {c:7.3f}  {name}")
        year_wall = time_year(con, models, args.year, max(1, args.repeat))
        print(
            f"models of {args.year} only: wall {year_wall[0]:.3f} s "
            f"({year_wall[0] / scan['scan_s']:.1f}× scan), "
            f"cpu {year_wall[1]:.3f} s ({year_wall[1] / scan_cpu:.1f}× scan cpu); slowest:"
        )
        for b in sorted(year_wall[2], key=lambda b: -b.seconds)[:10]:
            print(f"  {b.seconds:6.3f}  {b.how:<7} {b.name}")
        if args.stage:
            con.close()
            runs = time_stage(copy, s, args.year, args.stage)
            for i, r in enumerate(runs):
                print(
                    f"stage run {i + 1}: step {r['step_s']:.3f} s "
                    f"({r['step_s'] / scan['scan_s']:.1f}× scan), "
                    f"process cpu {r['process_cpu_s']:.3f} s; "
                    f"build {r['build_s']:.3f} s, rest (connect, Dagster events) {r['rest_s']:.3f} s"
                )
            con = connect(copy, None, None)
        names = _saved(models)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            for name in names:
                con.execute(f"COPY {name} TO '{args.save / (name + '.parquet')}' (FORMAT parquet)")
            print(f"saved {len(names)} models to {args.save}")
        if args.compare:  # every model in the snapshot, whatever its kind now
            names = [n for n in run_order(models) if (args.compare / f"{n}.parquet").exists()]
            bad = compare(con, names, args.compare)
            for b in bad:
                print("DIFF", b)
            print(f"compared {len(names)} models: {'IDENTICAL' if not bad else 'DIFFERENT'}")
            con.close()
            return 1 if bad else 0
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
