"""Pure helpers of the benchmark: growth exponent, the deterministic 5% sample, the cache key, the
Markdown tables and the target verdicts. No I/O, no timing; unit-tested in tests/unit/test_bench_smoke.py.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

STAGES: tuple[str, ...] = ("ingest", "validate", "models", "scoring", "reconcile", "exports")
MIB = 1024 * 1024
GIB = 1024 * MIB

# Targets of issue 9.
TARGET_MOUNTAIN_COLD_S = 15 * 60
TARGET_MOUNTAIN_PEAK_BYTES = 4 * GIB
TARGET_INCREMENTAL_SHARE = 0.10
TARGET_FLOOR_SHARE = 0.5
TARGET_PANDAS_MULTIPLE = 10.0
TARGET_MARTS_VS_SCAN = 2.0
TARGET_GROWTH = 1.1
# Targets of issue 18 (one parsing core).
TARGET18_MOUNTAIN_COLD_S = 2.5 * 60
TARGET18_MOUNTAIN_PEAK_BYTES = 2 * GIB


def growth_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float | None:
    """Least-squares slope of log(seconds) against log(size): 1.0 is linear growth.

    None when fewer than two distinct positive sizes (with positive times) are given.
    """
    pts = [(math.log(x), math.log(y)) for x, y in zip(sizes, seconds, strict=True) if x > 0 and y > 0]
    if len({p[0] for p in pts}) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
    return sxy / sxx


def n_to_change(total: int, fraction: float) -> int:
    """How many of `total` files a `fraction` change touches: rounded up, at least one (if any)."""
    if total <= 0 or fraction <= 0:
        return 0
    return min(total, max(1, math.ceil(total * fraction - 1e-9)))


def select_sample(candidates: Iterable[str], n: int, seed: int) -> list[str]:
    """A deterministic pick of `n` names: ordered by sha256(seed:name), independent of input order."""
    ranked = sorted(set(candidates), key=lambda name: hashlib.sha256(f"{seed}:{name}".encode()).hexdigest())
    return sorted(ranked[: max(0, n)])


def cache_key(preset: str, seed: int, years: Sequence[str], messiness: float, generator_tree: str) -> str:
    """Folder name of a cached generated inbox; changes whenever an input or the generator code does."""
    yrs = "+".join(years)
    return f"{preset}-s{seed}-y{yrs}-m{messiness:g}-g{generator_tree[:24]}"


def rate(amount: float, seconds: float | None) -> float | None:
    """amount / seconds, or None when the time is missing or zero."""
    if not seconds or seconds <= 0:
        return None
    return amount / seconds


def fmt_num(value: float | None, digits: int = 1) -> str:
    """A number for a table: thousands separators for large values, '—' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def fmt_mib(nbytes: float | None) -> str:
    """Bytes as MiB for a table."""
    return "—" if nbytes is None else f"{nbytes / MIB:,.0f}"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; columns after the first are right-aligned."""
    body = [[str(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in body:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))

    def line(cells: Sequence[str]) -> str:
        out = [c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)]
        return "| " + " | ".join(out) + " |"

    sep = (
        "|"
        + "|".join(("-" * (w + 1) + ":" if i else ":" + "-" * (w + 1)) for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([line(list(headers)), sep, *(line(r) for r in body)])


def stage_rows(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per-stage figures of one run result (see `child.py`): seconds, rows/s, MB/s, peak RSS.

    Throughput is the run's input over the stage's wall time: for `ingest` the rows loaded and the
    bytes of the files (re)ingested in this run, for later stages the rows kept for the year and the
    bytes of the year's inbox (every later stage recomputes the whole year).
    """
    stages: Mapping[str, float] = run.get("stage_seconds", {})
    peaks: Mapping[str, int] = run.get("stage_peak_rss_bytes", {})
    out = []
    order = [s for s in STAGES if s in stages] + sorted(s for s in stages if s not in STAGES)
    for s in order:
        secs = float(stages[s])
        if s == "ingest":
            rows, nbytes = run.get("rows_loaded", 0), run.get("bytes_ingested", 0)
        else:
            rows, nbytes = run.get("rows_kept", 0), run.get("input_bytes", 0)
        out.append(
            {
                "stage": s,
                "seconds": secs,
                "rows_per_s": rate(rows, secs),
                "mb_per_s": rate(nbytes / MIB, secs),
                "peak_rss_bytes": peaks.get(s),
            }
        )
    return out


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "NOT met")


