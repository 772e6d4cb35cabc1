"""School packs written only when they change (reports/written_files.py, `ops_export_files`), on a copy
of the committed sample inbox (2024-2025) run through the whole pipeline: after one school's file
changes, the incremental run's packs and reviewer, thi đua and value files equal, byte for byte, a fresh
full run's on the same inbox, and the packs of schools whose pack did not change are left as they were.
Files that carry a run's id or times are not compared (the run summary, the season status with the
files' arrival times, the data-quality report, the expectation docs, the national marts). On the run's
warehouse, `write_school_packs` writes again exactly the school whose figures changed, a pack file
deleted or edited on disk, and every pack when it has no warehouse to remember them."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
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
