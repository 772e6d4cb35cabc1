"""The generator's plan for one school × school year: every entity as plain records.

The plan is the single source of both the written files (`layouts.py`) and the truth (`truth.py`):
truth is computed from these records, never by reading the files back. Values stored here are the
values written to the files (before quirks), so that every rule can be evaluated on them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from . import curriculum as cur
from .ids import (
    ETHNICITIES,
    adult_birth_date,
    birth_date,
    citizen_id,
    fake_uuid4,
    person_name,
    phone,
    random_day,
)
from .presets import School

#: Sources a school-year may lack entirely (so that `no_data` happens).
OPTIONAL_SOURCES = (
    "lms",
    "resources",
    "cbt",
    "rooms",
    "health",
    "vouchers",
    "sync_log",
    "fees",
    "parent_accounts",
    "transcripts",
    "gradebook",
    "admissions",
    "csdl_student",
)


def year_window(year: str) -> tuple[date, date]:
    a = int(year[:4])
    return date(a, 8, 1), date(a + 1, 7, 31)


@dataclass
class Klass:
    code: str
    name: str
    grade: int
    site: str
    homeroom: str  # staff_id
    combined: bool
    two_sessions: bool
    size: int = 0  # enrolled students (written as Sĩ số)


@dataclass
class Student:
    moet_id: str
    local_id: str
    name: str
    female: bool
    dob: date
    ethnicity: str
    status: str  # Vietnamese status text as written
    status_date: date
    klass: int
    cccd: str
    phone: str
    father: str
    mother: str
    disability: str
    in_platform: bool = True

    @property
    def enrolled(self) -> bool:
        return self.status in ("Đang học", "Chuyển đến", "Nghỉ học xin học lại")


@dataclass
class Staff:
    staff_id: str
    name: str
    female: bool
    dob: date
    email: str
    phone: str
    status: str
    position: str
    subjects: list[str]
    qualification: str
    it_level: str

    @property
    def active(self) -> bool:
        return self.status == "Đang làm việc"

    @property
    def teacher(self) -> bool:
        return self.position.startswith("Giáo viên")

    @property
    def complete(self) -> bool:
        return bool(self.position) and bool(self.status) and (not self.teacher or bool(self.subjects))


@dataclass
class Room:
    code: str
    name: str
    rtype: str  # Vietnamese label
    site: str
    build: str
    area: float
    projector: bool
    internet: bool
    computers: int
    working: int


@dataclass
class Assignment:
    staff: int
    klass: int
    subject: str
    per_week: int


@dataclass
class Marks:
    """Semester-1 marks of one student in one (class, subject) pair. TT22: tx/gk/ck; TT27: level/test."""

    tx: list[float | str] = field(default_factory=list)
    gk: float | str | None = None
    ck: float | str | None = None
    level: str | None = None
    test: int | None = None


@dataclass
class Resource:
    rid: str
    title: str
    subject: str
    grade: int
    ctype: str
    author: str
    created: date
    approval: str  # Đã duyệt / Chờ duyệt / Từ chối
    moderation: str  # Normal / ReviewedSafe / Flagged
    shared: bool
    downloads: int


@dataclass
class Test:
    tid: str
    name: str
    subject: str
    grade: int
    kind: str  # Thường xuyên / Giữa kỳ / Cuối kỳ
    mode: str  # Phòng máy / Trực tuyến
    held: date
    n_cand: int
    n_sub: int
    sync: str


@dataclass
class YearPlan:
    school: School
    year: str
    missing: set[str]
    classes: list[Klass]
    students: list[Student]
    staff: list[Staff]
    assignments: list[Assignment]
    rooms: list[Room]
    marks: dict[tuple[int, str], dict[int, Marks]] = field(default_factory=dict)
    transcripts: list[tuple[int, str, str, date | None, str]] = field(default_factory=list)
    lms_users: list[tuple[str, str, int | None, str | None, dict[str, int]]] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    tests: list[Test] = field(default_factory=list)
    training: list[dict] = field(default_factory=list)
    parent_accounts: list[dict] = field(default_factory=list)
    fees: list[dict] = field(default_factory=list)
    admissions: list[dict] = field(default_factory=list)
    health: list[dict] = field(default_factory=list)
    vouchers: list[dict] = field(default_factory=list)
    sync_log: list[dict] = field(default_factory=list)

    @property
    def start(self) -> int:
        return int(self.year[:4])

    def enrolled_students(self) -> list[int]:
        """Indexes of enrolled students per docs/indicators.md §3.2 (CSDL export, else platform list)."""
        if "csdl_student" in self.missing:
            return [i for i, s in enumerate(self.students) if s.enrolled and s.in_platform]
        return [i for i, s in enumerate(self.students) if s.enrolled]


class IdCounter:
    """Province-wide sequential identifiers (deterministic in generation order)."""

    def __init__(self, province_code: str) -> None:
        self.prov = province_code
        self.student = 0
        self.staff = 0
        self.parent = 0

    def moet(self) -> str:
        self.student += 1
        return f"{self.prov}{self.student:08d}"

    def staff_id(self) -> str:
        self.staff += 1
        return f"CB{self.staff:08d}"


def _site_names(school: School) -> list[str]:
    main = "Điểm trường chính"
    return [main] + [f"Điểm trường bản {k}" for k in range(1, school.n_sites)]


def id_budget(school: School) -> tuple[int, int, int]:
    """Upper bounds of the (student, staff, parent) identifiers `build_year` draws for one school-year."""
    grades = school.grades
    per_grade = max(1, round(school.pupils / len(grades)))
    lo, hi = school.class_size
    n_cls = len(grades) * max(1, math.ceil(per_grade / ((lo + hi) / 2)))
    students = n_cls * hi
    n_teachers = max(4, round(school.pupils / 18))
    staff = n_teachers + max(2, round(n_teachers * 0.2)) + 1
    return students, staff, max(1, students // 20)


def build_year(school: School, year: str, ids: IdCounter, small: bool) -> YearPlan:
    """Plan every entity of one school in one school year."""
    rng = random.Random(f"{school.seed}:{year}")
    start = int(year[:4])
    w0, _w1 = year_window(year)
    mat = school.maturity
    missing = _pick_missing(rng, school, small, year)
    sites = _site_names(school)
    grades = school.grades
    primary = school.level in ("TH", "TH_THCS", "TH_THCS_THPT")
    ethnic_lang = school.disadvantaged and primary and rng.random() < 0.5

    # ---- classes and students
    per_grade = max(1, round(school.pupils / len(grades)))
    classes: list[Klass] = []
    for g in grades:
        lo, hi = school.class_size
        n_cls = max(1, math.ceil(per_grade / ((lo + hi) / 2)))
        for k in range(n_cls):
            nm = f"{g}{chr(65 + k)}" if k < 26 else f"{g}A{k}"
            classes.append(
                Klass(
                    f"{school.code}-{start}-{len(classes) + 1:02d}",
                    nm,
                    g,
                    sites[k % len(sites)] if len(sites) > 1 else sites[0],
                    "",
                    False,
                    rng.random() < 0.6,
                )
            )
    if school.level in ("TH", "TH_THCS") and school.n_sites > 2 and len(classes) > 2:
        # a combined class (lớp ghép) in a satellite site
        k = next((i for i, c in enumerate(classes) if c.grade == 1), None)
        if k is not None:
            c = classes[k]
            c.name, c.combined = f"1+2{c.name[1:]}", True
    students: list[Student] = []
    statuses = (
        ("Đang học", 0.93),
        ("Chuyển đến", 0.025),
        ("Nghỉ học xin học lại", 0.005),
        ("Chuyển đi", 0.02),
        ("Thôi học", 0.015),
        ("Tạm nghỉ", 0.005),
    )
    for ci, c in enumerate(classes):
        n = rng.randint(*school.class_size)
        for _ in range(n):
            female = rng.random() < 0.49
            dob = birth_date(rng, start, c.grade)
            st = rng.choices([s for s, _ in statuses], [w for _, w in statuses])[0]
            moet = ids.moet()
            local = (
                f"{school.code[-2:]}{rng.randrange(10**8):08d}"
                if school.platform == "vnedu"
                else f"HS{rng.randrange(10**8):08d}"
            )
            while local == moet:
                local = f"HS{rng.randrange(10**8):08d}"
            students.append(
                Student(
                    moet,
                    local,
                    person_name(rng, female),
                    female,
                    dob,
                    rng.choice(ETHNICITIES[1:]) if school.disadvantaged and rng.random() < 0.8 else "Kinh",
                    st,
                    random_day(rng, w0, date(start, 10, 15)),
                    ci,
                    citizen_id(rng, school.province_code, dob, female),
                    phone(rng),
                    person_name(rng, False),
                    person_name(rng, True),
                    "Khuyết tật vận động" if rng.random() < 0.01 else "",
                )
            )
    # platform list misses a few students (2.3.2)
    miss_rate = 0.0 if rng.random() < 0.6 else rng.uniform(0.01, 0.2) * (1.2 - mat)
    for s in students:
        s.in_platform = rng.random() >= miss_rate
    for ci, c in enumerate(classes):
        c.size = sum(1 for s in students if s.klass == ci and s.enrolled)

    # ---- staff
    sec = not primary or school.level != "TH"
    n_teachers = max(4, round(school.pupils / (18 if sec else 20)))
    staff: list[Staff] = []
    positions_non = (
        "Hiệu trưởng",
        "Phó hiệu trưởng",
        "Nhân viên kế toán",
        "Nhân viên văn thư",
        "Nhân viên thư viện",
        "Nhân viên y tế",
        "Nhân viên thiết bị",
    )
    n_non = max(2, round(n_teachers * rng.uniform(0.1, 0.2)))
    subj_pool = sorted({s for c in classes for s in _class_subjects(c, ethnic_lang, rng=None)})
    for k in range(n_teachers + n_non):
        female = rng.random() < 0.7
        teacher = k < n_teachers
        sid = ids.staff_id()
        name = person_name(rng, female)
        status = rng.choices(
            ("Đang làm việc", "Tạm nghỉ", "Nghỉ hưu", "Chuyển công tác"), (0.94, 0.03, 0.02, 0.01)
        )[0]
        pos = "Giáo viên" if teacher else positions_non[(k - n_teachers) % len(positions_non)]
        subs = [subj_pool[k % len(subj_pool)]] if teacher else []
        if teacher and rng.random() < 0.3:
            subs.append(subj_pool[(k + 3) % len(subj_pool)])
        if rng.random() < 0.04 * (1.3 - mat):
            if teacher:
                subs = []
            else:
                pos = ""
        staff.append(
            Staff(
                sid,
                name,
                female,
                adult_birth_date(rng, start),
                f"{sid.lower()}@{school.code}.edu.vn",
                phone(rng),
                status,
                pos,
                subs,
                rng.choice(("Đại học", "Thạc sĩ", "Cao đẳng")),
                rng.choice(("Cơ bản", "Nâng cao", "Chứng chỉ ứng dụng CNTT cơ bản")),
            )
        )
    teachers = [i for i, s in enumerate(staff) if s.position == "Giáo viên" or (i < n_teachers)]
    # ---- teaching assignments (both semesters identical)
    assignments: list[Assignment] = []
    by_subject: dict[str, list[int]] = {}
    for i in teachers:
        for s in staff[i].subjects:
            by_subject.setdefault(s, []).append(i)
    for ci, c in enumerate(classes):
        c.homeroom = staff[teachers[ci % len(teachers)]].staff_id
        for subj in _class_subjects(c, ethnic_lang, rng):
            pool = by_subject.get(subj) or teachers
            t = pool[(ci + len(subj)) % len(pool)]
            per_year = (
                cur.periods_per_year(subj, c.grade)
                if c.grade >= 6
                else (105 if subj in ("TOAN", "TV") else 35)
            )
            assignments.append(Assignment(t, ci, subj, max(1, round(per_year / 35))))

    # ---- rooms
    rooms: list[Room] = []
    n_classrooms = max(1, len(classes) - rng.randint(0, max(0, len(classes) // 6)))
    good_share = min(1.0, max(0.0, rng.gauss(mat, 0.15)))
    for k in range(n_classrooms):
        both = rng.random() < good_share
        proj = both or rng.random() < 0.4
        net = both or (rng.random() < 0.5 and not proj)
        rooms.append(
            Room(
                f"P{k + 1:03d}",
                f"Phòng học {k + 1}",
                "Phòng học",
                sites[k % len(sites)],
                rng.choice(("Kiên cố", "Bán kiên cố", "Cấp 4", "Tạm")) if school.n_sites > 1 else "Kiên cố",
                round(rng.uniform(40, 60), 1),
                proj,
                net,
                0,
                0,
            )
        )
    n_labs = 0 if (mat < 0.2 and rng.random() < 0.5) else (1 if school.pupils < 800 else 2)
    for k in range(n_labs):
        tot = rng.randint(15, 45)
        rooms.append(
            Room(
                f"PT{k + 1:02d}",
                f"Phòng Tin học {k + 1}",
                "Phòng Tin học",
                sites[0],
                "Kiên cố",
                round(rng.uniform(50, 70), 1),
                True,
                True,
                tot,
                tot - rng.randint(0, tot // 4),
            )
        )
    for lab, typ in (
        ("Thư viện", "Thư viện"),
        ("Phòng y tế", "Phòng y tế"),
        ("Phòng hành chính", "Phòng hành chính"),
        ("Phòng Ngoại ngữ", "Phòng Ngoại ngữ"),
        ("Phòng học bộ môn", "Phòng học bộ môn"),
        ("Phòng studio", "Phòng studio"),
    ):
        if typ in ("Phòng studio", "Phòng Ngoại ngữ", "Phòng học bộ môn") and rng.random() > mat:
            continue
        rooms.append(
            Room(
                f"PC{len(rooms) + 1:03d}",
                lab,
                typ,
                sites[0],
                "Kiên cố",
                round(rng.uniform(30, 80), 1),
                rng.random() < 0.5,
                rng.random() < 0.7,
                0,
                0,
            )
        )

    plan = YearPlan(school, year, missing, classes, students, staff, assignments, rooms)
    _plan_activity(plan, rng, ids, ethnic_lang)
    return plan


def _pick_missing(rng: random.Random, school: School, small: bool, year: str) -> set[str]:
    if small:
        # deterministic coverage: each small school lacks a different set in each year
        table = {
            0: {"cbt"},
            1: {"lms", "vouchers"},
            2: {"admissions"},
            3: {"resources", "sync_log", "health"},
            4: {"fees", "csdl_student"},
        }
        m = set(table[school.idx % 5])
        if year[:4] == "2023":
            m = {"parent_accounts"} if school.idx == 0 else {"transcripts"} if school.idx == 2 else m
        return m
    p = 0.1 * (1.3 - school.maturity)
    return {
        s for s in OPTIONAL_SOURCES if rng.random() < (p * 0.3 if s in ("csdl_student", "gradebook") else p)
    }


def _class_subjects(c: Klass, ethnic_lang: bool, rng: random.Random | None) -> list[str]:
    if c.grade <= 5:
        return cur.primary_subjects(c.grade, ethnic_lang)
    if c.grade <= 9:
        return list(cur.THCS_SUBJECTS)
    # 4 electives, deterministic per class name
    el = cur.THPT_ELECTIVES
    k = sum(map(ord, c.name)) % len(el)
    return [*cur.THPT_CORE, *(el[(k + j * 2) % len(el)] for j in range(4))]


def class_subjects(c: Klass, plan: YearPlan) -> list[str]:
    """Subjects of a class as planned (from the teaching assignments)."""
    ci = plan.classes.index(c)
    return [a.subject for a in plan.assignments if a.klass == ci]


def _plan_activity(plan: YearPlan, rng: random.Random, ids: IdCounter, ethnic_lang: bool) -> None:
    """Marks, transcripts, LMS, resources, tests, accounts, fees, admissions, health, vouchers, sync."""
    sch = plan.school
    mat = sch.maturity
    start = plan.start
    w0, w1 = year_window(plan.year)
    # students absent from the platform never appear in platform exports
    enrolled = [i for i in plan.enrolled_students() if plan.students[i].in_platform]
    enrolled_set = set(enrolled)
    by_class: dict[int, list[int]] = {}
    for i, s in enumerate(plan.students):
        by_class.setdefault(s.klass, []).append(i)
    # ---- semester-1 marks per (class, subject)
    for a in plan.assignments:
        c = plan.classes[a.klass]
        pair: dict[int, Marks] = {}
        incomplete = rng.random() < 0.08 * (1.3 - mat)
        members = [i for i in by_class.get(a.klass, []) if i in enrolled_set]
        victim = rng.choice(members) if (incomplete and members) else None
        for i in members:
            m = Marks()
            if c.grade <= 5:
                m.level = rng.choices(("T", "H", "C"), (0.45, 0.5, 0.05))[0]
                if cur.has_ck1_test(a.subject, c.grade):
                    m.test = min(10, max(1, round(rng.gauss(7.5, 1.5))))
                if i == victim:
                    m.level = None
            else:
                need = cur.required_tx(cur.periods_per_year(a.subject, c.grade))
                n_tx = need + (1 if rng.random() < 0.3 else 0)
                if a.subject in cur.COMMENT_ONLY:
                    m.tx = ["Đ" if rng.random() < 0.95 else "CĐ" for _ in range(n_tx)]
                    m.gk = "Đ"
                    m.ck = "Đ" if rng.random() < 0.96 else "CĐ"
                else:
                    base = rng.uniform(5, 9.3)
                    m.tx = [_mark(rng, base) for _ in range(n_tx)]
                    m.gk, m.ck = _mark(rng, base), _mark(rng, base)
                if i == victim:
                    if rng.random() < 0.5:
                        m.ck = None
                    else:
                        m.tx = m.tx[: need - 1]
            pair[i] = m
        plan.marks[(a.klass, a.subject)] = pair
    # ---- transcripts
    for i in enrolled:
        r = rng.random()
        if r < 0.25 + 0.65 * mat:
            plan.transcripts.append(
                (
                    i,
                    fake_uuid4(rng),
                    "Đã ký phát hành",
                    random_day(rng, date(start + 1, 5, 20), date(start + 1, 6, 30)),
                    "Đã đồng bộ",
                )
            )
        elif r < 0.92:
            plan.transcripts.append((i, "", rng.choice(("Chưa ký", "GVCN đã ký")), None, "Chưa đồng bộ"))
    # ---- LMS activity
    active_staff = [k for k, s in enumerate(plan.staff) if s.active]
    for k in active_staff:
        s = plan.staff[k]
        if not s.teacher and rng.random() < 0.7:
            continue
        eng = rng.random() < 0.35 + 0.6 * mat
        metrics = {
            "live_sessions": rng.randint(0, 12) if eng and rng.random() < 0.8 * mat + 0.1 else 0,
            "lessons_assigned": rng.randint(0, 20) if eng else 0,
            "questions_answered": rng.randint(0, 30) if eng and rng.random() < mat + 0.1 else 0,
            "tests_graded": rng.randint(0, 8) if eng and rng.random() < mat else 0,
            "active_events": rng.randint(5, 120) if eng else rng.randint(0, 4),
        }
        subj = s.subjects[0] if s.subjects else None
        plan.lms_users.append((s.staff_id, "Giáo viên", None, subj, metrics))
    for i in enrolled[: max(1, len(enrolled) // 10)]:
        st = plan.students[i]
        plan.lms_users.append(
            (
                st.moet_id,
                "Học sinh",
                plan.classes[st.klass].grade,
                None,
                {"questions_answered": 0, "active_events": rng.randint(0, 40)},
            )
        )
    if rng.random() < mat + 0.2:
        for _i in enrolled[: max(1, len(enrolled) // 20)]:
            ids.parent += 1
            plan.lms_users.append(
                (f"PH{ids.parent:08d}", "Phụ huynh", None, None, {"parent_views": rng.randint(0, 15)})
            )
    # ---- learning resources
    pairs = sorted({(a.subject, plan.classes[a.klass].grade) for a in plan.assignments})
    teachers = [k for k, s in enumerate(plan.staff) if s.teacher and s.active]
    cover = min(1.0, max(0.0, rng.gauss(mat, 0.2)))
    ctypes = (
        "Bài giảng điện tử",
        "Video",
        "Tài liệu",
        "Ngân hàng câu hỏi",
        "Phần mềm mô phỏng",
        "SCORM",
        "Khác",
    )
    for subj, g in pairs:
        if rng.random() >= cover:
            continue
        for _ in range(rng.randint(1, 3)):
            author = plan.staff[rng.choice(teachers)].staff_id if teachers else ""
            plan.resources.append(
                Resource(
                    f"HL{sch.code[-4:]}{len(plan.resources) + 1:05d}",
                    f"{cur.SUBJECT_NAMES[subj]} lớp {g} - bài {rng.randint(1, 30)}",
                    subj,
                    g,
                    rng.choice(ctypes),
                    author,
                    random_day(rng, w0, w1 - timedelta(days=60)),
                    rng.choices(("Đã duyệt", "Chờ duyệt", "Từ chối"), (0.8, 0.15, 0.05))[0],
                    rng.choices(("Normal", "ReviewedSafe", "Flagged"), (0.7, 0.25, 0.05))[0],
                    rng.random() < 0.5,
                    rng.randint(0, 300),
                )
            )
    # ---- computer-based tests
    scored = sorted(
        {a.subject for a in plan.assignments if cur.is_scored_for_151(a.subject, plan.classes[a.klass].grade)}
    )
    grades_of = {}
    for a in plan.assignments:
        grades_of.setdefault(a.subject, set()).add(plan.classes[a.klass].grade)
    share = min(1.0, max(0.0, rng.gauss(mat - 0.1, 0.25)))
    for subj in scored:
        if rng.random() >= share:
            continue
        g = min(grades_of[subj])
        for _ in range(rng.randint(1, 2)):
            kind = rng.choices(("Thường xuyên", "Giữa kỳ", "Cuối kỳ"), (0.3, 0.35, 0.35))[0]
            n = rng.randint(20, 200)
            synced = rng.random() < mat
            sync = (
                {"vnedu": "Đã đồng bộ vnEdu", "smas": "Đã đồng bộ SMAS"}.get(sch.platform, "Đã đồng bộ")
                if synced
                else rng.choice(("Chưa đồng bộ", ""))
            )
            plan.tests.append(
                Test(
                    f"KT{sch.code[-4:]}{len(plan.tests) + 1:04d}",
                    f"Kiểm tra {kind.lower()} {cur.SUBJECT_NAMES[subj]} khối {g}",
                    subj,
                    g,
                    kind,
                    rng.choice(("Phòng máy", "Trực tuyến")),
                    random_day(rng, date(start, 10, 1), date(start + 1, 5, 20)),
                    n,
                    n - rng.randint(0, n // 10),
                    sync,
                )
            )
    # ---- training accounts
    for k, s in enumerate(plan.staff):
        if rng.random() < 0.45 + 0.5 * mat or (k == 0):
            plan.training.append(
                {
                    "account": f"th{s.staff_id[2:]}",
                    "name": s.name,
                    "staff_id": s.staff_id if rng.random() < 0.9 else "",
                    "email": s.email if rng.random() < 0.5 else s.email.upper(),
                    "status": "Hoạt động" if rng.random() < 0.93 else "Đã khóa",
                    "created": random_day(rng, date(start - 3, 1, 1), date(start, 9, 30)),
                    "last_login": datetime.combine(
                        random_day(rng, w0, date(start + 1, 5, 30)), datetime.min.time()
                    ).replace(hour=rng.randint(6, 22)),
                    "courses": rng.randint(0, 12),
                    "staff_idx": k,
                }
            )
    # ---- parent accounts
    share = min(1.0, max(0.0, rng.gauss(mat, 0.2)))
    for i in enrolled:
        if rng.random() >= share:
            continue
        st = plan.students[i]
        status = rng.choices(("Đã kích hoạt", "Chưa kích hoạt", "Đã hủy"), (0.85, 0.1, 0.05))[0]
        last = random_day(rng, w0 - timedelta(days=60), w1 - timedelta(days=30))
        plan.parent_accounts.append(
            {
                "student": i,
                "phone": phone(rng),
                "rel": rng.choice(("Bố", "Mẹ", "Người giám hộ")),
                "registered": last - timedelta(days=rng.randint(0, 300)),
                "last": last,
                "status": status,
            }
        )
    # ---- fees
    cashless = min(1.0, max(0.0, rng.gauss(mat, 0.2)))
    for n, i in enumerate(enrolled[: max(5, len(enrolled) // 2)]):
        st = plan.students[i]
        due = rng.choice((150_000, 250_000, 350_000, 1_250_000))
        ch = (
            rng.choice(
                ("Chuyển khoản", "VietQR", "MoMo", "ZaloPay", "Internet Banking", "Quét mã QR", "VNPay")
            )
            if rng.random() < cashless
            else "Tiền mặt"
        )
        status = rng.choices(("Thành công", "Chờ xử lý", "Thất bại", "Hoàn tiền"), (0.9, 0.04, 0.04, 0.02))[0]
        paid = datetime.combine(
            random_day(rng, w0 - timedelta(days=20) if n % 25 == 0 else w0, w1), datetime.min.time()
        ).replace(hour=rng.randint(7, 21), minute=rng.randint(0, 59))
        plan.fees.append(
            {
                "tid": f"GD{sch.code[-4:]}{n + 1:06d}",
                "bill": f"HD{n + 1:06d}",
                "student": i,
                "item": "Học phí",
                "period": f"{paid.month:02d}/{paid.year}",
                "due": due,
                "paid": due
                if status in ("Thành công", "Hoàn tiền")
                else (0 if status == "Thất bại" else due),
                "channel": ch,
                "provider": {"MoMo": "MoMo", "ZaloPay": "ZaloPay"}.get(ch, "Ngân hàng TMCP"),
                "fee": rng.randint(2, 20) * 1000 if ch != "Tiền mặt" else None,
                "at": paid,
                "status": status,
            }
        )
    # ---- admissions (entry grades of the school)
    entry = [g for g in (1, 6, 10) if g in sch.grades and sch.level != "GDTX"]
    online = min(1.0, max(0.0, rng.gauss(mat, 0.2)))
    for g in entry:
        for _ in range(rng.randint(20, 60) if len(plan.students) < 3000 else rng.randint(60, 200)):
            female = rng.random() < 0.49
            dob = birth_date(rng, start, g)
            plan.admissions.append(
                {
                    "id": f"TS{start}{sch.code[-4:]}{len(plan.admissions) + 1:05d}",
                    "name": person_name(rng, female),
                    "dob": dob,
                    "female": female,
                    "eth": "Kinh",
                    "cccd": citizen_id(rng, sch.province_code, dob, female),
                    "grade": g,
                    "channel": "Trực tuyến"
                    if rng.random() < online
                    else rng.choice(("Trực tiếp", "Hồ sơ giấy")),
                    "submitted": datetime.combine(
                        random_day(rng, date(start, 6, 1), date(start, 7, 25)), datetime.min.time()
                    ).replace(hour=9),
                    "status": rng.choice(
                        ("Đã nộp", "Trúng tuyển", "Không trúng tuyển", "Rút hồ sơ", "Đã nhập học")
                    ),
                }
            )
    # ---- health
    share = min(1.0, max(0.0, rng.gauss(0.5 + 0.5 * mat, 0.15)))
    for i in enrolled:
        if rng.random() >= share:
            continue
        st = plan.students[i]
        g = plan.classes[st.klass].grade
        h = round(min(190, max(95, rng.gauss(110 + 5.5 * g, 6))), 1)
        w = round(min(90, max(13, rng.gauss(18 + 3.2 * g, 4))), 1)
        when = random_day(rng, date(start, 9, 5), date(start + 1, 4, 30))
        if rng.random() < 0.02:
            when = date(start, 7, 15)  # measured before the year window: does not count
        plan.health.append(
            {
                "student": i,
                "at": when,
                "h": h,
                "w": w,
                "bmi": _bmi(h, w),
                "blood": rng.choice(("A", "B", "AB", "O", "")),
                "eye": "Cận thị" if rng.random() < 0.1 else "Không",
                "spine": "" if rng.random() < 0.95 else "Cong vẹo cột sống",
                "cong": "",
                "swim": rng.random() < 0.4,
            }
        )
    # ---- vouchers
    for n in range(rng.randint(5, 40)):
        typ = rng.choice(("Phiếu thu", "Phiếu chi", "Giấy báo Có", "Giấy báo Nợ"))
        pre = {"Phiếu thu": "PT", "Phiếu chi": "PC", "Giấy báo Có": "BC", "Giấy báo Nợ": "BN"}[typ]
        plan.vouchers.append(
            {
                "no": f"{pre}{n + 1:05d}",
                "date": random_day(rng, w0, w1),
                "type": typ,
                "desc": rng.choice(
                    ("Thu học phí", "Chi mua văn phòng phẩm", "Chi sửa chữa", "Thu tiền bán trú")
                ),
                "amount": rng.randint(5, 500) * 10_000,
                "debit": rng.choice(("111", "112", "611")),
                "credit": rng.choice(("111", "112", "511", "3371")),
            }
        )
    # ---- sync log
    deadlines = {"DN": date(start, 9, 30), "CK1": date(start + 1, 1, 15), "CN": date(start + 1, 5, 31)}
    ents = (
        ("Học sinh", "student"),
        ("Cán bộ giáo viên", "staff"),
        ("Lớp học", "class"),
        ("Kết quả học tập", "result"),
        ("Thông tin trường học", "school"),
    )
    pnames = {"DN": "Đầu năm", "CK1": "Cuối học kỳ I", "CN": "Cuối năm"}
    for per, dl in deadlines.items():
        for label, _ent in ents:
            r = rng.random()
            if r < 0.08 * (1.3 - mat):
                continue  # never sent
            late = r < 0.15 * (1.3 - mat)
            when = datetime.combine(
                dl + timedelta(days=rng.randint(1, 20) if late else -rng.randint(0, 20)), datetime.min.time()
            ).replace(hour=rng.randint(7, 22), minute=rng.randint(0, 59), second=rng.randint(0, 59))
            n = rng.randint(10, 2000)
            if rng.random() < 0.1:
                plan.sync_log.append(
                    {
                        "at": when - timedelta(hours=2),
                        "entity": label,
                        "period": pnames[per],
                        "sem": "",
                        "sent": n,
                        "ok": 0,
                        "result": "Lỗi",
                        "msg": "Lỗi kết nối máy chủ",
                    }
                )
            partial = rng.random() < 0.07
            plan.sync_log.append(
                {
                    "at": when,
                    "entity": label,
                    "period": pnames[per],
                    "sem": "1" if per == "CK1" else "",
                    "sent": n,
                    "ok": n - (rng.randint(1, 5) if partial else 0),
                    "result": "Thành công" if not partial or rng.random() < 0.5 else "Thành công một phần",
                    "msg": f"Đồng bộ {label.lower()} thành công",
                }
            )


def _mark(rng: random.Random, base: float) -> float:
    return float(
        min(
            10.0,
            max(
                0.0,
                round(rng.gauss(base, 1.0) * 2) / 2 if rng.random() < 0.6 else round(rng.gauss(base, 1.0), 1),
            ),
        )
    )


def _bmi(h: float, w: float) -> float:
    from .rules import round_half_up

    return float(round_half_up(w / (h / 100) ** 2, 1))