def evaluate_targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target of issues 9 and 18 with its figure and verdict (met / NOT met / not measured)."""
    sizes: Mapping[str, Any] = results.get("sizes", {})
    out: list[dict[str, Any]] = []

    mountain = sizes.get("province-mountain", {}).get("cold")
    if mountain and mountain.get("ok"):
        wall, peak = mountain["wall_s"], mountain["peak_rss_bytes"]
        ok = wall < TARGET_MOUNTAIN_COLD_S and peak < TARGET_MOUNTAIN_PEAK_BYTES
        fig = f"{wall / 60:.1f} min, peak {peak / GIB:.2f} GiB"
    else:
        ok, fig = None, "not run"
        est = results.get("mountain_estimate_s")
        if est:
            fig += f" (extrapolated by school count: ≈ {est / 60:.0f} min)"
    out.append({"target": "province-mountain cold < 15 min & peak < 4 GiB", "figure": fig, "met": ok})
    ok18 = None if ok is None else wall <= TARGET18_MOUNTAIN_COLD_S and peak <= TARGET18_MOUNTAIN_PEAK_BYTES
    out.append(
        {"target": "province-mountain cold ≤ 2.5 min & peak ≤ 2 GiB (issue 18)", "figure": fig, "met": ok18}
    )

    shares = []
    for name, s in sizes.items():
        cold, inc = s.get("cold"), s.get("incremental")
        if cold and inc and cold.get("ok") and inc.get("ok"):
            shares.append((name, inc["wall_s"] / cold["wall_s"]))
    if shares:
        fig = ", ".join(f"{n} {v:.0%}" for n, v in shares)
        out.append(
            {
                "target": "incremental 5% < 10% of cold",
                "figure": fig,
                "met": all(v < TARGET_INCREMENTAL_SHARE for _, v in shares),
            }
        )
    else:
        out.append({"target": "incremental 5% < 10% of cold", "figure": "not run", "met": None})

    r = results.get("ratios") or {}
    floor, pandas_x = r.get("connector_vs_fastexcel"), r.get("connector_vs_pandas")
    pool_floor, pool_pandas = r.get("pool_vs_fastexcel"), r.get("pool_vs_pandas")
    out.append(
        {
            "target": "ingest ≥ 0.5× fastexcel floor",
            "figure": f"{_x(floor)} (1 process; 2-process pool: {_x(pool_floor)})",
            "met": None if floor is None else floor >= TARGET_FLOOR_SHARE,
        }
    )
    out.append(
        {
            "target": "ingest ≥ 10× pandas+openpyxl",
            "figure": f"{_x(pandas_x)} (1 process; 2-process pool: {_x(pool_pandas)})",
            "met": None if pandas_x is None else pandas_x >= TARGET_PANDAS_MULTIPLE,
        }
    )

    scans = [
        (n, s["scan"]["marts_vs_scan"], s["scan"].get("floor_vs_scan"))
        for n, s in sizes.items()
        if s.get("scan", {}).get("marts_vs_scan")
    ]
    if scans:
        fig = ", ".join(f"{n} {v:.1f}×" + (f" (marks fold alone {f:.1f}×)" if f else "") for n, v, f in scans)
        out.append(
            {
                "target": "marts ≤ 2× one scan",
                "figure": fig,
                "met": all(v <= TARGET_MARTS_VS_SCAN for _, v, _f in scans),
            }
        )
    else:
        out.append({"target": "marts ≤ 2× one scan", "figure": "not measured", "met": None})

    out += structure_targets(results.get("structure"))
    g = (results.get("growth") or {}).get("exponent_vs_mb")
    fig = "needs ≥ 2 sizes" if g is None else f"{g:.2f} (wall time vs input MB)"
    out.append(
        {"target": "growth exponent ≤ 1.1", "figure": fig, "met": None if g is None else g <= TARGET_GROWTH}
    )
    for t in out:
        t["verdict"] = _verdict(t["met"])
    return out


def structure_targets(st: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The connectors' structure targets of issue 18 from `benchmarks.structure.measure_structure`."""
    if not st:
        names = (
            "connectors: no function > 60 lines",
            "connectors: no module > 500 lines",
            "connectors: mypy clean",
        )
        return [{"target": n, "figure": "not measured", "met": None} for n in names]
    fns, mods, mypy = st.get("long_functions", []), st.get("long_modules", []), st.get("mypy") or {}

    def worst(items: list, unit: str) -> str:
        shown = ", ".join(f"{name} {n}" for name, n in items[:3])
        return (
            f"{len(items)} over ({shown}{', …' if len(items) > 3 else ''} {unit})" if items else "none over"
        )

    out = [
        {"target": "connectors: no function > 60 lines", "figure": worst(fns, "lines"), "met": not fns},
        {"target": "connectors: no module > 500 lines", "figure": worst(mods, "lines"), "met": not mods},
    ]
    if mypy.get("ran"):
        fig = f"{mypy['errors']} errors in {len(mypy.get('files', []))} files"
        out.append({"target": "connectors: mypy clean", "figure": fig, "met": mypy["errors"] == 0})
    else:
        out.append(
            {
                "target": "connectors: mypy clean",
                "figure": f"not run: {mypy.get('why', '')}"[:120],
                "met": None,
            }
        )
    return out


