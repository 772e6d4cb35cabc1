"""Integration tests of the synthetic province generator on the small preset."""

from __future__ import annotations

import csv
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from sample_exports.generator import rules as R
from sample_exports.generator.plan import IdCounter, build_year
from sample_exports.generator.presets import PRESETS, build_schools
from sample_exports.generator.province import generate
from sample_exports.generator.real_province import RealOptions
from sample_exports.generator.sheets import QUIRKS

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
INBOX = ROOT / "sample_exports" / "inbox"
YEARS = ["2023-2024", "2024-2025"]
ALL_LAYOUTS = {
    "csdl.school.v1",
    "csdl.class.v1",
    "csdl.student.v1",
    "school.student_list.v1",
    "csdl.staff.v1",
    "school.assignment.v1",
    "csdl.tt22_import.v1",
    "school.tt22_gradebook.v1",
    "smas.tt22_gradebook.v1",
    "csdl.tt27_import.v1",
    "vnedu.tt27.v1",
    "school.transcript_status.v1",
    "lms.activity_report.v1",
    "dti.push_users.v1",
    "dti.push_schools.v1",
    "school.resource_list.v1",
    "lms.resources.v1",
    "cbt.test_list.v1",
    "csdl.rooms.v1",
    "taphuan.accounts.v1",
    "school.parent_accounts.v1",
    "payment.transactions.v1",
    "admission.portal.v1",
    "admission.class_split.v1",
    "school.health.v1",
    "misa.vouchers.v1",
    "school.csdl_sync_log.v1",
    "cds.self_assessment_long.v1",
    "cds.self_assessment_wide.v1",
}
REJECT_CODES = {
    "missing_key",
    "bad_id_format",
    "bad_date",
    "bad_number",
    "bad_school_year",
    "out_of_range",
    "unknown_value",
    "duplicate_key",
}


def hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("small")
    run = generate("small", 7, YEARS, out, 1.0, real=RealOptions())  # `make sample`: no real exports
    return out, run


def test_sample_inbox_is_up_to_date_and_deterministic(small: tuple[Path, object]) -> None:
    out, _run = small
    assert hashes(out) == hashes(INBOX), "run `make sample` to regenerate sample_exports/inbox"


def test_sample_inbox_under_5_mib() -> None:
    assert sum(p.stat().st_size for p in INBOX.rglob("*") if p.is_file()) < 5 * 1024 * 1024


def test_every_layout_and_quirk_appears(small: tuple[Path, object]) -> None:
    _out, run = small
    assert run.layouts_seen == ALL_LAYOUTS  # type: ignore[attr-defined]
    assert all(run.picker.counts[q] > 0 for q in QUIRKS), run.picker.counts  # type: ignore[attr-defined]


def test_other_seed_differs(tmp_path: Path) -> None:
    # same seed → same bytes is covered by the committed inbox comparison above
    generate("small", 4, YEARS[1:], tmp_path, 1.0)
    mine, committed = hashes(tmp_path), hashes(INBOX)
    common = set(mine) & set(committed)
    assert common and any(mine[k] != committed[k] for k in common)


