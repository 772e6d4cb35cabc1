"""The generator's real-export option (docs/real_exports.md R1–R9 inside a generated province): off by
default, same truth when on, every real file agrees with its expected reading, and the CK1 values of the vnEdu
book are the plan's (the ones the truth of 2.3.3 is computed from)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import python_calamine as pc

from sample_exports.generator import real_province as RE
from sample_exports.generator.plan import IdCounter, build_year
from sample_exports.generator.presets import PRESETS, build_schools
from sample_exports.generator.province import assign_formats, generate
from sample_exports.generator.real_common import read_expected
from tests.real_exports_check import check_expected

pytestmark = pytest.mark.integration
YEARS = ["2023-2024", "2024-2025"]
TRUTH = ("indicator_values.csv", "findings.csv", "school_levels.csv")


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("real")
    generate("small", 7, YEARS, out, 1.0, real=RE.RealOptions(1.0, 0.1))
    return out


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_truth_is_unchanged_by_real_exports(real: Path) -> None:
    inbox = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox" / "_truth"
    for name in TRUTH:
        assert _sha(real / "_truth" / name) == _sha(inbox / name), name


def test_every_real_file_matches_its_expected_reading(real: Path) -> None:
    expected = sorted((real / RE.EXPECTED_DIR).rglob("*.json"))
    seen = set()
    for e in expected:
        exp = read_expected(e)
        path = real / exp.file
        assert path.is_file(), exp.file
        check_expected(path, exp)
        seen.add(exp.structure)
    # R5 needs a non-vnEdu primary school without `Tiếng dân tộc`: the small preset has none
    assert seen == {"R1", "R2", "R3", "R4", "R6", "R7", "R8", "R9"}


def test_real_files_replace_the_contract_files(real: Path) -> None:
    for school_year in YEARS:
        vn = real / school_year / "08000001"
        assert not (vn / "TT27_CK1.xlsx").exists() and (vn / "so_diem_tong_ket_khoi_khoi_4.xls").is_file()
        assert not (vn / "CSDL_HocSinh.xls").exists() and (vn / "DanhSachHocSinh_SoGD.xlsx").is_file()
        misa = real / school_year / "08000004"
        assert not (misa / "BangDiem_HK1.xlsx").exists() and (misa / "BangDiem_6A_HK1.xlsx").is_file()
        assert (real / school_year / "province" / "DanhSachCBGVNV_ToanTinh.xlsx").is_file()


def test_key_synonym_share_of_gradebook_sheets(real: Path) -> None:
    total = synonym = 0
    for p in sorted(real.rglob("*.xls*")):
        if "_truth" in p.parts or not p.name.startswith(
            ("SoDiem", "TT27", "so_diem", "tong_hop", "BangDiem")
        ):
            continue
        wb = pc.CalamineWorkbook.from_path(str(p))
        for s in wb.sheet_names:
            cells = {str(v).casefold() for r in wb.get_sheet_by_name(s).to_python(nrows=12) for v in r}
            if "mã số học sinh" in cells:
                synonym += 1
            if cells & {"mã số học sinh", "mã học sinh", "mã hs", "mã định danh"}:
                total += 1
    assert total > 300 and 0.05 < synonym / total < 0.2, (synonym, total)


def test_vnedu_ck1_book_holds_the_plan_marks(real: Path) -> None:
    """R2's values per pupil are the plan's CK1 levels and test scores (what truth.py computes 2.3.3 from)."""
    preset = PRESETS["small"]
    schools = build_schools(preset, 7)
    assign_formats(schools, "small")
    ids = IdCounter(preset.province_code)
    opts = RE.RealOptions(1.0, 0.1)
    for school_year in YEARS:
        for sch in schools:
            plan = build_year(sch, school_year, ids, small=True)
            RE.prepare_plan(opts, 7, plan)
            if sch.platform != "vnedu" or not any(c.grade <= 5 for c in plan.classes):
                continue
            by_key = {s.local_id: i for i, s in enumerate(plan.students)}
            checked = 0
            for g in sorted({c.grade for c in plan.classes if c.grade <= 5}):
                exp = read_expected(
                    real
                    / RE.EXPECTED_DIR
                    / school_year
                    / sch.code
                    / f"so_diem_tong_ket_khoi_khoi_{g}.xls.json"
                )
                assert exp.structure == "R2"
                for sheet in exp.sheets:
                    ci = next(
                        k
                        for k, c in enumerate(plan.classes)
                        if c.name == sheet.metadata["class_name"]["value"]
                    )
                    for rec in sheet.records:
                        i = by_key[rec["key"]]
                        got = {(s, c): v for s, c, v in rec["values"] if c in ("level", "test_score")}
                        want = {}
                        for a in plan.assignments:
                            m = plan.marks[(ci, a.subject)].get(i) if a.klass == ci else None
                            if m is None:
                                continue
                            if m.level is not None:
                                want[(a.subject, "level")] = m.level
                            if m.test is not None:
                                want[(a.subject, "test_score")] = m.test
                        assert {k: v for k, v in got.items() if not k[0].endswith(".CN")} == want
                        checked += 1
            assert checked > 100


def test_share_zero_writes_no_real_file(tmp_path: Path) -> None:
    generate("small", 3, YEARS[1:], tmp_path, 0.5, real=RE.RealOptions())
    assert not (tmp_path / RE.EXPECTED_DIR).exists()
    assert not list(tmp_path.rglob("so_diem_tong_ket_*"))


def test_every_preset_defaults_to_real_exports(tmp_path: Path) -> None:
    """Each preset has a default share of real-structure schools, which `generate` takes when given no
    options: the small preset's default (0.5, seed 7) makes schools 08000001, 08000002, 08000004 and
    08000005 real, so the vnEdu books (R1, R2), the MISA class books (R6) and the CSDL lists are written,
    with the same truth as the committed sample (which is `small` at share 0: `make sample`)."""
    assert all(0 < p.real_share < 1 for p in PRESETS.values()), {
        p.name: p.real_share for p in PRESETS.values()
    }
    generate("small", 7, YEARS[1:], tmp_path, 1.0)
    structures = {read_expected(e).structure for e in (tmp_path / RE.EXPECTED_DIR).rglob("*.json")}
    assert {"R1", "R2", "R6", "R7", "R8"} <= structures, structures
    vn = tmp_path / YEARS[1] / "08000001"
    assert (vn / "so_diem_tong_ket_khoi_khoi_4.xls").is_file() and not (vn / "TT27_CK1.xlsx").exists()
    assert (tmp_path / YEARS[1] / "08000003" / "CSDL_HocSinh.xls").is_file()  # not a real school
    inbox = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox" / "_truth"
    school_year = YEARS[1]
    for name in TRUTH:
        mine = [
            r
            for r in (tmp_path / "_truth" / name).read_text(encoding="utf-8").splitlines()
            if school_year in r
        ]
        theirs = [r for r in (inbox / name).read_text(encoding="utf-8").splitlines() if school_year in r]
        assert mine and mine == theirs, name


def test_lowland_schools_emit_the_csdl_template_and_keep_their_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few schools of a larger preset (worker processes): R5 appears, truth as without real exports."""
    import sample_exports.generator.province as P

    full = P.build_schools

    def pick(preset, seed):  # type: ignore[no-untyped-def]
        s = full(preset, seed)
        other_primary = [x for x in s if x.level == "TH" and x.platform != "vnedu"][:3]
        return other_primary + [x for x in s if x.platform == "vnedu" and x.level == "THCS"][:1]

    monkeypatch.setattr(P, "build_schools", pick)
    a, b = tmp_path / "a", tmp_path / "b"
    P.generate("province-lowland", 5, YEARS[1:], a, 0.5, workers=2, real=RE.RealOptions(1.0, 0.1))
    P.generate("province-lowland", 5, YEARS[1:], b, 0.5, workers=1)
    for name in TRUTH:
        assert _sha(a / "_truth" / name) == _sha(b / "_truth" / name), name
    structures = set()
    for e in sorted((a / RE.EXPECTED_DIR).rglob("*.json")):
        exp = read_expected(e)
        check_expected(a / exp.file, exp)
        structures.add(exp.structure)
        if exp.structure == "R5":
            assert exp.summary["values_not_in_template"] == 0  # grades 1–2 without Tiếng dân tộc: lossless
            assert exp.metadata["period"]["value"] == "CK1" and exp.quarantine is None
    assert {"R3", "R5", "R7", "R8"} <= structures


