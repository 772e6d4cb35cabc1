"""Baselines measured in the same bench run on the same files: reader throughput (the connector vs
fastexcel → Arrow, python-calamine → Python rows, pandas.read_excel) and one DuckDB scan of the
largest raw table (vs the SQL models stage).
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
        frames = pd.read_excel(path, sheet_name=None, header=None, engine="xlrd",
                               engine_kwargs={"logfile": io.StringIO()})  # fmt: skip
    return sum(len(f) for f in frames.values())


def read_connector_grids(path: Path) -> int:
    """The connector's reader alone (`connectors.readers.read_grids`: fastexcel → text grids)."""
    from connectors.readers import read_grids

    return sum(len(g.cells) for g in read_grids(path))


def connector_parse(inbox: Path, warehouse: Path | None) -> Reader:
    """The connector's read + layout detection + parse of one file (`connectors.filedrop.parse_file`,
    everything of ingest but the DuckDB writes), with the school lists of the benchmark's warehouse."""
    from connectors.filedrop import delivery_of, parse_file, school_names, school_platforms
    from connectors.layouts import load_layouts
    from connectors.sheet_parser import ParseContext

    names: dict[str, str] = {}
    platforms: dict[str, str] = {}
    if warehouse is not None and warehouse.exists():
        import duckdb

        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            names, platforms = school_names(con), school_platforms(con)
        except duckdb.Error:
            pass
        finally:
            con.close()
    layouts = load_layouts()

    def read(path: Path) -> int:
        rel = path.relative_to(inbox).as_posix()
        fy, fs = delivery_of(Path(rel))
        ctx = ParseContext(file=rel, folder_year=fy, folder_school=fs, school_names=names,
                           platform_by_school=platforms)  # fmt: skip
        res = parse_file(path, rel, ctx, layouts)
        return res.rows_read

    return read


def time_reader(name: str, reader: Reader, files: list[Path], repeat: int = 1) -> dict[str, Any]:
    """Best-of-`repeat` wall time of one reader over all files (rows from the last pass)."""
    best = float("inf")
    rows = 0
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        rows = sum(reader(p) for p in files)
        best = min(best, time.perf_counter() - t0)
    nbytes = sum(p.stat().st_size for p in files)
    return {"reader": name, "files": len(files), "seconds": round(best, 3), "rows": rows,
            "mb_per_s": rate(nbytes / MIB, best), "rows_per_s": rate(rows, best)}  # fmt: skip


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


def measure_readers(
    inbox: Path, files: list[Path], warehouse: Path | None, repeat: int = 1
) -> dict[str, Any]:
    """Throughput of each reader on the same Excel files and the connector's ratios to the others."""
    excel = [p for p in files if p.suffix.lower() in (".xlsx", ".xls", ".xlsm")]
    parse = connector_parse(inbox, warehouse)
    readers: dict[str, Reader] = {
        "connector parse_file (read+detect+parse)": parse,
        "connector read_grids (reader only)": read_connector_grids,
        "fastexcel → Arrow (floor)": read_fastexcel,
        "python-calamine to_python": read_calamine,
        "pandas.read_excel (openpyxl; xlrd for .xls)": read_pandas,
    }
    # parse_file never raises (a bad file is quarantined): check the others, which also warms the cache
    common, skipped = usable_files(excel, {k: v for k, v in readers.items() if v is not parse})
    timed = [time_reader(n, r, common, repeat) for n, r in readers.items()]
    by = {t["reader"]: t for t in timed}
    conn = by["connector parse_file (read+detect+parse)"]["mb_per_s"]
    floor = by["fastexcel → Arrow (floor)"]["mb_per_s"]
    pandas_mbs = by["pandas.read_excel (openpyxl; xlrd for .xls)"]["mb_per_s"]
    calamine = by["python-calamine to_python"]["mb_per_s"]
    return {
        "files": len(common),
        "bytes": sum(p.stat().st_size for p in common),
        "skipped": skipped,
        "connector": "parse_file",
        "connector_mb_per_s": conn,
        "readers": timed,
        "connector_vs_fastexcel": conn / floor if conn and floor else None,
        "connector_vs_calamine": conn / calamine if conn and calamine else None,
        "connector_vs_pandas": conn / pandas_mbs if conn and pandas_mbs else None,
    }


def one_scan(warehouse: Path, threads: int, repeat: int = 3) -> dict[str, Any]:
    """Best-of-`repeat` time of one full read of the largest raw_* table: count(*) and the sum of the
    hash of every column (so every column is read and decoded)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(f"SET threads = {int(threads)}")
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'raw\\_%' ESCAPE '\\' "
            "AND schema_name = 'main'"
        ).fetchall()
        if not tables:
            return {}
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for (t,) in tables}  # type: ignore[index]
        table = max(counts, key=lambda t: counts[t])
        ncols = len(con.execute(f'SELECT * FROM "{table}" LIMIT 0').description or [])
        sql = f'SELECT count(*), sum(hash(COLUMNS(*))) FROM "{table}"'
        best = float("inf")
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            con.execute(sql).fetchall()
            best = min(best, time.perf_counter() - t0)
    finally:
        con.close()
    return {"table": table, "rows": counts[table], "columns": ncols, "scan_s": round(best, 4), "sql": sql}
