"""Real vendor exports inside a generated province (off by default): which schools send them, the plan
records turned into the writers' inputs, and the files written in place of the contract files they stand
for, each with its expected reading in `_truth/real_exports/<inbox path>.json`.

With `RealOptions.share` > 0, each school is "real" with that probability (deterministic in the seed and
the school code). A real school's files, where its plan allows it without changing any truth value:

- vnEdu primary classes: R2 `so_diem_tong_ket_khoi_khoi_<g>.xls` per grade replaces `TT27_CK1.xlsx`
  (same CK1 levels and test scores), plus R1, the year-end book of the same grade, as
  `so_diem_tong_ket_khoi_khoi_<g> (1).xls` (a second download; CN values, not read by 2.3.3);
  the school's vnEdu local ids become 10-digit numbers whose first two digits are no province code
  (in every file of the school, so the student list still cross-walks them);
- vnEdu secondary classes: R3, the term-result book per grade, `tong_hop_ket_qua_khoi_<g>_HK1.xls`,
  beside the grade books (averages only: 2.3.3 does not read them);
- other platforms' primary classes of grades 1–2 without `Tiếng dân tộc` (the only classes the R5
  template holds without loss): R5 `KQGD_TT27_Khoi1-2_HK1.xlsx`; other classes stay in `TT27_CK1.xlsx`;
- MISA secondary classes: R6 `BangDiem_<lớp>_HK1.xlsx` per class replaces `BangDiem_HK1.xlsx`;
- the CSDL student export: R4 `DanhSachHocSinh_SoGD.xlsx` (even school index) or R7 `C1-HocSinh.xls`
  (odd) replaces `CSDL_HocSinh.xls` (same pupils and statuses);
- the CSDL staff export: R7 `CSDL_GiaoVien.xls` with the staff-id column and other people's emails on
  rows no training account needs to match by email;
- class-split admissions: R9 `ChiaLop_TuyenSinh.xlsx` (`Số CCCD` or `Số CMND/TCC`);
- the province folder: R8 `DanhSachCBGVNV_ToanTinh.xlsx`, every staff member of every school (as in
  the schools' staff exports, without subjects), preschool staff and a few unmatched schools.

`key_synonym` is the share of grade-book sheets whose student-key header reads `Mã số học sinh`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import curriculum as cur
from . import real_lists as RL
from . import real_primary as RP
from . import real_secondary as RS
from .ids import COMMUNE_WORDS, adult_birth_date, person_name
from .plan import YearPlan
from .presets import School
from .real_common import Expected, vnedu_local_id, write_expected
from .sheets import Book, Col

STRUCTURES = frozenset({"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9"})
GRADEBOOK_LAYOUTS = frozenset(
    {"school.tt22_gradebook.v1", "smas.tt22_gradebook.v1", "vnedu.tt27.v1", "csdl.tt27_import.v1"}
)
KEY_HEADERS = ("Mã học sinh", "Mã HS")
KEY_SYNONYM = "Mã số học sinh"
EXPECTED_DIR = "_truth/real_exports"


@dataclass(frozen=True)
class RealOptions:
    share: float = 0.0  # share of schools sending real exports
    key_synonym: float = 0.0  # share of grade-book sheets writing `Mã số học sinh`
    structures: frozenset[str] = STRUCTURES

    def wants(self, structure: str) -> bool:
        return self.share > 0 and structure in self.structures


def is_real(opts: RealOptions, seed: int, school: School) -> bool:
    return opts.share > 0 and random.Random(f"real:{seed}:{school.code}").random() < opts.share


def _rng(seed: int, *parts: Any) -> random.Random:
    return random.Random(":".join(str(p) for p in ("real", seed, *parts)))


def key_header(opts: RealOptions, seed: int, relpath: str, sheet: str = "") -> str:
    """`Mã số học sinh` for a share `key_synonym` of grade-book sheets, else `Mã học sinh`."""
    if opts.key_synonym > 0 and _rng(seed, "keysyn", relpath, sheet).random() < opts.key_synonym:
        return KEY_SYNONYM
    return "Mã học sinh"


def apply_key_synonym(book: Book, opts: RealOptions, seed: int, relpath: str) -> None:
    """Rename the student-key header of the chosen grade-book sheets (own random stream: quirks unchanged)."""
    for sheet in book.sheets:
        if key_header(opts, seed, relpath, sheet.name) != KEY_SYNONYM:
            continue
        for block in sheet.blocks:
            block.cols = [
                Col((*c.path[:-1], KEY_SYNONYM), c.kind, c.syn) if c.path[-1] in KEY_HEADERS else c
                for c in block.cols
            ]


def prepare_plan(opts: RealOptions, seed: int, plan: YearPlan) -> bool:
    """For a real vnEdu school: numeric 10-digit local ids that are no MOET ids. Returns whether real."""
    sch = plan.school
    if not is_real(opts, seed, sch):
        return False
    if sch.platform == "vnedu" and (opts.wants("R1") or opts.wants("R2") or opts.wants("R3")):
        rng = _rng(seed, "ids", sch.code, plan.year)
        used = {s.moet_id for s in plan.students}
        for s in plan.students:
            s.local_id = vnedu_local_id(rng, used)
    return True


# --------------------------------------------------------------------------------------- adapters
def _district(school: School) -> str:
    return school.commune_name.split(" ", 1)[1]


def primary_classes(
    plan: YearPlan, grade: int, rng: random.Random, *, year_end: bool
) -> list[RP.PrimaryClass]:
    """The plan's classes of `grade` as vnEdu book input: CK1 values, or year-end values derived from them."""
    out = []
    for ci, c in enumerate(plan.classes):
        if c.grade != grade:
            continue
        subs = [a.subject for a in plan.assignments if a.klass == ci]
        members = sorted({i for s in subs for i in plan.marks.get((ci, s), {})})
        pupils = []
        for i in members:
            st = plan.students[i]
            vals: dict[str, str | int] = {}
            for s in subs:
                m = plan.marks.get((ci, s), {}).get(i)
                if m is None:
                    continue
                keys = [s, f"{s}.CN"] if s == "TINCN" else [s]
                for k in keys:
                    level, test = m.level, m.test
                    if k.endswith(".CN") and test is not None:
                        test = min(10, max(1, test + rng.choice((-1, 0, 0, 1))))
                    if year_end:
                        if level is not None and rng.random() < 0.2:
                            level = rng.choice(("T", "H"))
                        if test is not None:
                            test = min(10, max(1, test + rng.choice((-1, 0, 1))))
                    if level is not None:
                        vals[f"level:{k}"] = level
                    if test is not None:
                        vals[f"test_score:{k}"] = test
            for _g, _l, key in RP.VNEDU_COMPETENCES:
                if key in ("NL_CONGNGHE", "NL_TINHOC") and grade < 3:
                    continue
                vals[f"competence:{key}"] = rng.choices(("T", "Đ", "C"), (0.5, 0.45, 0.05))[0]
            for _l, key in RP.QUALITIES:
                vals[f"quality:{key}"] = rng.choices(("T", "Đ", "C"), (0.6, 0.38, 0.02))[0]
            p = RP.PrimaryPupil(
                st.local_id if plan.school.platform == "vnedu" else st.moet_id,
                st.name,
                st.dob,
                st.female,
                vals,
            )
            if year_end:
                p.final, p.promoted, p.awards = RP.year_end(vals, rng)
            pupils.append(p)
        out.append(RP.PrimaryClass(c.name, c.grade, pupils, c.code))
    return out


