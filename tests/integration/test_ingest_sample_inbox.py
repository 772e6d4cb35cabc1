"""The generator's committed sample inbox: every planted bad row of `_truth/bad_rows.csv` lands in
dq_quarantine_rows (file, sheet, row, reason), nothing else is rejected, the manifest's row accounting
holds, and every good row the generator planted is in the raw tables (count equality per file and per
entity, in source rows: a grade-book row melted into one record per mark counts once)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from connectors.json_layouts import PUSH_SCHOOLS, PUSH_USERS, RESOURCES
from connectors.layouts import load_layouts
from sample_exports.generator.real_province import RealOptions

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # whole sample inbox: minutes at current speed
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
YEARS = ["2023-2024", "2024-2025"]  # the committed sample: `make sample` = small preset, seed 7, messiness 1
# docs/exports.md §3.19: rows of the composite codes are subtotals, skipped (not data rows)
COMPOSITE_CRITERIA = {"1.3", "1.5", "1.6", "1.7", "2.3", "2.4"}
CRITERION_RX = re.compile(r"[12]\.[1-7](\.[1-8])?")


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    if not (INBOX / "_truth" / "bad_rows.csv").exists():
        pytest.skip("sample inbox not generated")
    c = raw_store.connect(":memory:")
    ingest_inbox(c, INBOX, hash_key="test")
    return c


@dataclass
class Generated:
    """What the generator planted in the sample: data rows per file, and its school-year plans."""

    rows: pd.DataFrame  # source_file, layout_id, good_rows, bad_rows
    plans: list[Any]


def generate_observed(out: Path) -> Generated:
    """Regenerate the sample into `out` and count, per file, the data rows the generator planted: good
    (untagged) and bad (tagged with a reject reason). The generator's in-memory books and plans are
    observed by wrapping its build/render/emit functions; nothing of the generator is changed.

    Not data rows: code-list sheets (no signature) and the long self-assessment's subtotal rows. JSON
    pushes have one row per user (or school) metric, the unit the connector reads and rejects."""
    import sample_exports.generator.province as P
    from sample_exports.generator import layouts as GL

    books: dict[str, tuple[str, list[Any]]] = {}
    jsons: dict[str, tuple[str, Any]] = {}
    plans: list[Any] = []
    pending: list[Any] = []
    build, render, emit, emit_json = P.build_year, P.render_sheet, P.emit, P.emit_json

    def build_seen(*args: Any, **kw: Any) -> Any:
        plans.append(build(*args, **kw))
        return plans[-1]

    def render_seen(sheet: Any, quirks: Any, rng: Any) -> Any:
        pending.append(sheet)
        return render(sheet, quirks, rng)

    def emit_seen(run: Any, relpath: str, layout_id: str, *args: Any, **kw: Any) -> None:
        pending.clear()
        emit(run, relpath, layout_id, *args, **kw)
        books[relpath] = (layout_id, list(pending))

    def emit_json_seen(run: Any, relpath: str, layout_id: str, obj: Any) -> None:
        emit_json(run, relpath, layout_id, obj)
        jsons[relpath] = (layout_id, obj)

    P.build_year, P.render_sheet, P.emit, P.emit_json = build_seen, render_seen, emit_seen, emit_json_seen
    try:
        P.generate("small", 7, YEARS, out, 1.0, real=RealOptions())  # the sample: no real exports
    finally:
        P.build_year, P.render_sheet, P.emit, P.emit_json = build, render, emit, emit_json
    code_cols = GL.code_sheet().blocks[0].cols
    recs: list[tuple[str, str, int, int]] = []
    for rel, (layout_id, sheets) in books.items():
        good = bad = 0
        for sheet in sheets:
            if sheet.blocks and sheet.blocks[0].cols == code_cols:
                continue
            for block in sheet.blocks:
                code_col = next((j for j, c in enumerate(block.cols) if c.path[-1] == "Mã tiêu chí"), None)
                for i, row in enumerate(block.rows):
                    if i < len(block.tags) and block.tags[i]:
                        bad += 1
                        continue
                    if layout_id == "cds.self_assessment_long.v1" and code_col is not None:
                        m = CRITERION_RX.search(str(row[code_col]))
                        if m and m.group(0) in COMPOSITE_CRITERIA:
                            continue
                    good += 1
        recs.append((rel, layout_id, good, bad))
    for rel, (layout_id, obj) in jsons.items():
        body = obj["data"] if isinstance(obj, dict) and "error_code" in obj else obj
        if layout_id == PUSH_USERS.id:
            n = sum(len(u["metrics"]) for u in body["users"])
        elif layout_id == PUSH_SCHOOLS.id:
            n = sum(len(s["metrics"]) for s in body["schools"])
        else:
            n = len(body)
        recs.append((rel, layout_id, n, 0))
    return Generated(pd.DataFrame(recs, columns=["source_file", "layout_id", "good_rows", "bad_rows"]), plans)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("sample")
    gen = generate_observed(out)

    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

    # the counts describe the committed inbox only if the generator still writes exactly it
    mine = {p.relative_to(out).as_posix(): digest(p) for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(INBOX).as_posix(): digest(p) for p in INBOX.rglob("*") if p.is_file()}
    assert mine == committed, "the generator no longer writes the committed sample: run `make sample`"
    return gen


def test_planted_bad_rows_are_quarantined(con: duckdb.DuckDBPyConnection) -> None:
    man = raw_store.manifest(con)
    # the only files quarantined are header-only lists (a recognised layout, no data rows): `empty_file`
    quarantined = man[man["status"] == "quarantined"]
    assert (quarantined["reason_code"] == "empty_file").all(), quarantined[["source_file", "reason_code"]]
    assert quarantined["entities"].fillna("").ne("").all()
    truth = pd.read_csv(INBOX / "_truth" / "bad_rows.csv", dtype=str, keep_default_na=False)
    # a CSV has no sheets: the connector, like the truth, gives its rows a blank sheet
    got = con.execute(
        "SELECT source_file, source_sheet, CAST(source_row AS VARCHAR), reason_code FROM dq_quarantine_rows"
    ).fetchall()
    want = set(map(tuple, truth[["file", "sheet", "row", "reason_code"]].to_numpy().tolist()))
    assert any(f.lower().endswith(".csv") for f, *_ in want)
    assert want <= set(got)
    assert set(got) - want == set()


def _raw_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """raw table → entity."""
    from connectors.entities import load_entities

    return {e.table: name for name, e in load_entities().items()}


def test_manifest_row_accounting(con: duckdb.DuckDBPyConnection) -> None:
    man = raw_store.manifest(con)
    assert (man["rows_kept"] + man["rows_rejected"] == man["rows_read"]).all()
    # records in the raw tables: one per source row, or several where a layout melts/explodes/reshapes
    records: dict[str, int] = {}
    for table in _raw_tables(con):
        for f, n in con.execute(f"SELECT source_file, count(*) FROM {table} GROUP BY 1").fetchall():
            records[f] = records.get(f, 0) + n
    assert man.set_index("source_file")["records_written"].to_dict() == {
        f: records.get(f, 0) for f in man["source_file"]
    }
    loaded = man[man["status"] != "quarantined"]
    assert (loaded["records_written"] >= loaded["rows_kept"]).all()
    assert (loaded["records_written"] > loaded["rows_read"]).any()  # grade books: one record per mark


def test_good_rows_per_file_and_entity_match_the_generator(
    con: duckdb.DuckDBPyConnection, generated: Generated
) -> None:
    planted = generated.rows
    man = raw_store.manifest(con).set_index("source_file")
    assert set(planted["source_file"]) == set(man.index), "every generated file has a manifest row"
    got = planted.join(man[["rows_read", "rows_kept", "rows_rejected"]], on="source_file")
    wrong = got[(got["rows_kept"] != got["good_rows"]) | (got["rows_rejected"] != got["bad_rows"])]
    assert wrong.empty, f"manifest row counts differ from the generator's:\n{wrong.to_string()}"

    # the raw tables themselves: distinct source rows per file that are not quarantined
    parts = [
        f"SELECT '{entity}' AS entity, source_file, source_sheet, source_row FROM {table}"
        for table, entity in _raw_tables(con).items()
    ]
    raw = con.execute(
        "SELECT entity, source_file, count(*) AS n FROM (SELECT DISTINCT * FROM ("
        + " UNION ALL ".join(parts)
        + ")) r WHERE NOT EXISTS (SELECT 1 FROM dq_quarantine_rows q WHERE q.source_file = r.source_file "
        "AND q.source_sheet IS NOT DISTINCT FROM r.source_sheet AND q.source_row = r.source_row) "
        "GROUP BY 1, 2"
    ).df()
    per_file = planted.merge(raw, on="source_file", how="left").fillna({"n": 0})
    wrong = per_file[per_file["n"] != per_file["good_rows"]]
    assert wrong.empty, f"raw tables hold another number of good rows:\n{wrong.to_string()}"

    entity_of = {lay.id: lay.entity for lay in (*load_layouts(), PUSH_USERS, PUSH_SCHOOLS, RESOURCES)}
    entity = planted["layout_id"].map(entity_of)
    assert entity.notna().all(), "every generated layout is a connector layout"
    want = planted.assign(entity=entity).groupby("entity")["good_rows"].sum()
    have = raw.groupby("entity")["n"].sum().reindex(want.index, fill_value=0)
    assert have.to_dict() == want.to_dict()
    # figures for the report (pytest -s)
    print(
        f"\nper-file comparison: {len(planted)} files, {int(planted['good_rows'].sum())} good and "
        f"{int(planted['bad_rows'].sum())} bad source rows; {len(want)} entities"
    )


def expected_grade_warnings(plans: list[Any]) -> set[tuple[str, ...]]:
    """(reason, school, year, subject, student key) of the TT22 warnings the generator's marks call for,
    decided with the generator's own rules: `incomplete_tx` where a student's semester has a ck mark and
    fewer tx marks than its curriculum requires; `avg_mismatch` where the average written in the file
    (from every tx mark) differs from the average of the tx marks the layout has columns for (SMAS: 4)."""
    from sample_exports.generator import curriculum as cur
    from sample_exports.generator.layouts_school import avg_sem, skey

    out: set[tuple[str, ...]] = set()
    for plan in plans:
        platform = plan.school.platform
        if "gradebook" in plan.missing:
            continue
        shown = 4 if platform in ("smas", "misa") else 5  # tx columns of the layout the platform writes
        for (klass, subject), pair in plan.marks.items():
            grade = plan.classes[klass].grade
            if grade < 6:  # TT27
                continue
            need = cur.required_tx(cur.periods_per_year(subject, grade))
            for i, m in pair.items():
                key = (plan.school.code, plan.year, subject, skey(plan, i))
                if m.ck is not None and len(m.tx) < need:
                    out.add(("incomplete_tx", *key))
                written = avg_sem(m)  # csdl.tt22_import.v1 (MISA) has no average column
                seen = avg_sem(dataclasses.replace(m, tx=m.tx[:shown]))
                if platform != "misa" and written is not None and seen != written:
                    out.add(("avg_mismatch", *key))
    return out


def test_grade_book_warnings_match_the_generator_marks(
    con: duckdb.DuckDBPyConnection, generated: Generated
) -> None:
    want = expected_grade_warnings(generated.plans)
    rows = con.execute(
        "SELECT DISTINCT w.reason_code, g.school_code, g.school_year, g.subject_code, g.student_key, "
        "w.source_file, w.source_sheet, w.source_row "
        "FROM ingest_warnings w JOIN raw_grade_entry g ON g.source_file = w.source_file "
        "AND g.source_sheet = w.source_sheet AND g.source_row = w.source_row "
        "WHERE w.reason_code IN ('incomplete_tx', 'avg_mismatch')"
    ).fetchall()
    n_warnings = con.execute(
        "SELECT count(*) FROM ingest_warnings WHERE reason_code IN ('incomplete_tx', 'avg_mismatch')"
    ).fetchone()[0]
    assert n_warnings == len(rows)  # one warning per row and semester (all sample books are semester 1)
    got = {r[:5] for r in rows}
    assert {w[0] for w in want} == {"incomplete_tx", "avg_mismatch"}
    assert got - want == set(), sorted(got - want)[:10]
    assert want - got == set(), sorted(want - got)[:10]
    print(
        f"\ngrade-book warnings: {sum(w[0] == 'incomplete_tx' for w in got)} incomplete_tx, "
        f"{sum(w[0] == 'avg_mismatch' for w in got)} avg_mismatch"
    )