def test_replacing_files_hold_the_plan_records(real: Path) -> None:
    """R6 marks, R4/R7 pupils and R7 staff are the plan's: what the replaced contract files held."""
    preset = PRESETS["small"]
    schools = build_schools(preset, 7)
    assign_formats(schools, "small")
    ids = IdCounter(preset.province_code)
    opts = RE.RealOptions(1.0, 0.1)
    counts = {"R4": 0, "R6": 0, "R7": 0}
    for school_year in YEARS:
        for sch in schools:
            plan = build_year(sch, school_year, ids, small=True)
            RE.prepare_plan(opts, 7, plan)
            folder = real / RE.EXPECTED_DIR / school_year / sch.code
            by_moet = {s.moet_id: (i, s) for i, s in enumerate(plan.students)}
            for e in sorted(folder.glob("*.json")):
                exp = read_expected(e)
                if exp.structure == "R6":
                    for sheet in exp.sheets:
                        subject = sheet.metadata["subject"]["value"]
                        ci = next(
                            k
                            for k, c in enumerate(plan.classes)
                            if c.name == sheet.metadata["class_name"]["value"]
                        )
                        marks = plan.marks[(ci, subject)]
                        assert {by_moet[r["key"]][0] for r in sheet.records} == set(marks)
                        for r in sheet.records:
                            m = marks[by_moet[r["key"]][0]]
                            want = [[subject, f"tx{k + 1}", x] for k, x in enumerate(m.tx[:4])]
                            want += [
                                [subject, c, x] for c, x in (("gk", m.gk), ("ck", m.ck)) if x is not None
                            ]
                            assert r["values"] == want
                            counts["R6"] += 1
                elif exp.structure in ("R4", "R7") and exp.entity == "student":
                    recs = [r for s in exp.sheets for r in s.records]
                    assert sorted(r["moet_id"] for r in recs) == sorted(by_moet)
                    for r in recs:
                        st = by_moet[r["moet_id"]][1]
                        assert (
                            r["is_enrolled"] is st.enrolled and r["class_name"] == plan.classes[st.klass].name
                        )
                    counts[exp.structure] += len(recs)
                elif exp.structure == "R7":
                    recs = exp.sheets[0].records
                    assert [r["staff_id"] for r in recs] == [s.staff_id for s in plan.staff]
                    assert [r["position"] for r in recs] == [s.position for s in plan.staff]
    assert all(n > 100 for n in counts.values()), counts


