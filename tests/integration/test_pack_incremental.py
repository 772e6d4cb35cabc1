"""School packs written only when they change (reports/written_files.py, `ops_export_files`), on a copy
of the committed sample inbox (2024-2025) run through the whole pipeline: after one school's file
changes, the incremental run's packs and reviewer, thi đua and value files equal, byte for byte, a fresh
full run's on the same inbox, and the packs of schools whose pack did not change are left as they were.
Files that carry a run's id or times are not compared (the run summary, the season status with the
files' arrival times, the data-quality report, the expectation docs, the national marts). On the run's
warehouse, `write_school_packs` writes again exactly the school whose figures changed, a pack file
deleted or edited on disk, and every pack when it has no warehouse to remember them; and a change of any
frame a pack is built from (one cell of one school's row at a time) leaves the packs equal to packs
built afresh, so a pack is never kept on an input its fingerprint (`pack_keys`) does not hold."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from benchmarks.datasets import touch_xlsx
from indicator_sets.model import load_indicator_set
from pipelines.runner import run_pipeline
from pipelines.settings import get_settings
from quality import coverage
from reports.review_exports import load_review
from reports.school_pack_inputs import PACK_KIND, read_pack_inputs, write_school_packs
from tests.integration.truth_compare import run_years

pytestmark = [pytest.mark.integration, pytest.mark.slow]
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
YEAR = "2024-2025"
YEARS = [YEAR]
CHANGED = f"{YEAR}/08000004/BangKeChungTu.xlsx"


TIMED = ("run_summary_", "season_status_", "data_quality_", "data_docs/", "national/")


def _tree(out: Path) -> dict[str, bytes]:
    """Every output file's bytes by relative path, without those carrying a run's id or times."""
    files = {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*")) if p.is_file()}
    return {name: p.read_bytes() for name, p in files.items() if not any(t in name for t in TIMED)}


def _stamps(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, dict, dict]:
    """(inbox copy, warehouse, out) after a cold run of both years, one file changed and an
    incremental run of 2024-2025; with the pack stamps before and after that run."""
    work = tmp_path_factory.mktemp("incr")
    inbox = work / "inbox"
    shutil.copytree(INBOX, inbox, ignore=shutil.ignore_patterns("_truth"))
    warehouse, out = run_years(inbox, work, YEARS)
    packs = out / "schools" / YEAR
    before = _stamps(packs)
    assert touch_xlsx(inbox / CHANGED, "pack-incremental-test")
    settings = get_settings(inbox=inbox, warehouse=warehouse, out=out, school_year=YEAR)
    outcome = run_pipeline(settings)  # not forced: the change check sees one changed file
    assert outcome, outcome.status
    return inbox, warehouse, out, before, _stamps(packs)


def test_incremental_outputs_equal_a_fresh_full_run(
    incremental: tuple[Path, Path, Path, dict, dict], tmp_path: Path
) -> None:
    inbox, _, out, before, after = incremental
    kept = [name for name, stamp in after.items() if before.get(name) == stamp]
    assert kept, "some packs were left as they were"
    _, fresh = run_years(inbox, tmp_path, YEARS)
    mine, theirs = _tree(out), _tree(fresh)
    assert sorted(mine) == sorted(theirs)
    differ = [name for name in mine if mine[name] != theirs[name]]
    assert not differ, differ


def test_changed_school_is_written_unchanged_ones_are_not(
    incremental: tuple[Path, Path, Path, dict, dict],
) -> None:
    _, warehouse, out, _, _ = incremental
    folder = out / "schools" / YEAR
    con = duckdb.connect(str(warehouse))
    try:
        review = load_review(con, YEAR, load_indicator_set(get_settings().indicator_set))
        cov = coverage.collect(con, YEAR)
        inputs = read_pack_inputs(con, YEAR)
        codes = write_school_packs(folder, review.data, cov, inputs, con)
        assert inputs.written == 0 and inputs.kept == len(codes), "nothing changed since the run"

        final = review.data.final
        target, other = codes[1], codes[2]
        rows = final.index[(final["school_code"] == target) & final["points"].notna()]
        final.loc[rows[0], "points"] = float(final.loc[rows[0], "points"]) + 0.25
        (folder / f"{other}.html").unlink()  # a deleted file is written again
        edited = folder / f"{codes[3]}.xlsx"
        edited.write_bytes(edited.read_bytes() + b"\0")  # an edited file is written again
        stamps = _stamps(folder)

        inputs = read_pack_inputs(con, YEAR)
        write_school_packs(folder, review.data, cov, inputs, con)
        now = _stamps(folder)
        rewritten = sorted({name.split(".")[0] for name in now if now[name] != stamps.get(name)})
        assert rewritten == sorted([target, other, codes[3]])
        assert inputs.written == 3 and inputs.kept == len(codes) - 3
        recorded = con.execute(
            "SELECT count(*) FROM ops_export_files WHERE school_year = ? AND kind = ?", [YEAR, PACK_KIND]
        ).fetchone()
        assert recorded == (2 * len(codes),)

        stamps = now
        write_school_packs(folder, review.data, cov, read_pack_inputs(con, YEAR))  # no warehouse: all
        now = _stamps(folder)
        assert all(now[name] != stamps[name] for name in now)
    finally:
        con.close()


def _mutated(frame: pd.DataFrame, code: str, column: str) -> pd.DataFrame | None:
    """A copy of `frame` with `column` of `code`'s first row changed (None when it holds nothing that
    can change: no row of the school, or a missing or structured value)."""
    if "school_code" not in frame.columns:
        return None
    rows = frame.index[frame["school_code"].astype(str) == code]
    if not len(rows):
        return None
    value = frame.at[rows[0], column]
    if isinstance(value, bool | np.bool_):
        new: object = not value
    elif isinstance(value, int | float | np.number) and not pd.isna(value):
        new = value + 1
    elif isinstance(value, str):
        new = value + " (sửa)"
    else:
        return None
    out = frame.copy()
    out[column] = out[column].astype(object)
    out.at[rows[0], column] = new
    return out.astype({column: frame[column].dtype}) if not isinstance(new, str) else out


def _columns(frame: pd.DataFrame) -> list[str]:
    """The columns changed in turn: every column but the school's code and year."""
    return [c for c in frame.columns if c not in ("school_code", "school_year")]