def _x(v: float | None) -> str:
    return "not measured" if v is None else f"{v:.3g}×"


def render_markdown(results: Mapping[str, Any]) -> str:
    """The short Markdown report (out/bench/results.md)."""
    meta = results.get("meta", {})
    parts = [
        f"# cds-bench — {meta.get('commit', '?')[:10]}{' (dirty)' if meta.get('dirty') else ''}, "
        f"{meta.get('date', '')}, {meta.get('cpus', '?')} CPUs, load {meta.get('load', '?')}",
        "",
    ]
    sizes: Mapping[str, Any] = results.get("sizes", {})

    rows = []
    for name, s in sizes.items():
        inp = s.get("inbox", {})
        for kind in ("cold", "incremental"):
            run = s.get(kind)
            if not run:
                continue
            label = f"{name} {kind}"
            for st in stage_rows(run):
                rows.append(
                    [
                        label,
                        st["stage"],
                        fmt_num(st["seconds"]),
                        fmt_num(st["rows_per_s"], 0),
                        fmt_num(st["mb_per_s"], 3),
                        fmt_mib(st["peak_rss_bytes"]),
                    ]
                )
            status = "" if run.get("ok") else f" ({run.get('status')})"
            if run.get("workers_maxrss_bytes"):
                status += f" (+ worker ≤ {fmt_mib(run['workers_maxrss_bytes'])} MiB each)"
            rows.append(
                [
                    label,
                    f"**total**{status}",
                    fmt_num(run.get("wall_s")),
                    fmt_num(rate(run.get("rows_kept", 0), run.get("wall_s")), 0),
                    fmt_num(rate(inp.get("bytes", 0) / MIB, run.get("wall_s")), 3),
                    fmt_mib(run.get("peak_rss_bytes")),
                ]
            )
    if rows:
        parts += [
            "## Stages (wall s, rows/s, MB/s, peak RSS MiB)",
            "",
            markdown_table(["run", "stage", "wall s", "rows/s", "MB/s", "peak MiB"], rows),
            "",
        ]

    inputs = [
        [
            n,
            s["inbox"]["files"],
            f"{s['inbox']['bytes'] / MIB:.1f}",
            fmt_num(s.get("cold", {}).get("rows_kept"), 0),
            s["inbox"].get("schools", "—"),
        ]
        for n, s in sizes.items()
        if s.get("inbox")
    ]
    if inputs:
        parts += [
            "## Inputs (one school year)",
            "",
            markdown_table(["size", "files", "MB", "rows", "schools"], inputs),
            "",
        ]

    r = results.get("ratios") or {}
    if r.get("readers"):
        rr = [
            [
                x["reader"],
                x["files"],
                fmt_num(x["seconds"]),
                fmt_num(x["mb_per_s"], 2),
                fmt_num(x["rows_per_s"], 0),
                _x(r["connector_mb_per_s"] / x["mb_per_s"]) if x["mb_per_s"] else "—",
            ]
            for x in r["readers"]
        ]
        parts += [
            f"## Readers on the same {r.get('files', 0)} Excel files of `{r.get('size')}` "
            f"({r.get('bytes', 0) / MIB:.1f} MB; connector = `{r.get('connector')}`)",
            "",
            markdown_table(["reader", "files", "s", "MB/s", "rows/s", "connector ÷ reader"], rr),
            "",
        ]

    scans = [
        [
            n,
            s["scan"]["table"],
            fmt_num(s["scan"]["rows"], 0),
            fmt_num(s["scan"]["scan_s"], 3),
            fmt_num(s["scan"]["marts_s"]),
            fmt_num(s["scan"].get("marts_vs_scan")),
            fmt_num(s["scan"].get("floor_s"), 3),
            fmt_num(s["scan"].get("floor_vs_scan")),
        ]
        for n, s in sizes.items()
        if s.get("scan")
    ]
    if scans:
        parts += [
            "## Marts (models stage) vs one scan of the largest raw table",
            "",
            markdown_table(
                ["size", "table", "rows", "scan s", "models s", "ratio", "marks fold alone s", "fold ÷ scan"],
                scans,
            ),
            "",
        ]

    g = results.get("growth") or {}
    if g:
        parts += [
            "Growth exponent (log-log slope of cold wall time): vs MB "
            f"{fmt_num(g.get('exponent_vs_mb'), 2)}, "
            f"vs rows {fmt_num(g.get('exponent_vs_rows'), 2)} over {', '.join(g.get('sizes', []))}.",
            "",
        ]

    tg = results.get("targets") or []
    if tg:
        parts += [
            "## Targets",
            "",
            markdown_table(
                ["target", "figure", "verdict"], [[t["target"], t["figure"], t["verdict"]] for t in tg]
            ),
            "",
        ]
    notes = results.get("notes") or []
    if notes:
        parts += ["## Method", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(parts)
