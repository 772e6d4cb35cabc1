"""Issue 24: one school's file cannot stop the province's run. Every file is read in a worker process
with hard limits (`connectors.workers`); a real poison workbook — a room list with one value cell at
ZZ1048576, whose used range makes the reader allocate 736 million cells (23.5 GB) — is quarantined as
`file_too_large` by the cell cap computed from the sheet XML before any reader runs, and, with the cap
off, makes the reader abort natively (Rust allocation failure under the worker's address-space limit):
that kills its worker, not the run, the file is retried alone and quarantined as `reader_crashed`. In
both cases the other schools load exactly as in a run without the poison file, the data-quality report
names the file in Vietnamese, and the next run skips it (a poison file never blocks the next run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from connectors import raw_store, safety
from connectors.filedrop import ingest_inbox
from connectors.workers import Crash, Limits
from reports.data_quality import collect, render
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
REGISTRY = (
    Path(__file__).resolve().parents[2]
    / "sample_exports"
    / "inbox"
    / YEAR
    / "province"
    / "DanhSachTruong.xlsx"
)
POISON = f"{YEAR}/08000002/PhongHoc_bo_sung.xlsx"


def write_poison(path: Path, school: str) -> None:
    """A room list (its header and two rooms) with one more value cell at ZZ1048576."""
    write_rooms(path, school, ROOMS[school])
    wb = openpyxl.load_workbook(path)
    wb.active.cell(row=1048576, column=702, value="x")
    wb.save(path)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The registry and three schools' room lists."""
    root = tmp_path_factory.mktemp("base")
    (root / YEAR / "province").mkdir(parents=True)
    shutil.copyfile(REGISTRY, root / YEAR / "province" / "DanhSachTruong.xlsx")
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
    return root


def poisoned(base: Path, root: Path) -> Path:
    """`base` with a poison room list in a school folder and one in the province folder (which the
    registry probe reads too)."""
    shutil.copytree(base, root)
    write_poison(root / POISON, "08000002")
    write_poison(root / YEAR / "province" / "DanhSach_loi.xlsx", "08000003")
    return root


def snapshot(con) -> dict[str, list]:
    """The raw rows of every school and the manifest of every file but the poison ones."""
    out = {}
    for table in ("raw_facility", "raw_school"):
        out[table] = con.execute(f"SELECT * EXCLUDE (ingested_at) FROM {table} ORDER BY ALL").fetchall()
    out["manifest"] = con.execute(
        "SELECT source_file, file_sha256, status, reason_code, rows_kept FROM ingest_manifest "
        "WHERE source_file NOT LIKE '%_loi.xlsx' AND source_file NOT LIKE '%_bo_sung.xlsx' ORDER BY ALL"
    ).fetchall()
    return out


@pytest.fixture(scope="module")
def clean(base: Path) -> dict[str, list]:
    con = raw_store.connect(":memory:")
    ingest_inbox(con, base, YEAR, hash_key="k")
    return snapshot(con)


def quarantined(con) -> dict[str, tuple[str, str]]:
    rows = con.execute(
        "SELECT source_file, reason_code, reason FROM ingest_manifest WHERE status = 'quarantined'"
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def check_run(con, root: Path, clean: dict[str, list], code: str, words: str) -> None:
    got = quarantined(con)
    assert set(got) == {POISON, f"{YEAR}/province/DanhSach_loi.xlsx"}
    assert got[POISON][0] == code and words in got[POISON][1]
    assert snapshot(con) == clean  # the other schools (and the registry) exactly as without the poison
    html = render(collect(con, YEAR, with_audits=False))
    assert "PhongHoc_bo_sung.xlsx" in html and code in html
    again = ingest_inbox(con, root, YEAR, hash_key="k")  # the next run: nothing to do, nothing blocked
    assert not again.changed and again.skipped == again.files_seen


def test_cell_cap_quarantines_a_poison_workbook_before_the_reader(
    tmp_path: Path, base: Path, clean: dict[str, list]
) -> None:
    root = poisoned(base, tmp_path / "in")
    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    check_run(con, root, clean, "file_too_large", "1048576 dòng × 702 cột")


def test_a_native_reader_abort_kills_its_worker_not_the_run(
    tmp_path: Path, base: Path, clean: dict[str, list]
) -> None:
    root = poisoned(base, tmp_path / "in")
    con = raw_store.connect(":memory:")
    limits = Limits(memory_bytes=2 * 1024**3, max_cells=0)  # no cap: the reader meets the memory limit
    ingest_inbox(con, root, YEAR, hash_key="k", limits=limits)
    check_run(con, root, clean, "reader_crashed", "SIGABRT")


def test_sheet_extent_from_the_xml() -> None:
    """The used range is first to last value row × widest value column; formatted empty cells and a
    three-letter column are found anywhere in the stream."""
    import io

    def xml(cells: str) -> io.BytesIO:
        return io.BytesIO(f"<worksheet><sheetData>{cells}</sheetData></worksheet>".encode())

    assert safety.sheet_extent(xml('<row r="3"><c r="B3" t="s"><v>1</v></c></row>')) == (3, 3, 2)
    filler = '<row r="9"><c r="A9"><v>1</v></c></row>' * 400_000  # beyond one peek chunk
    cells = f'<row r="2"><c r="A2"><v>1</v></c></row>{filler}<c r="XFD70" s="1"/><c r="AAA80"><v>2</v></c>'
    cells += '<row r="90"><c r="C90"><v>1</v></c><c r="XFD1048576" s="2"/></row>'
    assert safety.sheet_extent(xml(cells)) == (2, 90, 703)
    assert safety.sheet_extent(xml("")) == (0, 0, 0)


def test_crash_names_the_limit() -> None:
    import signal

    assert Crash(-signal.SIGXCPU).cpu_exhausted and not Crash(-signal.SIGABRT).cpu_exhausted
    assert Crash(-signal.SIGABRT).signal_name == "SIGABRT" and Crash(3).signal_name == "exit code 3"