@pytest.mark.slow  # generates the small province and runs the whole pipeline once
def test_key_header_spelling_does_not_change_2_3_3(tmp_path: Path) -> None:
    """Issue 19: a province in which 10% of the grade-book sheets write the student key as `Mã số học sinh`
    gives the same 2.3.3 values as the truth (which the `Mã học sinh` spelling gives); before the synonym
    followed the header into every layout, those sheets were dropped without a line."""
    import pandas as pd

    from tests.integration.truth_compare import run_years

    school_year = "2024-2025"
    inbox = tmp_path / "inbox"
    generate("small", 7, [school_year], inbox, 1.0, real=RE.RealOptions(0.0, 0.1))
    _, out = run_years(inbox, tmp_path, [school_year])
    got = pd.read_csv(
        out / f"indicator_values_{school_year}.csv", dtype={"school_code": str, "criterion_code": str}
    )
    truth = pd.read_csv(
        inbox / "_truth" / "indicator_values.csv", dtype={"school_code": str, "criterion_code": str}
    )
    got = got[got["criterion_code"] == "2.3.3"].set_index("school_code")["value"].sort_index()
    want = truth[(truth["criterion_code"] == "2.3.3") & (truth["school_year"] == school_year)]
    want = want.set_index("school_code")["value"].sort_index()
    assert len(got) == 5
    pd.testing.assert_series_equal(got, want, check_names=False, atol=1e-6)