def test_a_changed_input_of_a_pack_is_picked_up(
    incremental: tuple[Path, Path, Path, dict, dict], tmp_path: Path
) -> None:
    _, warehouse, out, _, _ = incremental
    folder = tmp_path / "packs"
    shutil.copytree(out / "schools" / YEAR, folder)
    shutil.copy(warehouse, tmp_path / "wh.duckdb")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        review = load_review(con, YEAR, load_indicator_set(get_settings().indicator_set))
        cov = coverage.collect(con, YEAR)
        inputs = read_pack_inputs(con, YEAR)
        codes = write_school_packs(folder, review.data, cov, inputs, con)
        original = _tree(folder)
        target = codes[1]
        frames = {
            f.name: getattr(review.data, f.name)
            for f in dataclasses.fields(review.data)
            if isinstance(getattr(review.data, f.name), pd.DataFrame) and not f.name.startswith("_")
        }
        cases: list[tuple[str, str, object, object]] = []
        for name, frame in frames.items():
            for column in _columns(frame):
                changed = _mutated(frame, target, column)
                if changed is not None:
                    data = dataclasses.replace(review.data, **{name: changed}, _derived={})
                    cases.append((name, column, data, inputs))
        for column in _columns(inputs.rejects):
            changed = _mutated(inputs.rejects, target, column)
            if changed is not None:
                cases.append(("rejects", column, review.data, dataclasses.replace(inputs, rejects=changed)))
        assert {name for name, *_ in cases} >= {"final", "findings", "counted", "proposed", "final_scores"}
        packs_changed = 0
        for i, (name, column, data, pack_inputs) in enumerate(cases):
            write_school_packs(folder, data, cov, pack_inputs, con)  # type: ignore[arg-type]
            fresh = tmp_path / f"fresh{i}"
            write_school_packs(fresh, data, cov, pack_inputs)  # type: ignore[arg-type]
            mine, theirs = _tree(folder), _tree(fresh)
            assert mine == theirs, (name, column, [n for n in mine if mine[n] != theirs.get(n)])
            packs_changed += mine != original
            shutil.rmtree(fresh)
        assert packs_changed >= 20, "the check can fail: many of the changed cells are shown in the packs"
    finally:
        con.close()
