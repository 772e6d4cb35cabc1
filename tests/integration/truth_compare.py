"""Compare a pipeline run with the generator's truth (`_truth/` of a generated inbox).

Shared by the truth tests of the committed sample inbox (small preset) and of the medium preset:
run every school year of an inbox into one warehouse, then compare cell by cell the
`out/indicator_values_<year>.csv` files with `_truth/indicator_values.csv`, the computed-side levels
(`score_schools__final`) with `_truth/school_levels.csv` and the findings with `_truth/findings.csv`.
Each comparison returns what differs (and what it compared), so a test can print it and fail on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings

KEYS = ["school_code", "school_year", "criterion_code"]
COLUMNS = ["numerator", "denominator", "value", "points", "status"]
#: Group totals may differ by the rounding of the per-criterion points (2 decimals each).
POINTS_TOLERANCE = 0.011


def run_years(inbox: Path, workdir: Path, years: Iterable[str]) -> tuple[Path, Path]:
    """Run the whole pipeline for each year of `inbox` into `workdir`; returns (warehouse, out dir)."""
    warehouse, out = workdir / "wh.duckdb", workdir / "out"
    for school_year in years:
        settings = get_settings(inbox=inbox, warehouse=warehouse, out=out, school_year=school_year)
        outcome = run_pipeline(settings, force=True)
        assert outcome, f"pipeline run for {school_year} ended {outcome.status}"
    return warehouse, out


def truth_years(truth_dir: Path) -> list[str]:
    """The school years the truth covers."""
    levels = pd.read_csv(truth_dir / "school_levels.csv", dtype=str, keep_default_na=False)
    return sorted(levels["school_year"].unique())


def _same(a: str, b: str) -> bool:
    if a == "" or b == "":
        return a == b
    try:
        return abs(float(a) - float(b)) <= 1e-6
    except ValueError:
        return a == b


@dataclass
class ValuesComparison:
    """Outcome of the indicator-value comparison."""

    cells: int = 0  # cells compared (row × column)
    rows: int = 0  # school × criterion × year rows
    schools: int = 0  # distinct schools
    years: int = 0
    unmatched: list[tuple[str, str, str, str]] = field(default_factory=list)  # (*KEYS, side only)
    mismatches: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"compared {self.cells} cells ({self.rows} school × criterion × year rows, "
            f"{self.schools} schools, "
            f"{self.years} school years); {len(self.unmatched)} unmatched rows, "
            f"{len(self.mismatches)} mismatches"
        )

    def details(self, limit: int = 200) -> str:
        lines = [self.summary()]
        lines += [f"  only in {side}: {k}" for *k, side in self.unmatched[:limit]]
        lines += [f"  {m}" for m in self.mismatches[:limit]]
        return "\n".join(lines)


def compare_values(truth_dir: Path, out: Path, years: Iterable[str]) -> ValuesComparison:
    """Every numerator, denominator, value, points and status of `out/indicator_values_<year>.csv`
    against the truth. Value and points of `self_declared` rows are not compared (the reconciliation
    fills them from the school's self-assessment; the truth leaves points empty)."""
    truth_all = pd.read_csv(truth_dir / "indicator_values.csv", dtype=str, keep_default_na=False)
    res = ValuesComparison()
    schools: set[str] = set()
    for school_year in years:
        res.years += 1
        truth = truth_all[truth_all.school_year == school_year]
        got = pd.read_csv(out / f"indicator_values_{school_year}.csv", dtype=str, keep_default_na=False)
        merged = truth.merge(got, on=KEYS, how="outer", suffixes=("_truth", "_got"), indicator=True)
        for _, r in merged[merged["_merge"] != "both"].iterrows():
            res.unmatched.append(
                (
                    r.school_code,
                    r.school_year,
                    r.criterion_code,
                    "truth" if r["_merge"] == "left_only" else "output",
                )
            )
        both = merged[merged["_merge"] == "both"]
        res.rows += len(both)
        schools.update(both["school_code"])
        for _, r in both.iterrows():
            for col in COLUMNS:
                if r["status_truth"] == "self_declared" and col in ("value", "points"):
                    continue
                res.cells += 1
                if not _same(r[f"{col}_truth"], r[f"{col}_got"]):
                    res.mismatches.append(
                        (
                            school_year,
                            r.school_code,
                            r.criterion_code,
                            col,
                            r[f"{col}_truth"],
                            r[f"{col}_got"],
                        )
                    )
    res.schools = len(schools)
    return res


def _query(warehouse: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def compare_levels(truth_dir: Path, warehouse: Path) -> tuple[int, pd.DataFrame]:
    """Computed-side group totals and school level of every school × year; returns (rows compared,
    the differing rows — a truth row without a computed one differs)."""
    want = pd.read_csv(truth_dir / "school_levels.csv", dtype={"school_code": str})
    got = _query(
        warehouse,
        "SELECT school_code, school_year, group_dh_points, group_qt_points, level FROM score_schools__final",
    )
    m = want.merge(got, on=["school_code", "school_year"], how="left", suffixes=("_truth", ""))
    bad = m[
        (m["level"] != m["level_truth"])
        | ~((m["group_dh_points"] - m["group_dh_points_truth"]).abs() <= POINTS_TOLERANCE)
        | ~((m["group_qt_points"] - m["group_qt_points_truth"]).abs() <= POINTS_TOLERANCE)
    ]
    return len(m), bad


def compare_findings(truth_dir: Path, warehouse: Path) -> tuple[int, list[tuple], list[tuple]]:
    """The planted findings against the `rec_findings` table; returns (planted count, missing, extra)."""
    cols = ["school_code", "school_year", "criterion_code", "finding"]
    want = pd.read_csv(truth_dir / "findings.csv", dtype=str, keep_default_na=False)
    got = _query(warehouse, f"SELECT {', '.join(cols)} FROM rec_findings").fillna("")
    w = set(map(tuple, want[cols].to_numpy().tolist()))
    g = set(map(tuple, got[cols].to_numpy().tolist()))
    return len(w), sorted(w - g), sorted(g - w)