def secondary_class(plan: YearPlan, ci: int, rng: random.Random) -> RS.SecondaryClass:
    c = plan.classes[ci]
    subs = [a.subject for a in plan.assignments if a.klass == ci]
    members = sorted({i for s in subs for i in plan.marks.get((ci, s), {})})
    pupils = []
    for i in members:
        st = plan.students[i]
        marks = {s: (list(m.tx), m.gk, m.ck) for s in subs if (m := plan.marks.get((ci, s), {}).get(i))}
        pupils.append(
            RS.SecondaryPupil(
                st.moet_id,
                st.local_id,
                st.cccd,
                st.name,
                st.dob,
                marks,
                rng.choices(RS.RESULTS, (0.7, 0.2, 0.08, 0.02))[0],
                rng.choice((0, 0, 0, 1, 2)),
                rng.choice((0, 0, 0, 0, 1)),
            )
        )
    return RS.SecondaryClass(c.name, c.grade, subs, pupils)


def list_students(plan: YearPlan) -> list[RL.ListStudent]:
    out = []
    for s in plan.students:
        c = plan.classes[s.klass]
        out.append(
            RL.ListStudent(
                s.moet_id,
                s.name,
                s.dob,
                s.female,
                s.ethnicity,
                s.status,
                s.status_date,
                c.code,
                c.name,
                c.grade,
                s.cccd,
                s.phone,
                s.father,
                s.mother,
                s.disability,
            )
        )
    return out