def test_large_presets_do_not_depend_on_worker_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Presets other than `small` plan school-years independently: 1 or 2 processes write the same bytes."""
    import sample_exports.generator.province as P

    full = P.build_schools
    # the three smallest schools keep the test quick
    monkeypatch.setattr(
        P, "build_schools", lambda preset, seed: sorted(full(preset, seed), key=lambda s: s.pupils)[:3]
    )
    a, b = tmp_path / "a", tmp_path / "b"
    run = P.generate("province-mountain", 5, YEARS, a, 0.5, workers=1)
    P.generate("province-mountain", 5, YEARS, b, 0.5, workers=2)
    assert hashes(a) == hashes(b)
    assert run.files == sum(1 for p in a.rglob("*") if p.is_file() and "_truth" not in p.parts)
    levels = _read(a / "_truth" / "school_levels.csv")
    assert len(levels) == 3 * len(YEARS)
    assert _read(a / "_truth" / "bad_rows.csv")


def test_plan_invariants() -> None:
    schools = build_schools(PRESETS["small"], 7)
    ids = IdCounter("08")
    for s in schools:
        p = build_year(s, "2024-2025", ids, small=True)
        for st in p.students:
            assert 0 <= st.klass < len(p.classes)
            assert p.classes[st.klass].code.startswith(s.code)
            assert st.local_id != st.moet_id and len(st.moet_id) == 10
        for pair in p.marks.values():
            for m in pair.values():
                for x in [*m.tx, m.gk, m.ck]:
                    if isinstance(x, float):
                        assert 0 <= x <= 10 and round(x, 1) == x
                if m.test is not None:
                    assert 1 <= m.test <= 10


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_truth_is_consistent(small: tuple[Path, object]) -> None:
    out, _run = small
    values = _read(out / "_truth" / "indicator_values.csv")
    assert len(values) == 5 * len(YEARS) * len(R.CRITERIA)
    by = {(v["school_code"], v["school_year"], v["criterion_code"]): v for v in values}
    for v in values:
        mx = R.CRITERIA[v["criterion_code"]][1]
        if v["points"]:
            assert Decimal(0) <= Decimal(v["points"]) <= Decimal(mx or 0)
    statuses = {v["status"] for v in values}
    assert {"ok", "no_data", "not_applicable", "self_declared"} <= statuses
    findings = _read(out / "_truth" / "findings.csv")
    kinds = {f["finding"] for f in findings}
    assert {"OVER_CLAIM", "UNDER_CLAIM", "NO_DATA", "MISSING_EVIDENCE"} <= kinds
    for f in findings:
        if f["finding"] == "LEVEL_CHANGE":
            assert f["criterion_code"] == ""
            continue
        v = by[(f["school_code"], f["school_year"], f["criterion_code"])]
        kind = R.CRITERIA[f["criterion_code"]][2]
        if f["finding"] in ("OVER_CLAIM", "UNDER_CLAIM"):
            assert v["status"] == "ok"
        elif f["finding"] == "NO_DATA":
            assert v["status"] == "no_data"
        elif f["finding"] == "MISSING_EVIDENCE":
            assert kind in ("mandatory", "document")
    for lv in _read(out / "_truth" / "school_levels.csv"):
        caps = {
            g: any(
                by[(lv["school_code"], lv["school_year"], c)]["value"] == "0"
                for c, (gg, _m, k) in R.CRITERIA.items()
                if gg == g and k == "mandatory"
            )
            for g in R.GROUPS
        }
        expect = min(
            R.level_of(Decimal(lv["group_dh_points"]), caps["DH"]),
            R.level_of(Decimal(lv["group_qt_points"]), caps["QT"]),
        )
        assert int(lv["level"]) == expect


def test_bad_rows_point_at_existing_files(small: tuple[Path, object]) -> None:
    out, _run = small
    bad = _read(out / "_truth" / "bad_rows.csv")
    assert bad
    for b in bad:
        assert (out / b["file"]).is_file()
        assert b["reason_code"] in REJECT_CODES
        assert int(b["row"]) >= 1


def test_every_spreadsheet_is_readable_and_some_xls_are_corrupt() -> None:
    import python_calamine as pc
    import xlrd

    corrupt = 0
    for p in sorted(INBOX.rglob("*.xls*")):
        wb = pc.CalamineWorkbook.from_path(str(p))
        assert wb.get_sheet_by_index(0).to_python()
        if p.suffix == ".xls":
            try:
                xlrd.open_workbook(str(p), logfile=open("/dev/null", "w"))  # noqa: SIM115
            except xlrd.compdoc.CompDocError:
                corrupt += 1
                book = xlrd.open_workbook(str(p), ignore_workbook_corruption=True)
                assert book.sheet_by_index(0).nrows > 1
    assert corrupt >= 1


def test_cli_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sample_exports.generator.cli import generate as cmd

    res = CliRunner().invoke(
        cmd,
        ["--preset", "small", "--seed", "1", "--years", "2024-2025", "--out", str(tmp_path / "o"), "--quiet"],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "_truth" / "indicator_values.csv").is_file()
    bad = CliRunner().invoke(cmd, ["--years", "2024-2026", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0
