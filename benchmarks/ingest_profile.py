"""Time (and optionally profile) the file-drop ingest on an inbox, dump its results and compare them
with a golden dump. A script, not a test.

    python benchmarks/ingest_profile.py --inbox sample_exports/inbox --year 2024-2025
    python benchmarks/ingest_profile.py --inbox sample_exports/inbox --dump GOLDEN_DIR        # both years
    python benchmarks/ingest_profile.py --inbox sample_exports/inbox --compare GOLDEN_DIR
    python benchmarks/ingest_profile.py --inbox sample_exports/inbox --year 2024-2025 --profile
    python benchmarks/ingest_profile.py --inbox sample_exports/inbox --year 2024-2025 --floor

The dump holds every raw_* table, dq_quarantine_rows, ingest_warnings, ingest_manifest and ingest_events
without the columns that vary per run (timestamps, run ids), sorted, one parquet file per table.
`--compare` ingests the same years, dumps to a temporary folder and reports the rows that differ.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

import duckdb

from warehouse.connection import connect

ROOT = Path(__file__).resolve().parents[1]  # the checkout: its out/ and sample inbox


VOLATILE = {"ingested_at", "run_id", "recorded_at", "event_at"}
EXTRA_TABLES = ("dq_quarantine_rows", "ingest_warnings", "ingest_manifest", "ingest_events")
DEFAULT_YEARS = ("2023-2024", "2024-2025")


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        ).fetchall()
    ]
    return [n for n in names if n.startswith("raw_") or n in EXTRA_TABLES]


def stable_select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in VOLATILE]
    sel = ", ".join(f'"{c}"' for c in cols)
    return f"SELECT {sel} FROM {table} ORDER BY ALL"


def dump(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for t in tables(con):
        con.execute(f"COPY ({stable_select(con, t)}) TO '{out / (t + '.parquet')}' (FORMAT parquet)")


def compare(golden: Path, current: Path, show: int = 5) -> int:
    """Number of tables that differ (rows in one dump and not the other, as multisets)."""
    con = connect(":memory:", None, None)
    g_names = {p.stem for p in golden.glob("*.parquet")}
    c_names = {p.stem for p in current.glob("*.parquet")}
    bad = 0
    for name in sorted(g_names ^ c_names):
        print(f"  {name}: only in {'golden' if name in g_names else 'current'}")
        bad += 1
    for name in sorted(g_names & c_names):
        g, c = f"read_parquet('{golden / name}.parquet')", f"read_parquet('{current / name}.parquet')"
        g_cols = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {g}").fetchall()]
        c_cols = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {c}").fetchall()]
        if g_cols != c_cols:
            print(f"  {name}: columns differ\n    golden  {g_cols}\n    current {c_cols}")
            bad += 1
            continue
        n_g = con.execute(f"SELECT count(*) FROM {g}").fetchone()[0]
        missing = con.execute(f"SELECT * FROM (SELECT * FROM {g} EXCEPT ALL SELECT * FROM {c})").df()
        extra = con.execute(f"SELECT * FROM (SELECT * FROM {c} EXCEPT ALL SELECT * FROM {g})").df()
        if len(missing) or len(extra):
            bad += 1
            print(f"  {name}: {n_g} golden rows, {len(missing)} missing, {len(extra)} extra")
            if len(missing):
                print("    missing:\n" + missing.head(show).to_string(max_colwidth=60))
            if len(extra):
                print("    extra:\n" + extra.head(show).to_string(max_colwidth=60))
        else:
            print(f"  {name}: {n_g} rows identical")
    return bad


def _cpu() -> float:
    """CPU seconds of this process and its finished children (wall time is unreliable on a shared box)."""
    import resource

    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def run_ingest(
    inbox: Path,
    years: list[str],
    db: str,
    workers: int | None,
    profile: bool,
    profile_out: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    from connectors import filedrop, raw_store

    con = raw_store.connect(db)
    kwargs = {}
    if workers is not None and "workers" in filedrop.ingest_inbox.__code__.co_varnames:
        kwargs["workers"] = workers
    prof = cProfile.Profile() if profile else None
    # forkserver pool workers are not children of this process: their CPU is not in RUSAGE_CHILDREN
    pooled = (filedrop.INGEST_WORKERS if workers is None else workers) > 1
    cpu_scope = "of this process only: pool workers not counted" if pooled else "single process"
    total_rows = 0
    for school_year in years:
        files = list(filedrop.iter_inbox(inbox, school_year))
        mb = sum(p.stat().st_size for p in files) / 1e6
        t0 = time.perf_counter()
        c0 = _cpu()
        if prof:
            prof.enable()
        s = filedrop.ingest_inbox(con, inbox, school_year, hash_key="test", **kwargs)
        if prof:
            prof.disable()
        dt_ = time.perf_counter() - t0
        cpu = _cpu() - c0
        records = getattr(s, "records_written", s.rows_kept)  # older code counted records in rows_kept
        total_rows += records
        print(
            f"{school_year}: {len(files)} files, {mb:.2f} MB, {records} records written "
            f"({s.rows_kept} source rows "
            f"kept, {s.rows_rejected} rejected), {dt_:.2f} s wall ({cpu:.2f} s CPU {cpu_scope}) → "
            f"{records / dt_:,.0f} records/s, {mb / dt_:.2f} MB/s"
        )
    if prof and profile_out:
        prof.dump_stats(str(profile_out))
    if prof:
        buf = io.StringIO()
        st = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
        st.print_stats(45)
        st.sort_stats("tottime").print_stats(30)
        print(buf.getvalue())
    return con


def floor(inbox: Path, years: list[str], openpyxl: bool) -> None:
    """fastexcel → Arrow of every sheet (no processing), and pandas.read_excel(openpyxl)."""
    import fastexcel
    import pandas as pd

    from connectors import filedrop

    files = [p for y in years for p in filedrop.iter_inbox(inbox, y) if p.suffix.lower() in (".xlsx", ".xls")]
    t0 = time.perf_counter()
    c0 = _cpu()
    for p in files:
        try:
            r = fastexcel.read_excel(str(p))
        except Exception:
            continue
        for name in r.sheet_names:
            with contextlib.suppress(Exception):
                r.load_sheet(name, header_row=None, dtypes="string").to_arrow()
    t_fx = time.perf_counter() - t0
    print(f"fastexcel→Arrow floor: {len(files)} excel files, {t_fx:.2f} s wall ({_cpu() - c0:.2f} s CPU)")
    if openpyxl:
        t0 = time.perf_counter()
        c0 = _cpu()
        for p in files:
            if p.suffix.lower() != ".xlsx":
                continue
            with contextlib.suppress(Exception):
                pd.read_excel(p, sheet_name=None, header=None, dtype=str, engine="openpyxl")
        print(
            f"pandas.read_excel(openpyxl): {time.perf_counter() - t0:.2f} s wall ({_cpu() - c0:.2f} s CPU), "
            "xlsx only"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inbox", type=Path, default=ROOT / "sample_exports" / "inbox")
    ap.add_argument("--year", action="append", help="delivery year (repeatable); default both sample years")
    ap.add_argument("--db", default=None, help="DuckDB file (default: a fresh temporary file)")
    ap.add_argument("--workers", type=int, default=None, help="parse workers (0/1 = sequential)")
    ap.add_argument("--profile", action="store_true", help="cProfile the ingest")
    ap.add_argument("--profile-out", type=Path, help="with --profile: also write the pstats file here")
    ap.add_argument("--dump", type=Path, help="write the stable dump here (e.g. the golden baseline)")
    ap.add_argument("--compare", type=Path, help="compare with a golden dump (ingests both years by default)")
    ap.add_argument("--floor", action="store_true", help="time fastexcel→Arrow of the same files")
    ap.add_argument("--openpyxl", action="store_true", help="with --floor: also pandas.read_excel(openpyxl)")
    args = ap.parse_args()
    years = args.year or list(DEFAULT_YEARS)
    if args.floor:
        floor(args.inbox, years, args.openpyxl)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "ingest.duckdb")
        con = run_ingest(args.inbox, years, db, args.workers, args.profile, args.profile_out)
        if args.dump:
            dump(con, args.dump)
            print(f"dump written to {args.dump}")
        if args.compare:
            cur = Path(tmp) / "current"
            dump(con, cur)
            bad = compare(args.compare, cur)
            print("EQUIVALENT" if bad == 0 else f"DIFFERENT: {bad} table(s)")
            return 1 if bad else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