def list_staff(plan: YearPlan) -> list[RL.ListStaff]:
    sch = plan.school
    ubnd = sch.managing_unit if sch.managing_unit.startswith("UBND") else f"UBND {sch.commune_name}"
    return [
        RL.ListStaff(
            s.staff_id,
            s.name,
            s.dob,
            s.female,
            s.email,
            s.status,
            s.position,
            ", ".join(cur.SUBJECT_NAMES[x] for x in s.subjects),
            sch.code,
            sch.name,
            ubnd,
        )
        for s in plan.staff
    ]


# ------------------------------------------------------------------------------------------ writing
@dataclass
class Written:
    """Files a real school wrote and the contract sources they replace."""

    replaced: set[str] = field(default_factory=set)
    files: int = 0
    structures: set[str] = field(default_factory=set)


def _save(out: Path, relpath: str, exp: Expected, written: Written) -> None:
    exp.file = relpath
    write_expected(out / EXPECTED_DIR / f"{relpath}.json", exp)
    written.files += 1
    written.structures.add(exp.structure)


def school_files(opts: RealOptions, seed: int, out: Path, plan: YearPlan) -> Written:
    """Write the real exports of a real school-year; the caller skips the contract files they replace."""
    w = Written()
    sch = plan.school
    if not is_real(opts, seed, sch):
        return w
    d = f"{plan.year}/{sch.code}"
    rng = _rng(seed, "files", sch.code, plan.year)
    m = plan.missing
    district = _district(sch)
    if "gradebook" not in m:
        primary = sorted({c.grade for c in plan.classes if c.grade <= 5})
        if sch.platform == "vnedu" and primary and opts.wants("R2"):
            for g in primary:
                rel = f"{d}/{RP.vnedu_summary_file_name(g)}"
                exp = RP.write_vnedu_summary(
                    out / rel,
                    primary_classes(plan, g, rng, year_end=False),
                    school_name=sch.name,
                    district=district,
                    year=plan.year,
                    period="CK1",
                    corrupt=rng.random() < 0.7,
                    key_header=key_header(opts, seed, rel),
                )
                _save(out, rel, exp, w)
                if opts.wants("R1"):
                    rel1 = rel.replace(".xls", " (1).xls")
                    exp = RP.write_vnedu_summary(
                        out / rel1,
                        primary_classes(plan, g, rng, year_end=True),
                        school_name=sch.name,
                        district=district,
                        year=plan.year,
                        period="CN",
                        corrupt=rng.random() < 0.7,
                        tick=RP.TICK if rng.random() < 0.7 else rng.choice(("✓", "✔", "x", "X", 1)),
                        family_name_column=rng.random() < 0.3,
                        key_header=key_header(opts, seed, rel1),
                    )
                    _save(out, rel1, exp, w)
            w.replaced.add("tt27_all")
        elif sch.platform != "vnedu" and primary and opts.wants("R5"):
            lossless = []
            for k in primary_classes_all(plan, rng):
                allowed = {f"level:{s}" for _l, s, _t in RP.CSDL_SUBJECTS} | {
                    "test_score:TOAN",
                    "test_score:TV",
                }
                if k.grade <= 2 and all(
                    key in allowed for p in k.pupils for key in p.values if key.startswith(("level", "test"))
                ):
                    lossless.append(k)
            if lossless:
                rel = f"{d}/KQGD_TT27_Khoi1-2_HK1.xlsx"
                exp = RP.write_csdl_tt27_import(
                    out / rel, lossless, year=plan.year, key_header=key_header(opts, seed, rel)
                )
                _save(out, rel, exp, w)
                w.replaced |= {f"tt27_class:{k.code}" for k in lossless}
        secondary = [ci for ci, c in enumerate(plan.classes) if c.grade >= 6]
        if sch.platform == "vnedu" and secondary and opts.wants("R3"):
            for g in sorted({plan.classes[ci].grade for ci in secondary}):
                rel = f"{d}/tong_hop_ket_qua_khoi_{g}_HK1.xls"
                exp = RS.write_vnedu_tt22_summary(
                    out / rel,
                    [secondary_class(plan, ci, rng) for ci in secondary if plan.classes[ci].grade == g],
                    year=plan.year,
                    semester=1,
                    roman=rng.random() < 0.5,
                    key_header=key_header(opts, seed, rel),
                    key_numeric=True,
                )
                _save(out, rel, exp, w)
        if sch.platform == "misa" and secondary and opts.wants("R6"):
            for ci in secondary:
                c = plan.classes[ci]
                rel = f"{d}/BangDiem_{c.name.replace('+', '_')}_HK1.xlsx"
                exp = RS.write_hanoi_tt22_import(
                    out / rel,
                    secondary_class(plan, ci, rng),
                    school_name=sch.name,
                    district=district,
                    year=plan.year,
                    with_local_id=rng.random() < 0.5,
                )
                _save(out, rel, exp, w)
            w.replaced.add("tt22_csdl")
    if "csdl_student" not in m and (opts.wants("R4") or opts.wants("R7")):
        use_r4 = opts.wants("R4") and (sch.idx % 2 == 0 or not opts.wants("R7"))
        students = list_students(plan)
        if use_r4:
            rel = f"{d}/DanhSachHocSinh_SoGD.xlsx"
            by_class: dict[str, list[RL.ListStudent]] = {}
            for s in students:
                by_class.setdefault(s.class_name, []).append(s)
            exp = RL.write_so_student_list(
                out / rel, by_class, province_name=_province_name(plan), commune=sch.commune_name
            )
        else:
            rel = f"{d}/C1-HocSinh.xls"
            exp = RL.write_csdl_students(out / rel, students)
        _save(out, rel, exp, w)
        w.replaced.add("csdl_student")
    if opts.wants("R7"):
        staff = list_staff(plan)
        needs_email = {a["staff_idx"] for a in plan.training if not a["staff_id"]}
        eligible = set(range(len(staff))) - needs_email
        rel = f"{d}/CSDL_GiaoVien.xls"
        exp = RL.write_csdl_staff(
            out / rel, staff, emails=RL.unreliable_emails(staff, rng, 0.2, eligible), with_staff_id=True
        )
        _save(out, rel, exp, w)
        w.replaced.add("staff")
    if (
        "admissions" not in m
        and plan.admissions
        and sch.formats.get("admissions") == "class_split"
        and opts.wants("R9")
    ):
        blocks = []
        for g in (1, 6, 10):
            ecls = [c for c in plan.classes if c.grade == g]
            apps = [a for a in plan.admissions if a["grade"] == g]
            for j, c in enumerate(ecls):
                mine = apps[j :: len(ecls)]
                blocks.append(
                    (
                        c.name,
                        [
                            RL.Applicant(
                                a["name"], a["dob"], a["female"], a["eth"], a["cccd"] if k % 5 else None
                            )
                            for k, a in enumerate(mine, 1)
                        ],
                    )
                )
        rel = f"{d}/ChiaLop_TuyenSinh.xlsx"
        exp = RL.write_admission_split(out / rel, blocks, id_header=rng.choice(("Số CCCD", "Số CMND/TCC")))
        _save(out, rel, exp, w)
        w.replaced.add("admissions_split")
    return w


