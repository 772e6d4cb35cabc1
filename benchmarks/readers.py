"""Baselines measured in the same bench run on the same files: reader throughput (the connector vs
fastexcel → Arrow, python-calamine → Python rows, pandas.read_excel), one DuckDB scan of the
largest raw table (vs the SQL models stage) and, next to it, the one aggregation of that table the
models cannot do without (the grade-book marks folded per student and subject for 2.3.3).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.core import MIB, rate

Reader = Callable[[Path], int]  # reads every sheet of a file, returns the rows read


def read_fastexcel(path: Path) -> int:
    """The floor: every sheet straight into Arrow (no header row, default type inference)."""
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    rows = 0
    for name in reader.sheet_names:
        try:
            rows += reader.load_sheet(name, header_row=None).to_arrow().num_rows
        except Exception as exc:  # an empty sheet
            if "empty" not in str(exc).lower():
                raise
    return rows


def read_calamine(path: Path) -> int:
    """python-calamine: every sheet as Python lists of cells."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return sum(len(wb.get_sheet_by_index(i).to_python()) for i in range(len(wb.sheet_names)))


def read_pandas(path: Path) -> int:
    """What a user would otherwise write: pandas.read_excel of every sheet (openpyxl for .xlsx; pandas'
    default xlrd for .xls, which openpyxl cannot read)."""
    import pandas as pd

    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frames = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    else:  # xlrd logs to stdout unless given a log file
        frames = pd.read_excel(
            path, sheet_name=None, header=None, engine="xlrd", engine_kwargs={"logfile": io.StringIO()}
        )
    return sum(len(f) for f in frames.values())


def read_connector_grids(path: Path) -> int:
    """The connector's reader alone (`connectors.readers.read_grids`: fastexcel → text grids)."""
    from connectors.readers import read_grids

    return sum(len(g.cells) for g in read_grids(path))


def copy_inbox(inbox: Path, files: list[Path], dest: Path) -> Path:
    """The given files of an inbox copied to `dest` with their relative paths (so that the connector's
    delivery folders and school registry work), once per measurement."""
    import shutil

    shutil.rmtree(dest, ignore_errors=True)
    for p in files:
        target = dest / p.relative_to(inbox)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
    return dest


def time_connector(
    inbox: Path,
    files: list[Path],
    school_year: str,
    work: Path,
    workers: int,
    repeat: int = 1,
    label: str = "",
) -> dict[str, Any]:
    """The connector as the pipeline runs it: `connectors.filedrop.ingest_inbox` on a fresh DuckDB file over
    a copy of the files (read, layout detection, parse and normalise in batches, load into DuckDB, manifest),
    with `workers` parse processes (0: all in this process). Best of `repeat`; `cpu_s` counts this process
    and its finished children."""
    import os

    from connectors import filedrop, raw_store

    src = copy_inbox(inbox, files, work / "inbox")
    best: dict[str, Any] = {}
    for _ in range(max(1, repeat)):
        db = work / "ingest.duckdb"
        for f in (db, Path(f"{db}.wal")):
            f.unlink(missing_ok=True)
        con = raw_store.connect(db)
        before = os.times()
        t0 = time.perf_counter()
        summary = filedrop.ingest_inbox(con, src, school_year, hash_key="bench", workers=workers)
        wall = time.perf_counter() - t0
        after = os.times()
        con.close()
        cpu = (
            (after.user - before.user)
            + (after.system - before.system)
            + (after.children_user - before.children_user)
            + (after.children_system - before.children_system)
        )
        if not best or wall < best["seconds"]:
            best = {
                "seconds": wall,
                "cpu_s": cpu,
                "records": summary.records_written,
                "rows": summary.rows_kept,
            }
    nbytes = sum(p.stat().st_size for p in files)
    return {
        "reader": label or f"connector ingest_inbox ({workers or 1} process{'es' if workers > 1 else ''})",
        "files": len(files),
        "seconds": round(best["seconds"], 3),
        "cpu_s": round(best["cpu_s"], 3),
        "rows": best["rows"],
        "records": best["records"],
        "mb_per_s": rate(nbytes / MIB, best["seconds"]),
        "rows_per_s": rate(best["rows"], best["seconds"]),
    }


def best_of(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """(best wall time of `repeat` calls of `run`, the last call's result)."""
    best, result = float("inf"), None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t0)
    return best, result


def time_reader(name: str, reader: Reader, files: list[Path], repeat: int = 1) -> dict[str, Any]:
    """Best-of-`repeat` wall time of one reader over all files (rows from the last pass)."""
    best, rows = best_of(lambda: sum(reader(p) for p in files), repeat)
    nbytes = sum(p.stat().st_size for p in files)
    return {
        "reader": name,
        "files": len(files),
        "seconds": round(best, 3),
        "rows": rows,
        "mb_per_s": rate(nbytes / MIB, best),
        "rows_per_s": rate(rows, best),
    }


