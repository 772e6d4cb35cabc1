"""Privacy and output safety on a default-run scale (docs/exports.md §6), using the hostile-corpus run of
`tests.corpus.harness` (small good inbox with students and staff, plus the corpus, whole pipeline):

- citizen ids and phone numbers are never stored in clear in the raw tables (`*_hash` columns hold
  HMAC hex, and no column holds a clear phone or id taken from the source files);
- no output file (out/**: xlsx, csv, html, json) and no log line carries the names, birth dates,
  phones or ids of the people in the inbox (read from the files with the connectors);
- every workbook written is formula-injection safe and the HTML escapes data (the corpus plants file
  names such as `=HYPERLINK(…).xlsx` and `<script>alert(1)<\\script>.xlsx`);
- production mode refuses to start with the default hash key (`cds run`, `run_pipeline`, Dagster).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest
from rich.console import Console

from connectors.filedrop import parse_file
from connectors.normalize import norm
from connectors.readers import read_grids
from connectors.sheet_parser import ParseContext
from pipelines.resources import PipelineConfig
from pipelines.runner import run_pipeline
from pipelines.settings import DEFAULT_HASH_KEY, InsecureHashKeyError, get_settings
from tests.corpus import harness
from tests.corpus.make_corpus import CORPUS_PEOPLE

pytestmark = pytest.mark.integration

PEOPLE_FILES = ("08000001/DanhSachHocSinh.xls", "08000001/CSDL_GiaoVien.xls")
_CLEAR_HEADERS = ("dien thoai", "cccd", "can cuoc", "cmnd", "so dinh danh ca nhan")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> harness.CorpusRun:
    return harness.hostile_run(tmp_path_factory)


def _people() -> dict[str, set[str]]:
    """Names and birth dates (parsed by the connectors) and clear phones / citizen ids (the raw cells of
    phone and id columns) of the inbox's students and staff, plus the corpus' own people."""
    names: set[str] = set()
    dobs: set[str] = set()
    clear: set[str] = set()
    for rel in PEOPLE_FILES:
        path = harness.SAMPLE / harness.YEAR / rel
        ctx = ParseContext(
            file=rel,
            folder_year=harness.YEAR,
            folder_school=rel.split("/")[0],
            school_names={},
            hash_key=harness.TEST_HASH_KEY,
            platform_by_school={},
        )
        res = parse_file(path, rel, ctx)
        assert res.status != "quarantined", res.reason
        for sheet in res.sheets:
            if "full_name" in sheet.rows:
                names |= {n for n in sheet.rows["full_name"].dropna() if len(n) > 6}
            if "dob" in sheet.rows:
                for d in sheet.rows["dob"].dropna():
                    dobs |= {d.strftime("%d/%m/%Y"), d.strftime("%Y-%m-%d")}
        for grid in read_grids(path):
            cells = grid.cells
            for col in cells.columns:
                head = " ".join(norm(str(v)) for v in cells[col].head(12) if v is not None)
                if any(h in head for h in _CLEAR_HEADERS):
                    clear |= {
                        str(v).strip()
                        for v in cells[col]
                        if v is not None and re.fullmatch(r"\d{9,12}", str(v).strip())
                    }
    for _code, _moet, name, dob, phone in CORPUS_PEOPLE:
        names.add(name)
        dobs.add(dob)
        clear.add(phone)
    assert len(names) > 100 and len(dobs) > 100 and len(clear) > 100
    return {"name": names, "dob": dobs, "clear": clear}


@pytest.fixture(scope="module")
def people() -> dict[str, set[str]]:
    return _people()


def _text_of(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            text = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
    return unicodedata.normalize("NFC", html.unescape(text))


def _leaks(text: str, people: dict[str, set[str]]) -> list[str]:
    found = [f"name {n!r}" for n in people["name"] if n in text]
    found += [f"birth date {d}" for d in people["dob"] if d in text]
    found += [f"clear id/phone {c}" for c in people["clear"] if c in text]
    return found


def test_people_loaded_then_hashed_in_raw(corpus_run: harness.CorpusRun, people: dict[str, set[str]]) -> None:
    con = duckdb.connect(str(corpus_run.hostile_db), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM raw_student WHERE phone_hash IS NOT NULL").fetchone()[0]
        assert n > 100, "the students (and their phones) did load"
        cols = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_name LIKE 'raw_%' "
            "AND data_type = 'VARCHAR' ORDER BY 1, 2"
        ).fetchall()
        problems = []
        for table, col in cols:
            values = [
                v
                for (v,) in con.execute(
                    f'SELECT DISTINCT "{col}" FROM {table} WHERE "{col}" IS NOT NULL'
                ).fetchall()
            ]
            if col.endswith("_hash"):
                problems += [f"{table}.{col} = {v!r} is not an HMAC" for v in values if not _HEX64.match(v)]
            for v in values:
                hits = [c for c in people["clear"] if c in v]
                if hits:
                    problems.append(f"{table}.{col} holds clear {hits[0]}")
    finally:
        con.close()
    assert not problems, problems[:10]


def test_outputs_carry_no_personal_data(corpus_run: harness.CorpusRun, people: dict[str, set[str]]) -> None:
    files = [
        p
        for p in corpus_run.out.rglob("*")
        if p.is_file() and p.suffix in {".xlsx", ".csv", ".html", ".json"}
    ]
    assert {p.suffix for p in files} >= {".xlsx", ".csv", ".html", ".json"}
    leaks = {
        str(p.relative_to(corpus_run.out)): found for p in files if (found := _leaks(_text_of(p), people))
    }
    assert not leaks, leaks


def test_logs_carry_no_personal_data(corpus_run: harness.CorpusRun, people: dict[str, set[str]]) -> None:
    logs = [corpus_run.log_file, corpus_run.log_file.with_suffix(".console")]
    text = "\n".join(_text_of(p) for p in logs)
    assert "ingest" in text and len(text.splitlines()) > 50, "the run's logs were captured"
    assert not _leaks(text, people)
    assert harness.TEST_HASH_KEY not in text, "the hash key is never logged"


def test_workbooks_are_formula_safe_and_html_escapes(corpus_run: harness.CorpusRun) -> None:
    books = list(corpus_run.out.rglob("*.xlsx"))
    assert books
    for book in books:
        wb = openpyxl.load_workbook(book)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{book.name}!{cell.coordinate} is a formula"
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(("=", "+", "-", "@")), (
                            f"{book.name}!{cell.coordinate}"
                        )
    escaped = 0
    for page in corpus_run.out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text, page.name
        escaped += "&lt;script&gt;alert(1)" in text
    assert escaped, "the planted <script> file name reached a page, escaped"


# ----------------------------------------------------------------------------- production hash key
def test_run_pipeline_refuses_production_with_the_default_key(tmp_path: Path) -> None:
    settings = get_settings(
        inbox=tmp_path / "inbox",
        warehouse=tmp_path / "wh.duckdb",
        out=tmp_path / "out",
        school_year=harness.YEAR,
        mode="production",
        hash_key=DEFAULT_HASH_KEY,
    )
    console = Console(record=True, width=300)
    outcome = run_pipeline(settings, console)
    assert not outcome and outcome.status == "refused"
    said = console.export_text()
    assert "khóa băm mặc định" in said and "default or an empty hash key" in said
    assert not (tmp_path / "wh.duckdb").exists(), "nothing was touched"


def test_cds_run_refuses_production_with_the_default_key(tmp_path: Path) -> None:
    env = harness.child_env(CDS_MODE="production", CDS_HASH_KEY=DEFAULT_HASH_KEY)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "run",
            "--inbox",
            str(tmp_path),
            "--warehouse",
            str(tmp_path / "wh.duckdb"),
            "--out",
            str(tmp_path / "out"),
            "--year",
            harness.YEAR,
        ],
        cwd=harness.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "CDS_HASH_KEY" in proc.stdout and "Refusing to run in production mode" in proc.stdout
    assert not (tmp_path / "wh.duckdb").exists()


def test_dagster_runs_refuse_production_with_the_default_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def config(**kw: str) -> PipelineConfig:
        return PipelineConfig(inbox=str(tmp_path), out=str(tmp_path), indicator_set="x", **kw)  # type: ignore[arg-type]

    @dg.asset
    def needs_pipeline(pipeline: PipelineConfig) -> int:
        return 1

    monkeypatch.delenv("CDS_MODE", raising=False)
    assert dg.materialize([needs_pipeline], resources={"pipeline": config(hash_key=DEFAULT_HASH_KEY)}).success
    assert dg.materialize(
        [needs_pipeline], resources={"pipeline": config(hash_key="s3cret", mode="production")}
    ).success
    with pytest.raises(dg.DagsterResourceFunctionError) as err:
        dg.materialize(
            [needs_pipeline], resources={"pipeline": config(hash_key=DEFAULT_HASH_KEY, mode="production")}
        )
    assert isinstance(err.value.__cause__, InsecureHashKeyError)
    monkeypatch.setenv("CDS_MODE", "production")  # the environment decides when the definitions do not say
    with pytest.raises(dg.DagsterResourceFunctionError) as err:
        dg.materialize([needs_pipeline], resources={"pipeline": config(hash_key="")})
    assert isinstance(err.value.__cause__, InsecureHashKeyError)


# Tables that hold people by design (docs/exports.md §6): the raw tables and the staging models. Every
# other table (dq_quarantine_rows, ingest_warnings, marts, findings…) must not carry a name or birth date.
_PERSONAL_LAYER = re.compile(r"^(raw_|stg_)")


def test_no_table_of_the_warehouse_carries_clear_personal_values(
    corpus_run: harness.CorpusRun, people: dict[str, set[str]]
) -> None:
    """Issue 24: every VARCHAR column of every table of the warehouse, scanned for the people of the inbox
    and the corpus: no clear phone or citizen id anywhere (rejected values of personal columns are masked
    in `dq_quarantine_rows` and `ingest_warnings` too), no name or birth date outside the personal layer."""
    con = duckdb.connect(str(corpus_run.hostile_db), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' ORDER BY ALL"
        ).fetchall()
        tables = {t for _, t, _ in cols}
        assert {"dq_quarantine_rows", "ingest_warnings", "raw_student"} <= tables
        masked = con.execute(
            "SELECT count(*) FROM dq_quarantine_rows q WHERE q.canonical_column IN ('phone_hash', "
            "'citizen_id_hash', "
            "'parent_phone_hash', 'dob', 'full_name') AND q.value IS NOT NULL"
        ).fetchone()[0]
        problems = []
        for schema, table, col in cols:
            values = [
                v
                for (v,) in con.execute(
                    f'SELECT DISTINCT "{col}" FROM "{schema}"."{table}" WHERE "{col}" IS NOT NULL'
                ).fetchall()
            ]
            text = "\n".join(values)
            problems += [f"{table}.{col} holds clear {c}" for c in people["clear"] if c in text]
            if not _PERSONAL_LAYER.match(table):
                problems += [f"{table}.{col} holds name {n!r}" for n in people["name"] if n in text]
                problems += [f"{table}.{col} holds birth date {d}" for d in people["dob"] if d in text]
    finally:
        con.close()
    assert masked > 0, "the corpus has rejected personal values (stored masked)"
    assert not problems, problems[:10]