def primary_classes_all(plan: YearPlan, rng: random.Random) -> list[RP.PrimaryClass]:
    out: list[RP.PrimaryClass] = []
    for g in sorted({c.grade for c in plan.classes if c.grade <= 5}):
        out += primary_classes(plan, g, rng, year_end=False)
    return out


def _province_name(plan: YearPlan) -> str:
    from .presets import PRESETS

    return next(p.province_name for p in PRESETS.values() if p.province_code == plan.school.province_code)


def tt27_classes_left(plan: YearPlan, replaced: set[str]) -> set[int] | None:
    """Primary classes still written in `TT27_CK1.xlsx` (None: all of them, nothing replaced)."""
    if "tt27_all" in replaced:
        return set()
    codes = {r.split(":", 1)[1] for r in replaced if r.startswith("tt27_class:")}
    if not codes:
        return None
    return {ci for ci, c in enumerate(plan.classes) if c.grade <= 5 and c.code not in codes}


def province_staff_rows(plan: YearPlan) -> list[RL.ListStaff]:
    return list_staff(plan)


def province_staff_file(
    opts: RealOptions, seed: int, out: Path, year: str, schools: list[School], rows: list[RL.ListStaff]
) -> Written:
    """R8 in `<year>/province/`: every school's staff, plus preschool staff and unmatched schools."""
    w = Written()
    if not opts.wants("R8") or not rows:
        return w
    rng = _rng(seed, "r8", year)
    extra: list[RL.ListStaff] = []
    keys = {RL.registry_key(s.name) for s in schools}
    start = int(year[:4])
    for k in range(max(5, len(rows) // 4)):
        w_ = f"{rng.choice(COMMUNE_WORDS)} {rng.choice(COMMUNE_WORDS)}"
        female = rng.random() < 0.9
        extra.append(
            RL.ListStaff(
                f"MN{rng.randrange(10**8):08d}",
                person_name(rng, female),
                adult_birth_date(rng, start),
                female,
                "",
                "Đang làm việc",
                rng.choice(RL.PRESCHOOL_POSITIONS),
                "",
                "",
                f"Trường {'Mầm non' if k % 4 else 'Mẫu giáo'} {w_}",
                f"UBND Xã {w_}",
            )
        )
    for _k in range(max(3, len(rows) // 500)):
        while True:
            nm = f"Trường THCS {rng.choice(COMMUNE_WORDS)} {rng.choice(COMMUNE_WORDS)} cũ"
            if RL.registry_key(nm) not in keys:
                break
        extra.append(
            RL.ListStaff(
                f"CX{rng.randrange(10**8):08d}",
                person_name(rng, False),
                adult_birth_date(rng, start),
                False,
                "",
                "Đang làm việc",
                "Giáo viên",
                "",
                "",
                nm,
                "UBND Xã Không Rõ",
            )
        )
    all_rows = rows + extra
    rng.shuffle(all_rows)
    rel = f"{year}/province/DanhSachCBGVNV_ToanTinh.xlsx"
    exp = RL.write_province_staff(out / rel, all_rows, registry={s.code: s.name for s in schools}, seed=seed)
    _save(out, rel, exp, w)
    return w
