"""Writers of the real list exports of docs/real_exports.md: the CSDL student list as a Sở exports it (R4),
the CSDL exports `C1-HocSinh` and `CSDL_GiaoVien` (R7), the province-wide staff list (R8) and the
admission class-split sheet (R9).

Each writer takes made-up people (`fake_*` helpers here, or records of a generator plan through
`real_province`), writes one real file and returns its `Expected` reading.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .ids import COMMUNE_WORDS, ETHNICITIES, adult_birth_date, birth_date, citizen_id, person_name, phone
from .real_common import (
    Canvas,
    Expected,
    ExpectedColumn,
    ExpectedSheet,
    col_letter,
    dmy,
    set_xlsx_dimension,
    write_book,
)

ENROLLED = ("Đang học", "Chuyển đến", "Nghỉ học xin học lại")
STATUS_CODE = {
    "Đang học": "studying",
    "Chuyển đến": "transferred_in",
    "Nghỉ học xin học lại": "returned",
    "Chuyển đi": "transferred_out",
    "Thôi học": "dropped_out",
    "Tạm nghỉ": "suspended",
}
STAFF_STATUS = {
    "Đang làm việc": "working",
    "Tạm nghỉ": "leave",
    "Nghỉ hưu": "retired",
    "Chuyển công tác": "transferred",
}
JOBS = ("Làm ruộng", "Công nhân", "Buôn bán", "Giáo viên", "Lái xe", "Nội trợ", "Tự do", "Cán bộ")


@dataclass
class ListStudent:
    """A pupil as CSDL lists it."""

    moet_id: str
    full_name: str
    dob: date
    female: bool
    ethnicity: str
    status: str  # Vietnamese status text
    status_date: date
    class_code: str
    class_name: str
    grade: int
    citizen_id: str
    phone: str
    father: str
    mother: str
    disability: str = ""


def fake_students(
    rng: random.Random, class_name: str, grade: int, n: int, *, province_code: str = "01", start: int = 2024
) -> list[ListStudent]:
    out = []
    for _ in range(n):
        female = rng.random() < 0.49
        dob = birth_date(rng, start, grade)
        out.append(
            ListStudent(
                f"{province_code}{rng.randrange(10**8):08d}",
                person_name(rng, female),
                dob,
                female,
                rng.choice(ETHNICITIES),
                rng.choices(list(STATUS_CODE), (0.9, 0.03, 0.01, 0.03, 0.02, 0.01))[0],
                date(start, 9, 5),
                f"LOP-{class_name}",
                class_name,
                grade,
                citizen_id(rng, province_code, dob, female),
                phone(rng),
                person_name(rng, False),
                person_name(rng, True),
                "Khuyết tật vận động" if rng.random() < 0.02 else "",
            )
        )
    return out


def _student_record(r: int, s: ListStudent) -> dict[str, Any]:
    return {
        "row": r,
        "moet_id": s.moet_id,
        "status": STATUS_CODE.get(s.status, "other"),
        "is_enrolled": s.status in ENROLLED,
        "class_name": s.class_name,
        "grade": s.grade,
        "sex": "F" if s.female else "M",
    }


# ------------------------------------------------------------------------------------------------ R4
R4_HEADER = (
    ("STT", "ignore"),
    ("Mã định danh Bộ GD&ĐT", "moet_id"),
    ("Họ tên", "full_name"),
    ("Ngày sinh", "dob"),
    ("Giới tính", "sex"),
    ("Dân tộc", "ethnicity"),
    ("Trạng thái", "status"),
    ("SĐT liên hệ", "phone"),
    ("Nơi sinh chi tiết", "birthplace"),
    ("Tổ/thôn Hộ khẩu thường trú", "permanent_hamlet"),
    ("Tỉnh thành quê quán", "home_province"),
    ("Phường Xã quê quán", "home_commune"),
    ("Chỗ ở hiện nay", "address"),
    ("Số CMND", "old_id_number"),
    ("Ngày cấp", "old_id_date"),
    ("Nơi cấp", "old_id_place"),
    ("Tên cha", "father_name"),
    ("Nghề nghiệp cha", "father_job"),
    ("Năm sinh cha", "father_birth_year"),
    ("Tên mẹ", "mother_name"),
    ("Nghề nghiệp mẹ", "mother_job"),
    ("Năm sinh mẹ", "mother_birth_year"),
    ("Lớp học", "class_name"),
    ("Khối học", "grade"),
    ("Số định danh cá nhân", "citizen_id"),
)
#: columns a staff list never has: they make the sheet a student list (docs/real_exports.md R4)
R4_STUDENT_ONLY = ("Lớp học", "Khối học", "Tên cha", "Tên mẹ", "Nghề nghiệp cha", "Nghề nghiệp mẹ")


def write_so_student_list(
    path: Path, classes: dict[str, list[ListStudent]], *, province_name: str, commune: str, fmt: str = "xlsx"
) -> Expected:
    """R4: the CSDL student list a Sở exports, one sheet per class (`classes`: class name → pupils).

    Rows 1–3 `SỞ GIÁO DỤC VÀ ĐÀO TẠO <TỈNH>` | `DANH SÁCH HỌC SINH LỚP 12.6` | blank; the 25 columns on
    row 4. It holds the anchors of the CSDL staff layout (`Mã định danh Bộ GD&ĐT`, `Họ tên`,
    `Trạng thái`) but is a student list. Secondary personal columns are made up from the pupil.
    """
    grids = []
    sheets = []
    for cname, pupils in classes.items():
        cv = Canvas()
        cv.put(0, 0, f"SỞ GIÁO DỤC VÀ ĐÀO TẠO {province_name.upper()}")
        cv.put(1, 0, f"DANH SÁCH HỌC SINH LỚP {cname}")
        for c, (label, _m) in enumerate(R4_HEADER):
            cv.rect(3, c, 3, c, label)
        records = []
        for k, s in enumerate(pupils):
            rng = random.Random(f"r4:{s.moet_id}")
            hamlet = f"Thôn {1 + rng.randrange(12)}"
            old_id = f"{rng.randrange(10**9):09d}" if s.grade >= 10 and rng.random() < 0.15 else None
            fy = s.dob.year - rng.randint(22, 38)
            my = s.dob.year - rng.randint(20, 35)
            row = [
                k + 1,
                s.moet_id,
                s.full_name,
                dmy(s.dob),
                "Nữ" if s.female else "Nam",
                s.ethnicity,
                s.status,
                s.phone,
                f"{commune}, {province_name.title()}",
                hamlet,
                province_name.title(),
                commune,
                f"{hamlet}, {commune}",
                old_id,
                f"{rng.randint(1, 28):02d}/0{rng.randint(1, 9)}/{s.dob.year + 14}" if old_id else None,
                f"Công an {province_name.title()}" if old_id else None,
                s.father,
                rng.choice(JOBS),
                fy,
                s.mother,
                rng.choice(JOBS),
                my,
                cname,
                f"Khối {s.grade}",
                s.citizen_id,
            ]
            cv.row(4 + k, row)
            records.append(_student_record(5 + k, s))
        grids.append((cname.replace("/", "-")[:31], cv.grid()))
        sheets.append(
            ExpectedSheet(
                name=cname.replace("/", "-")[:31],
                read=True,
                header_rows=[4],
                first_data_row=5,
                columns=[ExpectedColumn(col_letter(j), [lab], m) for j, (lab, m) in enumerate(R4_HEADER)],
                non_empty=cv.non_empty(range(len(R4_HEADER)), range(4, 4 + len(pupils))),
                metadata={"class_name": {"value": cname, "source": "title", "cell": "A2"}},
                records=records,
            )
        )
    write_book(path, grids, fmt)
    return Expected(
        structure="R4",
        file=path.name,
        fmt=fmt,
        entity="student",
        layout="csdl.student_list_so",
        metadata={
            "school_year": {"value": None, "source": "folder"},
            "school_code": {"value": None, "source": "folder"},
            "key": "moet_id",
            "not_staff": "student list: columns a staff list never has " + ", ".join(R4_STUDENT_ONLY),
        },
        sheets=sheets,
    )


# ------------------------------------------------------------------------------------------ R7 pupils
R7_STUDENT_HEADER = (
    ("Mã lớp", "class_code"),
    ("Mã học sinh", "moet_id"),
    ("Họ tên", "full_name"),
    ("Ngày sinh", "dob"),
    ("Giới tính", "sex"),
    ("Trạng thái HS", "status"),
    ("Ngày nhập trạng thái", "status_date"),
    ("Dân tộc", "ethnicity"),
    ("Loại khuyết tật", "disability_type"),
    ("Số định danh cá nhân", "citizen_id"),
)
_CODE_LISTS = {
    "DM_DanToc": ("Mã dân tộc", "Tên dân tộc", ETHNICITIES),
    "DM_TrangThaiHS": ("Mã trạng thái", "Tên trạng thái", tuple(STATUS_CODE)),
    "DM_KhuyetTat": ("Mã khuyết tật", "Loại khuyết tật", ("Khuyết tật vận động", "Khuyết tật nghe, nói")),
}


def _code_sheet(name: str) -> tuple[tuple[str, Any], ExpectedSheet]:
    code_h, name_h, values = _CODE_LISTS[name]
    cv = Canvas()
    cv.row(0, [code_h, name_h])
    for k, v in enumerate(values, 1):
        cv.row(k, [f"{k:02d}", v])
    return (name, cv.grid()), ExpectedSheet(name=name, read=False, metadata={"kind": "code_list"})


def write_csdl_students(path: Path, students: list[ListStudent], *, fmt: str = "xls") -> Expected:
    """R7 `C1-HocSinh`: the CSDL student export, header on row 1 (10 columns), plus code-list sheets."""
    cv = Canvas()
    for c, (label, _m) in enumerate(R7_STUDENT_HEADER):
        cv.rect(0, c, 0, c, label)
    records = []
    for k, s in enumerate(students):
        cv.row(
            1 + k,
            [
                s.class_code,
                s.moet_id,
                s.full_name,
                dmy(s.dob),
                "Nữ" if s.female else "Nam",
                s.status,
                dmy(s.status_date),
                s.ethnicity,
                s.disability or None,
                s.citizen_id,
            ],
        )
        rec = _student_record(2 + k, s)
        rec["class_code"] = s.class_code
        records.append(rec)
    grids = [("Sheet1", cv.grid())]
    sheets = [
        ExpectedSheet(
            name="Sheet1",
            read=True,
            header_rows=[1],
            first_data_row=2,
            columns=[ExpectedColumn(col_letter(j), [lab], m) for j, (lab, m) in enumerate(R7_STUDENT_HEADER)],
            non_empty=cv.non_empty(range(len(R7_STUDENT_HEADER)), range(1, 1 + len(students))),
            records=records,
        )
    ]
    for name in _CODE_LISTS:
        g, es = _code_sheet(name)
        grids.append(g)
        sheets.append(es)
    write_book(path, grids, fmt)
    return Expected(
        structure="R7",
        file=path.name,
        fmt=fmt,
        entity="student",
        layout="csdl.student",
        metadata={
            "school_year": {"value": None, "source": "folder"},
            "school_code": {"value": None, "source": "folder"},
            "key": "moet_id",
        },
        sheets=sheets,
    )


# ------------------------------------------------------------------------------------------- R7 staff
@dataclass
class ListStaff:
    staff_id: str
    full_name: str
    dob: date
    female: bool
    email: str
    status: str
    position: str
    subjects: str  # `Môn dạy` text
    school_code: str = ""
    school_name: str = ""
    commune_ubnd: str = ""

    @property
    def group(self) -> str:
        if self.position.startswith("Giáo viên"):
            return "Giáo viên"
        return "Cán bộ quản lý" if "trưởng" in self.position else "Nhân viên"


def fake_staff(rng: random.Random, n: int, school_code: str = "01000001") -> list[ListStaff]:
    out = []
    for k in range(n):
        female = rng.random() < 0.7
        sid = f"CB{rng.randrange(10**8):08d}"
        teacher = k < n * 0.8
        out.append(
            ListStaff(
                sid,
                person_name(rng, female),
                adult_birth_date(rng, 2024),
                female,
                f"{sid.lower()}@{school_code}.edu.vn",
                rng.choices(tuple(STAFF_STATUS), (0.94, 0.03, 0.02, 0.01))[0],
                "Giáo viên"
                if teacher
                else rng.choice(("Hiệu trưởng", "Nhân viên kế toán", "Nhân viên y tế")),
                rng.choice(("Toán", "Ngữ văn", "Tiếng Việt, Toán", "Tin học")) if teacher else "",
                school_code,
            )
        )
    return out


def unreliable_emails(
    staff: list[ListStaff], rng: random.Random, share: float = 0.3, eligible: set[int] | None = None
) -> list[str]:
    """Emails as CSDL exports them: about `share` of the `eligible` rows carry another eligible row's
    address (a rotation among them, so each moved address appears exactly once)."""
    pool = sorted(eligible if eligible is not None else set(range(len(staff))))
    picked = [i for i in pool if rng.random() < share]
    emails = [s.email for s in staff]
    if len(picked) >= 2:
        for a, b in zip(picked, picked[1:] + picked[:1], strict=True):
            emails[a] = staff[b].email
    return emails


def write_csdl_staff(
    path: Path,
    staff: list[ListStaff],
    *,
    emails: list[str] | None = None,
    with_staff_id: bool = False,
    fmt: str = "xls",
) -> Expected:
    """R7 `CSDL_GiaoVien`: `Họ tên, Email, Trạng thái CB, Vị trí việc làm, Nhóm chức vụ, Môn dạy`, no staff
    id unless `with_staff_id` (then `Mã định danh Bộ GD&ĐT` first). `emails` are the addresses written
    (default: each row's own); the expected reading marks the rows whose address is someone else's."""
    header: list[tuple[str, str]] = [("Mã định danh Bộ GD&ĐT", "staff_id")] if with_staff_id else []
    header += [
        ("Họ tên", "full_name"),
        ("Email", "email"),
        ("Trạng thái CB", "employment_status"),
        ("Vị trí việc làm", "position"),
        ("Nhóm chức vụ", "position_group"),
        ("Môn dạy", "subjects"),
    ]
    emails = emails or [s.email for s in staff]
    cv = Canvas()
    for c, (label, _m) in enumerate(header):
        cv.rect(0, c, 0, c, label)
    records = []
    for k, s in enumerate(staff):
        row = [s.staff_id] if with_staff_id else []
        row += [s.full_name, emails[k], s.status, s.position, s.group, s.subjects or None]
        cv.row(1 + k, row)
        records.append(
            {
                "row": 2 + k,
                "staff_id": s.staff_id if with_staff_id else None,
                "employment_status": STAFF_STATUS.get(s.status, "other"),
                "position": s.position,
                "is_teacher": s.position.startswith("Giáo viên"),
                "email_is_own": emails[k] == s.email,
            }
        )
    grids = [("Sheet1", cv.grid())]
    g, code = _code_sheet("DM_DanToc")
    write_book(path, [*grids, g], fmt)
    return Expected(
        structure="R7",
        file=path.name,
        fmt=fmt,
        entity="staff",
        layout="csdl.staff",
        metadata={
            "school_year": {"value": None, "source": "folder"},
            "school_code": {"value": None, "source": "folder"},
            "key": "staff_id" if with_staff_id else None,
            "email": "unreliable: never a key",
        },
        sheets=[
            ExpectedSheet(
                name="Sheet1",
                read=True,
                header_rows=[1],
                first_data_row=2,
                columns=[ExpectedColumn(col_letter(j), [lab], m) for j, (lab, m) in enumerate(header)],
                non_empty=cv.non_empty(range(len(header)), range(1, 1 + len(staff))),
                records=records,
            ),
            code,
        ],
        summary={"rows_with_other_email": sum(1 for k, s in enumerate(staff) if emails[k] != s.email)},
    )


# ------------------------------------------------------------------------------------------------ R8
R8_HEADER = (
    ("UBND Xã", "commune_ubnd"),
    ("Tên trường", "school_name"),
    ("Mã định danh Bộ GD&ĐT", "staff_id"),
    ("Họ tên", "full_name"),
    ("Ngày sinh", "dob"),
    ("Trạng thái", "employment_status"),
    ("Vị trí việc làm", "position"),
)
PRESCHOOL_POSITIONS = ("Giáo viên mầm non", "Nhân viên nuôi dưỡng", "Hiệu trưởng", "Phó hiệu trưởng")


def registry_key(name: str) -> str:
    """How R8 names are matched to the registry: NFC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def name_as_written(name: str, rng: random.Random) -> str:
    """A school name as a province list writes it: as registered, upper-case or in NFD (same key)."""
    r = rng.random()
    if r < 0.25:
        return name.upper()
    if r < 0.35:
        return unicodedata.normalize("NFD", name)
    return name


def fake_province_staff(
    rng: random.Random,
    registry: list[tuple[str, str, str]],
    n_general: int,
    *,
    preschool_share: float = 0.25,
    unmatched: int = 12,
) -> list[ListStaff]:
    """About `n_general` staff of the registry's schools (`(code, name, UBND xã)`), plus preschool staff
    (`Trường Mầm non …`, no registry school) and `unmatched` rows of general schools not in the registry."""
    rows: list[ListStaff] = []
    for k in range(n_general):
        code, name, ubnd = registry[k % len(registry)]
        s = fake_staff(rng, 1, code)[0]
        s.school_code, s.school_name, s.commune_ubnd = code, name, ubnd
        rows.append(s)
    keys = {registry_key(n) for _c, n, _u in registry}
    n_pre = round(n_general * preschool_share)
    for _ in range(n_pre):
        w = f"{rng.choice(COMMUNE_WORDS)} {rng.choice(COMMUNE_WORDS)}"
        s = fake_staff(rng, 1)[0]
        s.school_code, s.school_name = "", f"Trường {rng.choice(('Mầm non', 'Mẫu giáo'))} {w}"
        s.commune_ubnd, s.position = f"UBND Xã {w}", rng.choice(PRESCHOOL_POSITIONS)
        rows.append(s)
    for _ in range(unmatched):
        while True:
            nm = f"Trường THCS {rng.choice(COMMUNE_WORDS)} {rng.choice(COMMUNE_WORDS)} cũ"
            if registry_key(nm) not in keys:
                break
        s = fake_staff(rng, 1)[0]
        s.school_code, s.school_name, s.commune_ubnd = "", nm, "UBND Xã Không Rõ"
        rows.append(s)
    rng.shuffle(rows)
    return rows


def is_preschool(name: str) -> bool:
    k = registry_key(name)
    return k.startswith(("trường mầm non", "trường mẫu giáo"))


def write_province_staff(
    path: Path,
    rows: list[ListStaff],
    *,
    registry: dict[str, str],
    declared_dimension: str = "A1:BS4",
    seed: int = 0,
) -> Expected:
    """R8: the province-wide staff list, one sheet, header on row 1, `declared_dimension` written as the
    sheet's `<dimension>` (a wrong one). `registry`: school code → registered name; each row's school
    name is written as registered, upper-case or NFD. Rows whose school is a preschool or matches no
    registry name are expected to be left out (counted) or reported (named)."""
    rng = random.Random(f"r8:{seed}")
    by_key = {registry_key(n): c for c, n in registry.items()}
    cv = Canvas()
    for c, (label, _m) in enumerate(R8_HEADER):
        cv.rect(0, c, 0, c, label)
    per_school: dict[str, int] = {}
    preschool = 0
    unmatched: dict[str, int] = {}
    for k, s in enumerate(rows):
        written = name_as_written(s.school_name, rng)
        cv.row(
            1 + k,
            [s.commune_ubnd or None, written, s.staff_id, s.full_name, dmy(s.dob), s.status, s.position],
        )
        code = by_key.get(registry_key(written))
        if code is not None:
            per_school[code] = per_school.get(code, 0) + 1
        elif is_preschool(written):
            preschool += 1
        else:
            unmatched[s.school_name] = unmatched.get(s.school_name, 0) + 1
    write_book(path, [("Sheet1", cv.grid())], "xlsx")
    last = f"{col_letter(len(R8_HEADER) - 1)}{len(rows) + 1}"
    set_xlsx_dimension(path, declared_dimension)
    return Expected(
        structure="R8",
        file=path.name,
        fmt="xlsx",
        entity="staff",
        layout="province.staff_list",
        metadata={
            "school_year": {"value": None, "source": "folder"},
            "school_code": {
                "value": None,
                "source": "column Tên trường, matched to the registry (NFC, case-folded)",
            },
            "key": "staff_id",
        },
        sheets=[
            ExpectedSheet(
                name="Sheet1",
                read=True,
                header_rows=[1],
                first_data_row=2,
                columns=[ExpectedColumn(col_letter(j), [lab], m) for j, (lab, m) in enumerate(R8_HEADER)],
                non_empty=cv.non_empty(range(len(R8_HEADER)), range(1, 1 + len(rows))),
            )
        ],
        declared_dimension=declared_dimension,
        summary={
            "rows": len(rows),
            "real_dimension": f"A1:{last}",
            "rows_per_school": dict(sorted(per_school.items())),
            "preschool_rows": preschool,
            "unmatched_rows": dict(sorted(unmatched.items())),
        },
    )


# ------------------------------------------------------------------------------------------------ R9
@dataclass
class Applicant:
    full_name: str
    dob: date
    female: bool
    ethnicity: str
    citizen_id: str | None
    disability: str | None = None


def write_admission_split(
    path: Path, blocks: list[tuple[str, list[Applicant]]], *, id_header: str = "Số CCCD", fmt: str = "xlsx"
) -> Expected:
    """R9: one sheet, a block per class: a line `LỚP 1A` in column A, then `Họ và tên, Ngày sinh, Nữ,
    Dân tộc, <id_header>, K.tật` (`Số CCCD`, variant `Số CMND/TCC`) and the rows; a blank row between."""
    header = (
        ("Họ và tên", "full_name"),
        ("Ngày sinh", "dob"),
        ("Nữ", "female"),
        ("Dân tộc", "ethnicity"),
        (id_header, "citizen_id"),
        ("K.tật", "disability"),
    )
    cv = Canvas()
    r = 0
    records = []
    block_meta = []
    data_rows: set[int] = set()
    for cname, apps in blocks:
        cv.put(r, 0, f"LỚP {cname}")
        for c, (label, _m) in enumerate(header):
            cv.rect(r + 1, c, r + 1, c, label)
        block_meta.append({"class_name": cname, "title_row": r + 1, "header_row": r + 2, "rows": len(apps)})
        r += 2
        for a in apps:
            cv.row(
                r,
                [a.full_name, dmy(a.dob), "x" if a.female else None, a.ethnicity, a.citizen_id, a.disability],
            )
            data_rows.add(r)
            records.append(
                {
                    "row": r + 1,
                    "assigned_class": cname,
                    "full_name": a.full_name,
                    "sex": "F" if a.female else "M",
                    "has_citizen_id": bool(a.citizen_id),
                }
            )
            r += 1
        r += 1
    write_book(path, [("ChiaLop", cv.grid())], fmt)
    return Expected(
        structure="R9",
        file=path.name,
        fmt=fmt,
        entity="admission_application",
        layout="admission.class_split",
        metadata={
            "school_year": {"value": None, "source": "folder"},
            "school_code": {"value": None, "source": "folder"},
            "key": "full_name",
            "id_header": id_header,
        },
        sheets=[
            ExpectedSheet(
                name="ChiaLop",
                read=True,
                header_rows=[b["header_row"] for b in block_meta],
                first_data_row=3,
                columns=[ExpectedColumn(col_letter(j), [lab], m) for j, (lab, m) in enumerate(header)],
                non_empty=cv.non_empty(range(len(header)), data_rows),
                metadata={"blocks": block_meta},
                records=records,
            )
        ],
    )


def fake_applicants(rng: random.Random, n: int, grade: int = 1, province_code: str = "01") -> list[Applicant]:
    out = []
    for k in range(n):
        female = rng.random() < 0.49
        dob = birth_date(rng, 2025, grade)
        out.append(
            Applicant(
                person_name(rng, female),
                dob,
                female,
                rng.choice(ETHNICITIES[:3]),
                citizen_id(rng, province_code, dob, female) if k % 5 else None,
                "x" if rng.random() < 0.03 else None,
            )
        )
    return out