def usable_files(files: list[Path], readers: dict[str, Reader]) -> tuple[list[Path], list[str]]:
    """The files every reader can read (one untimed pass, which also warms the page cache); the
    others are listed with the reader that failed."""
    ok, skipped = [], []
    for p in files:
        for name, r in readers.items():
            try:
                r(p)
            except Exception as exc:
                skipped.append(f"{p.name}: {name}: {type(exc).__name__}")
                break
        else:
            ok.append(p)
    return ok, skipped


CONNECTOR = "connector ingest_inbox (1 process)"
CONNECTOR_POOL = "connector ingest_inbox (2 processes)"
FLOOR = "fastexcel → Arrow (floor)"
PANDAS = "pandas.read_excel (openpyxl; xlrd for .xls)"


def measure_readers(
    inbox: Path, files: list[Path], school_year: str, work: Path, repeat: int = 1
) -> dict[str, Any]:
    """Throughput of each reader on the same Excel files and the connector's ratios to the others.

    The connector is timed as the pipeline runs it (read, detect, parse, normalise, load into DuckDB), once
    in one process (the like-for-like comparison with the single-process readers) and once with its pool
    of two parse processes (what a run on this machine gets)."""
    excel = [p for p in files if p.suffix.lower() in (".xlsx", ".xls", ".xlsm")]
    readers: dict[str, Reader] = {
        "connector read_grids (reader only)": read_connector_grids,
        FLOOR: read_fastexcel,
        "python-calamine to_python": read_calamine,
        PANDAS: read_pandas,
    }
    common, skipped = usable_files(excel, readers)  # also warms the page cache
    timed = [
        time_connector(inbox, common, school_year, work, 0, repeat, CONNECTOR),
        time_connector(inbox, common, school_year, work, 2, repeat, CONNECTOR_POOL),
    ]
    timed += [time_reader(n, r, common, repeat) for n, r in readers.items()]
    by = {t["reader"]: t for t in timed}
    conn, pool = by[CONNECTOR]["mb_per_s"], by[CONNECTOR_POOL]["mb_per_s"]
    floor, pandas_mbs = by[FLOOR]["mb_per_s"], by[PANDAS]["mb_per_s"]
    calamine = by["python-calamine to_python"]["mb_per_s"]
    return {
        "files": len(common),
        "bytes": sum(p.stat().st_size for p in common),
        "skipped": skipped,
        "connector": "ingest_inbox, 1 process (read + detect + parse + load into DuckDB)",
        "connector_mb_per_s": conn,
        "readers": timed,
        "connector_vs_fastexcel": conn / floor if conn and floor else None,
        "connector_vs_calamine": conn / calamine if conn and calamine else None,
        "connector_vs_pandas": conn / pandas_mbs if conn and pandas_mbs else None,
        "pool_vs_fastexcel": pool / floor if pool and floor else None,
        "pool_vs_pandas": pool / pandas_mbs if pool and pandas_mbs else None,
    }


#: The least the models must do with the grade-book marks (2.3.3, int_criteria__gradebook): every mark of
#: a component the rule reads, folded per school, year, student and subject into a bit set. No join, no
#: quarantine, no configuration: a lower bound of that model alone, not the model.
MARKS_FLOOR_SQL = """
SELECT count(*), sum(bits) FROM (
    SELECT school_code, school_year, moet_id, student_key, subject_code,
           bit_or(CASE WHEN component = 'tx' AND slot BETWEEN 0 AND 56 THEN 1::BIGINT << slot
                       WHEN component = 'gk' THEN 1::BIGINT << 57 WHEN component = 'ck' THEN 1::BIGINT << 58
                       WHEN component = 'level' THEN 1::BIGINT << 59 ELSE 1::BIGINT << 60 END) AS bits
    FROM raw_grade_entry
    WHERE component IN ('tx', 'gk', 'ck', 'level', 'test_score')
    GROUP BY ALL
)
"""


def one_scan(warehouse: Path, threads: int, repeat: int = 3) -> dict[str, Any]:
    """Best-of-`repeat` time of one full read of the largest raw_* table: count(*) and the sum of the
    hash of every column (so every column is read and decoded); when that table is the grade book,
    also the best time of `MARKS_FLOOR_SQL` (`floor_s`)."""
    from warehouse.connection import connect

    con = connect(warehouse, None, None, read_only=True)
    try:
        con.execute(f"SET threads = {int(threads)}")
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'raw\\_%' ESCAPE '\\' "
            "AND schema_name = 'main'"
        ).fetchall()
        if not tables:
            return {}
        counts = {
            t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # type: ignore[index]
            for (t,) in tables
        }
        table = max(counts, key=lambda t: counts[t])
        ncols = len(con.execute(f'SELECT * FROM "{table}" LIMIT 0').description or [])
        sql = f'SELECT count(*), sum(hash(COLUMNS(*))) FROM "{table}"'
        best, _ = best_of(lambda: con.execute(sql).fetchall(), repeat)
        out = {"table": table, "rows": counts[table], "columns": ncols, "scan_s": round(best, 4), "sql": sql}
        if table == "raw_grade_entry":
            floor, _ = best_of(lambda: con.execute(MARKS_FLOOR_SQL).fetchall(), repeat)
            out.update(floor_s=round(floor, 4), floor_vs_scan=floor / best if best else None)
    finally:
        con.close()
    return out
