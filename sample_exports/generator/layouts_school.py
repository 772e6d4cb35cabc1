"""Builders for the per-school layouts of docs/exports.md §3.2–§3.18 (classes, students, staff, assignments,
grade books, học bạ, LMS report, resources, tests, training and parent accounts, fees, admissions,
health, vouchers, sync log). Each returns a `Book`; planted bad rows carry their reason code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from . import curriculum as cur
from .layouts import Ctx, code_sheet, footer_block, n_bad, plant, renumber, title_block, yes
from .plan import Marks, YearPlan
from .rules import round_half_up
from .sheets import Block, Book, C, Col, Sheet

SEX = {True: "Nữ", False: "Nam"}


def skey(plan: YearPlan, i: int) -> str:
    """Student code written by platform exports: the local code (vnEdu/SMAS) or the moet_id (MISA)."""
    s = plan.students[i]
    return s.moet_id if plan.school.platform == "misa" else s.local_id


def fake_moet(plan: YearPlan, ctx: Ctx, k: int) -> str:
    """A 10-digit moet_id that no generated student has (sequence numbers never reach 99xxxxxx)."""
    return f"{plan.school.province_code}99{ctx.rng.randrange(10**6):06d}"


def _t(ctx: Ctx, plan: YearPlan, title: str, param: str | list[str], ncols: int) -> list[list[Any]]:
    return title_block(ctx, plan.school.name, title, param, ncols)


def _simple(
    ctx: Ctx,
    plan: YearPlan,
    cols: list[Col],
    rows: list[list[Any]],
    title: str,
    param: str | list[str],
    signer: str = "HIỆU TRƯỞNG",
) -> Block:
    return Block(
        cols,
        rows,
        _t(ctx, plan, title, param, len(cols)),
        footer_block(ctx, len(rows), len(cols), signer),
        merge_title_row=3,
    )


def _blocks_by_class(
    ctx: Ctx,
    plan: YearPlan,
    cols: list[Col],
    rows: list[list[Any]],
    class_of: list[int],
    title: str,
    param_fmt: str,
) -> list[Block]:
    """repeat_blocks: title (r4–r6 for later blocks) and header repeated per class."""
    blocks: list[Block] = []
    order = sorted(set(class_of))
    for bi, ci in enumerate(order):
        rs = [r for r, c in zip(rows, class_of, strict=True) if c == ci]
        for k, r in enumerate(rs, 1):
            r[0] = k
        cname = plan.classes[ci].name
        param = param_fmt.format(cls=cname, year=ctx.year)
        t = _t(ctx, plan, title, param, len(cols)) if bi == 0 else [[title], [param], []]
        blocks.append(
            Block(cols, rs, t, footer_block(ctx, len(rs), len(cols)), merge_title_row=3 if bi == 0 else 0)
        )
    return blocks


# ---------------------------------------------------------------------------------------------- 3.2
CLASS_COLS = [
    C("STT", "int"),
    C("Mã lớp", "id"),
    C("Tên lớp", syn=("Lớp học",)),
    C("Khối", syn=("Khối học",)),
    C("Điểm trường"),
    C("Mã GVCN", "id"),
    C("GVCN"),
    C("Sĩ số", "int", ("Số học sinh",)),
    C("Lớp ghép", "flag"),
    C("Học 2 buổi/ngày", "flag"),
]


def classes(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """csdl.class.v1 (.xls, no T/F, code-list sheets)."""
    names = {s.staff_id: s.name for s in plan.staff}
    rows = [
        [
            k,
            c.code,
            c.name,
            f"Khối {c.grade}" if k % 2 else c.grade,
            c.site,
            c.homeroom,
            names.get(c.homeroom, ""),
            c.size,
            yes(c.combined),
            yes(c.two_sessions),
        ]
        for k, c in enumerate(plan.classes, 1)
    ]
    return Book(
        relpath, "xls", [Sheet("Sheet1", [Block(CLASS_COLS, rows)]), code_sheet("DM_KhoiLop")], ctx.quirks
    )


# ---------------------------------------------------------------------------------------------- 3.3
STUDENT_A_COLS = [
    C("STT", "int"),
    C("Mã lớp", "id"),
    C("Mã học sinh", "id", ("Mã HS", "Mã số học sinh")),
    C("Họ tên", syn=("Họ và tên", "Họ và tên học sinh", "Tên học sinh")),
    C("Ngày sinh", "date"),
    C("Giới tính", syn=("GT",)),
    C("Trạng thái HS", syn=("Trạng thái", "Tình trạng")),
    C("Ngày nhập trạng thái", "date"),
    C("Dân tộc"),
    C("Loại khuyết tật"),
    C("Số định danh cá nhân", "id", ("Số CCCD", "CCCD", "Mã định danh cá nhân")),
    C("SĐT liên hệ", "phone", ("Số điện thoại", "Số điện thoại liên hệ", "SĐT phụ huynh")),
    C("Họ tên cha"),
    C("Họ tên mẹ"),
    C("Địa chỉ thường trú"),
]


def students_csdl(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """csdl.student.v1 (.xls, header on row 1)."""
    rows, tags = [], []
    dup_at = set()
    if "bad_rows" in ctx.quirks:
        dup_at = set(
            ctx.rng.sample(range(len(plan.students)), min(len(plan.students), n_bad(len(plan.students))))
        )
    for i, s in enumerate(plan.students):
        row = [
            0,
            plan.classes[s.klass].code,
            s.moet_id,
            s.name,
            s.dob.strftime("%d/%m/%Y"),
            SEX[s.female],
            s.status,
            s.status_date,
            s.ethnicity,
            s.disability,
            s.cccd,
            s.phone,
            s.father,
            s.mother,
            f"Thôn {1 + i % 9}, {plan.school.commune_name}",
        ]
        if i in dup_at:  # an earlier row with the same key and other values: rejected as duplicate_key
            d = list(row)
            d[3] = s.name + " A"
            rows.append(d)
            tags.append("duplicate_key")
        rows.append(row)
        tags.append(None)
    b = Block(STUDENT_A_COLS, rows, tags=tags)
    if "bad_rows" in ctx.quirks:
        plant(
            b,
            ctx.rng,
            [
                (
                    [
                        0,
                        plan.classes[0].code,
                        "2,50366E+09",
                        "Lò Văn Khánh",
                        "01/01/2015",
                        "Nam",
                        "Đang học",
                        None,
                        "Thái",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                    ],
                    "bad_id_format",
                )
            ],
        )
    renumber(b)
    return Book(relpath, "xls", [Sheet("Sheet1", [b]), code_sheet("DM_DanToc")], ctx.quirks)


STUDENT_B_COLS = [
    C("STT", "int"),
    C("Mã học sinh", "id", ("Mã HS", "Mã số học sinh")),
    C("Mã định danh Bộ GD&ĐT", "id", ("Mã định danh", "Mã định danh Bộ GDĐT", "Mã CSDL")),
    C("Họ và tên", syn=("Họ tên", "Họ và tên học sinh", "Tên học sinh")),
    C("Ngày sinh", "date"),
    C("Giới tính", syn=("GT",)),
    C("Lớp", syn=("Tên lớp", "Lớp học")),
    C("Dân tộc"),
    C("Trạng thái", syn=("Tình trạng",)),
    C("Số điện thoại liên hệ", "phone", ("Số điện thoại", "SĐT phụ huynh")),
]


def student_list(ctx: Ctx, plan: YearPlan, relpath: str, fmt: str) -> Book:
    """school.student_list.v1: one block per class with T (later blocks r4–r6) and F."""
    blocks: list[Block] = []
    per_class: dict[int, list[int]] = {}
    for i, s in enumerate(plan.students):
        if s.in_platform:
            per_class.setdefault(s.klass, []).append(i)
    for bi, ci in enumerate(sorted(per_class)):
        c = plan.classes[ci]
        rows = [
            [
                k,
                s.local_id if plan.school.platform != "misa" else s.moet_id,
                s.moet_id,
                s.name,
                s.dob,
                SEX[s.female],
                c.name,
                s.ethnicity,
                s.status,
                s.phone,
            ]
            for k, s in enumerate((plan.students[i] for i in per_class[ci]), 1)
        ]
        title = f"DANH SÁCH HỌC SINH LỚP {c.name}"
        t = (
            _t(ctx, plan, title, f"Năm học: {ctx.year}", len(STUDENT_B_COLS))
            if bi == 0
            else [[title], [f"Năm học: {ctx.year}"], []]
        )
        b = Block(
            STUDENT_B_COLS,
            rows,
            t,
            footer_block(ctx, len(rows), len(STUDENT_B_COLS)),
            merge_title_row=3 if bi == 0 else 0,
        )
        if "bad_rows" in ctx.quirks and bi == 0:
            plant(
                b,
                ctx.rng,
                [
                    (
                        [
                            0,
                            f"HS9{ctx.rng.randrange(10**7):07d}",
                            fake_moet(plan, ctx, 0),
                            "Hà Thị Mai",
                            "31/02/2013",
                            "Nữ",
                            c.name,
                            "Kinh",
                            "Đang học",
                            "0912345678",
                        ],
                        "bad_date",
                    )
                ],
            )
            renumber(b)
        blocks.append(b)
    return Book(relpath, fmt, [Sheet("DanhSachHocSinh", blocks)], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.4
STAFF_COLS = [
    C("STT", "int"),
    C("Mã định danh Bộ GD&ĐT", "id", ("Mã CBGVNV", "Mã cán bộ", "Mã giáo viên")),
    C("Họ tên"),
    C("Ngày sinh", "date"),
    C("Giới tính"),
    C("Email"),
    C("Số điện thoại", "phone"),
    C("Trạng thái CB", syn=("Trạng thái làm việc", "Trạng thái")),
    C("Vị trí việc làm", syn=("Chức danh", "Chức vụ")),
    C("Nhóm chức vụ"),
    C("Môn dạy", syn=("Môn giảng dạy",)),
    C("Trình độ chuyên môn"),
    C("Trình độ tin học"),
]


def staff(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """csdl.staff.v1 (.xls, no T/F)."""
    rows = [
        [
            k,
            s.staff_id,
            s.name,
            s.dob,
            SEX[s.female],
            s.email,
            s.phone,
            s.status,
            s.position,
            "Giáo viên" if s.teacher else ("Cán bộ quản lý" if "trưởng" in s.position else "Nhân viên"),
            ", ".join(cur.SUBJECT_NAMES[x] for x in s.subjects),
            s.qualification,
            s.it_level,
        ]
        for k, s in enumerate(plan.staff, 1)
    ]
    return Book(
        relpath, "xls", [Sheet("Sheet1", [Block(STAFF_COLS, rows)]), code_sheet("DM_ChucVu")], ctx.quirks
    )


# ---------------------------------------------------------------------------------------------- 3.5
ASSIGN_COLS = [
    C("STT", "int"),
    C("Mã giáo viên", "id", ("Mã GV", "Mã CBGVNV")),
    C("Họ tên giáo viên"),
    C("Môn học", syn=("Môn", "Môn dạy")),
    C("Lớp", syn=("Lớp dạy", "Các lớp")),
    C("Số tiết/tuần", "int"),
]


def assignments(ctx: Ctx, plan: YearPlan, relpath: str, semester: int) -> Book:
    """school.assignment.v1: one row per teacher × subject, `Lớp` listing several classes."""
    groups: dict[tuple[int, str], list[int]] = {}
    per: dict[tuple[int, str], int] = {}
    for a in plan.assignments:
        groups.setdefault((a.staff, a.subject), []).append(a.klass)
        per[(a.staff, a.subject)] = a.per_week
    rows = []
    for k, ((si, subj), cls) in enumerate(groups.items(), 1):
        sep = ", " if k % 3 else "; "
        rows.append(
            [
                k,
                plan.staff[si].staff_id,
                plan.staff[si].name,
                cur.SUBJECT_NAMES[subj],
                sep.join(plan.classes[c].name for c in cls),
                per[(si, subj)],
            ]
        )
    b = _simple(
        ctx, plan, ASSIGN_COLS, rows, "BẢNG PHÂN CÔNG GIẢNG DẠY", f"Năm học: {ctx.year} - Học kỳ: {semester}"
    )
    return Book(relpath, "xlsx", [Sheet("PhanCong", [b])], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.6 TT22
def avg_sem(m: Marks) -> Any:
    """ĐTBmhk (half-up, 1 decimal) or Đ/CĐ for comment-only subjects; None when gk/ck missing."""
    if m.gk is None or m.ck is None:
        return None
    if isinstance(m.ck, str):
        marks = [*m.tx, m.gk, m.ck]
        ok = sum(1 for x in marks if x == "Đ")
        return "Đ" if (ok == len(marks) or (3 * ok >= 2 * len(marks) and m.ck == "Đ")) else "CĐ"
    tot = sum(Decimal(str(x)) for x in m.tx) + 2 * Decimal(str(m.gk)) + 3 * Decimal(str(m.ck))
    return float(round_half_up(tot / (len(m.tx) + 5), 1))


def _mtxt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def tt22_csdl(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """csdl.tt22_import.v1: one sheet per subject (semester 1), many classes, all cells text, no F."""
    by_subject: dict[str, list[int]] = {}
    for a in plan.assignments:
        if plan.classes[a.klass].grade >= 6:
            by_subject.setdefault(a.subject, []).append(a.klass)
    cols = [
        Col(("STT",)),
        Col(("Tên lớp",)),
        Col(("Mã định danh",), "id"),
        Col(("Họ và tên",)),
        Col(("Ngày sinh",)),
        *(Col(("ĐĐGtx", str(k))) for k in range(1, 5)),
        Col(("ĐĐGgk",)),
        Col(("ĐĐGck",)),
    ]
    sheets = []
    for subj, cls in by_subject.items():
        rows: list[list[Any]] = []
        for ci in cls:
            for i, m in plan.marks[(ci, subj)].items():
                s = plan.students[i]
                tx = [*m.tx[:4], *([None] * (4 - len(m.tx[:4])))]
                rows.append(
                    [
                        "",
                        plan.classes[ci].name,
                        s.moet_id,
                        s.name,
                        s.dob.strftime("%d/%m/%Y"),
                        *(_mtxt(x) for x in tx),
                        _mtxt(m.gk),
                        _mtxt(m.ck),
                    ]
                )
        title = [
            [f"SỞ GD&ĐT {ctx.preset.province_name}", None, None, plan.school.name.upper()],
            ["BẢNG ĐIỂM HỌC KỲ"],
            [f"Năm học: {ctx.year} - Học kỳ: 1"],
            [f"Môn học: {cur.SUBJECT_NAMES[subj]}"],
        ]
        b = Block(cols, rows, title, numbering_row=True, raw_cells=True)
        if "bad_rows" in ctx.quirks and rows:
            plant(
                b,
                ctx.rng,
                [
                    (
                        [
                            "",
                            plan.classes[cls[0]].name,
                            fake_moet(plan, ctx, 0),
                            "Lê Văn Bình",
                            "14/02/2012",
                            "8",
                            "7.5",
                            "9",
                            "",
                            "11.5",
                            "8",
                        ],
                        "out_of_range",
                    )
                ],
            )
        for k, r in enumerate(b.rows, 1):
            r[0] = str(k)
        sheets.append(Sheet(subj, [b], shuffle_ok=False))
    return Book(relpath, "xlsx", sheets, ctx.quirks)


def _gb_rows(plan: YearPlan, ci: int, subj: str, flat: bool) -> list[list[Any]]:
    rows = []
    for k, (i, m) in enumerate(plan.marks[(ci, subj)].items(), 1):
        s = plan.students[i]
        ntx = 4 if flat else 5
        tx = [*m.tx[:ntx], *([None] * (ntx - len(m.tx[:ntx])))]
        if flat:
            rows.append([k, skey(plan, i), s.name, s.dob, *tx, m.gk, m.ck, avg_sem(m), None, None])
        else:
            rows.append(
                [
                    k,
                    skey(plan, i),
                    s.name,
                    s.dob,
                    SEX[s.female],
                    *tx,
                    m.gk,
                    m.ck,
                    avg_sem(m),
                    None,
                    None,
                    "Có cố gắng" if k % 7 == 0 else None,
                ]
            )
    return rows


GB_B_COLS = [
    Col(("STT",), "int"),
    Col(("Mã học sinh",), "id"),
    Col(("Họ và tên",)),
    Col(("Ngày sinh",), "date"),
    Col(("Giới tính",)),
    *(Col(("ĐĐGtx", str(k)), "num") for k in range(1, 6)),
    Col(("ĐĐGgk",), "num"),
    Col(("ĐĐGck",), "num"),
    Col(("ĐTBmhkI",), "num"),
    Col(("ĐTBmhkII",), "num"),
    Col(("ĐTBmcn",), "num"),
    Col(("Nhận xét",)),
]
GB_C_COLS = [
    C("STT", "int"),
    C("Mã HS", "id"),
    C("Họ tên"),
    C("Ngày sinh", "date"),
    *(C(f"Điểm TX{k}", "num") for k in range(1, 5)),
    C("Điểm GK", "num", ("GK", "Giữa kỳ")),
    C("Điểm CK", "num", ("CK", "Cuối kỳ")),
    C("ĐTB HK1", "num", ("ĐTBmhkI", "TBM HK1")),
    C("ĐTB HK2", "num", ("ĐTBmhkII",)),
    C("ĐTB CN", "num", ("ĐTBmcn", "TBmcn")),
]


def tt22_class_book(ctx: Ctx, plan: YearPlan, relpath: str, ci: int, flat: bool) -> Book:
    """school.tt22_gradebook.v1 (vnEdu, merged tx header) or smas.tt22_gradebook.v1 (flat): one class,
    semester 1."""
    c = plan.classes[ci]
    sheets = []
    for a in plan.assignments:
        if a.klass != ci:
            continue
        cols = GB_C_COLS if flat else GB_B_COLS
        rows = _gb_rows(plan, ci, a.subject, flat)
        param = f"Lớp: {c.name} - Môn học: {cur.SUBJECT_NAMES[a.subject]} - Học kỳ: I - Năm học: {ctx.year}"
        b = Block(
            cols,
            rows,
            title_block(ctx, plan.school.name, "BẢNG ĐIỂM MÔN HỌC", param, len(cols)),
            footer_block(ctx, len(rows), len(cols), "GIÁO VIÊN BỘ MÔN"),
            merge_title_row=3,
        )
        b.footer[3][0] = "Giáo viên bộ môn"
        if "bad_rows" in ctx.quirks and rows and len(sheets) == 0:
            bad = [0, f"HS9{ctx.rng.randrange(10**7):07d}", "Lê Văn Bình", date(2012, 2, 14)]
            bad += (
                ([] if flat else ["Nam"])
                + [8.0, 12.0]
                + [None] * (2 if flat else 3)
                + [7.5, 8.5, None, None, None]
            )
            bad += [] if flat else [None]
            plant(b, ctx.rng, [(bad, "out_of_range")])
            renumber(b)
        sheets.append(Sheet(a.subject, [b], shuffle_ok=flat))
    return Book(relpath, "xlsx", sheets, ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.6 TT27
def tt27_cols(vnedu: bool) -> list[Col]:
    top = "Đánh giá KQGD" if vnedu else "Môn học và hoạt động giáo dục"
    cols = [Col(("STT",)), *([] if vnedu else [Col(("Mã lớp",), "id")]), Col(("Mã học sinh",), "id")]
    if vnedu:
        cols.append(Col(("Mã định danh Bộ GD&ĐT",), "id"))
    cols += [Col(("Họ tên",)), Col(("Ngày sinh",), "date")]
    for _code, label, test in cur.TT27_SUBJECTS:
        cols.append(Col((top, label, "Mức đạt được")))
        if test:
            cols.append(Col((top, label, "Điểm KTĐK"), "int"))
    cols += [Col(("Năng lực cốt lõi", grp, lab)) for grp, lab, _k in cur.COMPETENCES]
    cols += [Col(("Phẩm chất chủ yếu", lab)) for lab, _k in cur.QUALITIES]
    cols += [Col(("Hoàn thành chương trình lớp học",)), Col(("Lên lớp",)), Col(("Xếp loại",))]
    return cols


def tt27_book(ctx: Ctx, plan: YearPlan, relpath: str, vnedu: bool, only: set[int] | None = None) -> Book:
    """csdl.tt27_import.v1 / vnedu.tt27.v1: one sheet per primary class at CK1 (`only`: these classes)."""
    cols = tt27_cols(vnedu)
    sheets = []
    for ci, c in enumerate(plan.classes):
        if c.grade > 5 or (only is not None and ci not in only):
            continue
        subs = {a.subject for a in plan.assignments if a.klass == ci}
        members = sorted({i for s in subs for i in plan.marks[(ci, s)]})
        rows = []
        for k, i in enumerate(members, 1):
            s = plan.students[i]
            row: list[Any] = [k, *([] if vnedu else [c.code]), skey(plan, i) if vnedu else s.moet_id]
            if vnedu:
                row.append(s.moet_id)
            row += [s.name, s.dob]
            for code, _label, test in cur.TT27_SUBJECTS:
                m = plan.marks.get((ci, code), {}).get(i) if code in subs else None
                row.append(m.level if m else None)
                if test:
                    row.append(m.test if m else None)
            rnd = (i * 7 + ci) % 10
            for _g, _l, key in cur.COMPETENCES:
                row.append(
                    None
                    if key in ("NL_CONGNGHE", "NL_TINHOC") and c.grade < 3
                    else ("T" if rnd < 5 else "Đ" if rnd < 9 else "C")
                )
            row += ["T" if rnd < 6 else "Đ" for _ in cur.QUALITIES]
            row += [None, None, None]
            rows.append(row)
        title = [
            [plan.school.name.upper()],
            ["BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC"],
            [f"Lớp: {c.name} - Kỳ đánh giá: Cuối học kỳ I - Năm học: {ctx.year}"],
        ]
        footer = [[f"Tổng số học sinh: {len(rows)}"]] if vnedu else []
        b = Block(cols, rows, title, footer)
        if "bad_rows" in ctx.quirks and rows and not sheets:
            bad = list(rows[0])
            bad[1 if vnedu else 2] = (
                f"HS9{ctx.rng.randrange(10**7):07d}" if vnedu else fake_moet(plan, ctx, 0)
            )
            if vnedu:
                bad[2] = fake_moet(plan, ctx, 0)
            bad[6] = 11  # Toán Điểm KTĐK
            plant(b, ctx.rng, [(bad, "out_of_range")])
            renumber(b)
        sheets.append(Sheet(c.name.replace("+", "_"), [b], shuffle_ok=False))
    return Book(relpath, "xlsx", sheets, ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.7
TRANSCRIPT_COLS = [
    C("STT", "int"),
    C("Mã định danh Bộ GD&ĐT", "id"),
    C("Họ và tên"),
    C("Lớp"),
    C("Mã học bạ", syn=("Mã định danh học bạ",)),
    C("Trạng thái ký"),
    C("Ngày ký phát hành", "date", ("Ngày ký", "Ngày phát hành")),
    C("Người ký"),
    C("Trạng thái đồng bộ"),
]


def transcripts(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """school.transcript_status.v1."""
    rows, cls = [], []
    for k, (i, tid, sign, when, sync) in enumerate(plan.transcripts, 1):
        s = plan.students[i]
        rows.append(
            [
                k,
                s.moet_id,
                s.name,
                plan.classes[s.klass].name,
                tid or None,
                sign,
                when,
                "Trần Thị Ký" if when else None,
                sync,
            ]
        )
        cls.append(s.klass)
    title = "DANH SÁCH HỌC BẠ SỐ"
    if "repeat_blocks" in ctx.quirks:
        blocks = _blocks_by_class(
            ctx, plan, TRANSCRIPT_COLS, rows, cls, title, "Lớp: {cls} - Năm học: {year}"
        )
    else:
        blocks = [_simple(ctx, plan, TRANSCRIPT_COLS, rows, title, f"Năm học: {ctx.year}")]
    if "bad_rows" in ctx.quirks:
        plant(
            blocks[0],
            ctx.rng,
            [
                (
                    [
                        0,
                        fake_moet(plan, ctx, 0),
                        "Đinh Văn Nam",
                        plan.classes[0].name,
                        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                        "Đã ký phát hành",
                        "30/02/2025",
                        "Trần Thị Ký",
                        "Đã đồng bộ",
                    ],
                    "bad_date",
                )
            ],
        )
        renumber(blocks[0])
    return Book(relpath, "xlsx", [Sheet("HocBa", blocks)], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.8 B
LMS_COLS = [
    C("STT", "int"),
    C("Mã người dùng", "id", ("Mã tài khoản", "Tên đăng nhập")),
    C("Họ và tên"),
    C("Vai trò", syn=("Đối tượng",)),
    C("Lớp"),
    C("Môn học"),
    C("Số buổi dạy trực tuyến", "int"),
    C("Số bài giảng đã giao", "int"),
    C("Số câu hỏi đã trả lời", "int"),
    C("Số bài kiểm tra đã chấm", "int"),
    C("Số lượt phụ huynh theo dõi", "int", ("Số lượt PHHS xem",)),
    C("Số lượt hoạt động", "int", ("Số lượt truy cập",)),
]
LMS_METRICS = (
    "live_sessions",
    "lessons_assigned",
    "questions_answered",
    "tests_graded",
    "parent_views",
    "active_events",
)


def lms_report(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """lms.activity_report.v1: semester-1 report, one row per user."""
    names = {s.staff_id: s.name for s in plan.staff} | {s.moet_id: s.name for s in plan.students}
    rows = []
    for k, (pin, role, grade, subj, mt) in enumerate(plan.lms_users, 1):
        rows.append(
            [
                k,
                pin,
                names.get(pin, "Phụ huynh học sinh"),
                role,
                str(grade) if grade else None,
                cur.SUBJECT_NAMES[subj] if subj else None,
                *(mt.get(m) for m in LMS_METRICS),
            ]
        )
    s0 = ctx.start
    b = _simple(
        ctx,
        plan,
        LMS_COLS,
        rows,
        "BÁO CÁO THỐNG KÊ HOẠT ĐỘNG DẠY HỌC TRỰC TUYẾN",
        [f"Từ ngày: 01/09/{s0} - Đến ngày: 31/12/{s0}", f"Năm học: {ctx.year} - Học kỳ: 1"],
    )
    return Book(relpath, "xlsx", [Sheet("ThongKe", [b])], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.9 A
RES_COLS = [
    C("STT", "int"),
    C("Mã học liệu", "id"),
    C("Tên học liệu"),
    C("Môn học"),
    C("Khối", "int"),
    C("Loại học liệu"),
    C("Mã giáo viên", "id"),
    C("Tác giả"),
    C("Ngày tạo", "date"),
    C("Trạng thái duyệt"),
    C("Chia sẻ lên Trục", "flag"),
    C("Lượt tải", "int"),
]


def resources(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """school.resource_list.v1."""
    names = {s.staff_id: s.name for s in plan.staff}
    rows = [
        [
            k,
            r.rid,
            r.title,
            cur.SUBJECT_NAMES[r.subject],
            r.grade,
            r.ctype,
            r.author,
            names.get(r.author),
            r.created,
            r.approval,
            yes(r.shared),
            r.downloads,
        ]
        for k, r in enumerate(plan.resources, 1)
    ]
    b = _simple(ctx, plan, RES_COLS, rows, "DANH MỤC HỌC LIỆU SỐ", f"Năm học: {ctx.year}")
    return Book(relpath, "xlsx", [Sheet("HocLieu", [b])], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.10
CBT_COLS = [
    C("STT", "int"),
    C("Mã bài kiểm tra", "id"),
    C("Tên bài kiểm tra"),
    C("Môn học"),
    C("Khối", "int"),
    C("Loại kiểm tra"),
    C("Hình thức"),
    C("Ngày kiểm tra", "date"),
    C("Số thí sinh", "int"),
    C("Số bài nộp", "int"),
    C("Đồng bộ kết quả"),
]


def tests(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """cbt.test_list.v1."""
    rows = [
        [
            k,
            t.tid,
            t.name,
            cur.SUBJECT_NAMES[t.subject],
            t.grade,
            t.kind,
            t.mode,
            t.held,
            t.n_cand,
            t.n_sub,
            t.sync or None,
        ]
        for k, t in enumerate(plan.tests, 1)
    ]
    b = _simple(ctx, plan, CBT_COLS, rows, "DANH SÁCH BÀI KIỂM TRA TRÊN MÁY TÍNH", f"Năm học: {ctx.year}")
    if "bad_rows" in ctx.quirks:
        plant(
            b,
            ctx.rng,
            [
                (
                    [
                        0,
                        "KT9999",
                        "Kiểm tra thử",
                        "Toán",
                        plan.classes[0].grade,
                        "Thường xuyên",
                        "Phòng máy",
                        date(ctx.start, 10, 5),
                        30,
                        45,
                        "Chưa đồng bộ",
                    ],
                    "out_of_range",
                )
            ],
        )
        renumber(b)
    return Book(relpath, "xlsx", [Sheet("BaiKiemTra", [b])], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.12
TRAIN_COLS = [
    C("STT", "int"),
    C("Tên đăng nhập", "id"),
    C("Họ và tên"),
    C("Mã định danh Bộ GD&ĐT", "id"),
    C("Email"),
    C("Trường"),
    C("Trạng thái tài khoản"),
    C("Ngày tạo", "date"),
    C("Lần đăng nhập cuối", "datetime"),
    C("Số khóa học hoàn thành", "int"),
]


def training_rows(plan: YearPlan) -> list[list[Any]]:
    return [
        [
            0,
            a["account"],
            a["name"],
            a["staff_id"] or None,
            a["email"],
            plan.school.name,
            a["status"],
            a["created"],
            a["last_login"],
            a["courses"],
        ]
        for a in plan.training
    ]


def training(ctx: Ctx, left2: str, rows: list[list[Any]], relpath: str) -> Book:
    """taphuan.accounts.v1 (per school or province-wide)."""
    for k, r in enumerate(rows, 1):
        r[0] = k
    b = Block(
        TRAIN_COLS,
        rows,
        title_block(
            ctx, left2, "DANH SÁCH TÀI KHOẢN BỒI DƯỠNG TRỰC TUYẾN", f"Năm học: {ctx.year}", len(TRAIN_COLS)
        ),
        footer_block(ctx, len(rows), len(TRAIN_COLS)),
        merge_title_row=3,
    )
    return Book(relpath, "xlsx", [Sheet("TaiKhoan", [b])], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.13
PARENT_COLS = [
    C("STT", "int"),
    C("Mã học sinh", "id"),
    C("Họ tên học sinh"),
    C("Lớp"),
    C("Số điện thoại phụ huynh", "phone"),
    C("Quan hệ"),
    C("Ngày đăng ký", "date"),
    C("Lần truy cập cuối", "date"),
    C("Trạng thái"),
    C("Ứng dụng"),
]
APP = {"vnedu": "vnEdu Connect", "smas": "SMAS", "misa": "MISA EMIS"}


def parent_accounts(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """school.parent_accounts.v1."""
    rows, cls = [], []
    for k, a in enumerate(plan.parent_accounts, 1):
        s = plan.students[a["student"]]
        rows.append(
            [
                k,
                skey(plan, a["student"]),
                s.name,
                plan.classes[s.klass].name,
                a["phone"],
                a["rel"],
                a["registered"],
                a["last"],
                a["status"],
                APP[plan.school.platform],
            ]
        )
        cls.append(s.klass)
    title = "DANH SÁCH TÀI KHOẢN PHỤ HUYNH"
    if "repeat_blocks" in ctx.quirks and rows:
        blocks = _blocks_by_class(ctx, plan, PARENT_COLS, rows, cls, title, "Lớp: {cls} - Năm học: {year}")
    else:
        blocks = [_simple(ctx, plan, PARENT_COLS, rows, title, f"Năm học: {ctx.year}")]
    return Book(relpath, "xlsx", [Sheet("TaiKhoanPH", blocks)], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.14
FEE_COLS = [
    C("STT", "int"),
    C("Mã giao dịch", "id"),
    C("Mã hóa đơn", "id"),
    C("Mã học sinh", "id"),
    C("Họ tên học sinh"),
    C("Lớp"),
    C("Khoản thu"),
    C("Kỳ thu"),
    C("Số tiền phải nộp", "money"),
    C("Số tiền đã nộp", "money"),
    C("Hình thức thanh toán"),
    C("Đơn vị thanh toán"),
    C("Phí giao dịch", "money"),
    C("Ngày thanh toán", "datetime"),
    C("Trạng thái"),
]


def fees(ctx: Ctx, plan: YearPlan, relpath: str, fmt: str) -> Book:
    """payment.transactions.v1 (.xlsx or ';' CSV)."""
    money_text = ctx.rng.random() < 0.3
    rows = []
    for k, f in enumerate(plan.fees, 1):
        s = plan.students[f["student"]]
        paid = f"{f['paid']:,}".replace(",", ".") if money_text else f["paid"]
        rows.append(
            [
                k,
                f["tid"],
                f["bill"],
                skey(plan, f["student"]),
                s.name,
                plan.classes[s.klass].name,
                f["item"],
                f["period"] if k % 2 else f"Tháng {int(f['period'][:2])}/{f['period'][3:]}",
                f["due"],
                paid,
                f["channel"],
                f["provider"],
                f["fee"],
                f["at"],
                f["status"],
            ]
        )
    s0 = ctx.start
    b = _simple(
        ctx,
        plan,
        FEE_COLS,
        rows,
        "BÁO CÁO ĐỐI SOÁT THU PHÍ",
        f"Từ ngày: 01/08/{s0} - Đến ngày: 31/07/{s0 + 1}",
    )
    if "bad_rows" in ctx.quirks and rows:
        r0 = rows[0]
        bad = [
            (
                [
                    0,
                    f"GDX{j:06d}",
                    "HDX",
                    r0[3],
                    r0[4],
                    r0[5],
                    "Học phí",
                    "09/2024",
                    150000,
                    "15O.000đ",
                    "Tiền mặt",
                    "",
                    None,
                    r0[13],
                    "Thành công",
                ],
                "bad_number",
            )
            for j in range(n_bad(len(rows)))
        ]
        plant(b, ctx.rng, bad)
        renumber(b)
    return Book(relpath, fmt, [Sheet("DoiSoat", [b])], ctx.quirks, csv_delimiter=";")


# ---------------------------------------------------------------------------------------------- 3.15
ADM_COLS = [
    C("STT", "int"),
    C("Mã hồ sơ", "id"),
    C("Họ và tên"),
    C("Ngày sinh", "date"),
    C("Giới tính"),
    C("Dân tộc"),
    C("Số định danh cá nhân", "id"),
    C("Đăng ký vào lớp"),
    C("Hình thức nộp"),
    C("Ngày nộp", "datetime"),
    C("Trạng thái"),
]


def admissions_portal(ctx: Ctx, plan: YearPlan, relpath: str, grade: int) -> Book:
    """admission.portal.v1 for one entry grade."""
    apps = [a for a in plan.admissions if a["grade"] == grade]
    rows = [
        [
            k,
            a["id"],
            a["name"],
            a["dob"],
            SEX[a["female"]],
            a["eth"],
            a["cccd"],
            f"Lớp {grade}" if k % 2 else str(grade),
            a["channel"],
            a["submitted"],
            a["status"],
        ]
        for k, a in enumerate(apps, 1)
    ]
    b = _simple(
        ctx, plan, ADM_COLS, rows, "DANH SÁCH HỒ SƠ TUYỂN SINH", f"Năm học: {ctx.year} - Khối: {grade}"
    )
    if "bad_rows" in ctx.quirks and rows:
        plant(
            b,
            ctx.rng,
            [
                (
                    [
                        0,
                        "TSX0001",
                        "Vi Văn Tùng",
                        date(ctx.start - 8, 3, 3),
                        "Nam",
                        "Kinh",
                        "",
                        "Lớp 3",
                        "Trực tuyến",
                        rows[0][9],
                        "Đã nộp",
                    ],
                    "unknown_value",
                )
            ],
        )
        renumber(b)
    return Book(relpath, "xlsx", [Sheet("HoSo", [b])], ctx.quirks)


SPLIT_COLS = [
    C("STT", "int"),
    C("Họ và tên"),
    C("Ngày sinh", "date"),
    C("Nữ", "flag"),
    C("Dân tộc"),
    C("Số CCCD", "id"),
    C("K.tật"),
]


def admissions_split(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """admission.class_split.v1: one block per entry-grade class, `LỚP 1A` line above each header."""
    blocks = []
    for g in (1, 6, 10):
        ecls = [c for c in plan.classes if c.grade == g]
        apps = [a for a in plan.admissions if a["grade"] == g]
        for j, c in enumerate(ecls):
            mine = apps[j :: len(ecls)]
            rows = [
                [k, a["name"], a["dob"], yes(a["female"]), a["eth"], a["cccd"] if k % 5 else None, None]
                for k, a in enumerate(mine, 1)
            ]
            blocks.append(Block(SPLIT_COLS, rows, [[f"LỚP {c.name}"]]))
    return Book(relpath, "xlsx", [Sheet("ChiaLop", blocks)], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.16
HEALTH_COLS = [
    C("STT", "int"),
    C("Mã học sinh", "id"),
    C("Họ và tên"),
    C("Lớp"),
    C("Ngày khám", "date"),
    C("Chiều cao (cm)", "num"),
    C("Cân nặng (kg)", "num"),
    C("BMI", "num"),
    C("Nhóm máu"),
    C("Bệnh về mắt"),
    C("Bệnh cột sống"),
    C("Bệnh bẩm sinh"),
    C("Biết bơi", "flag"),
]


def health(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """school.health.v1 (blocks per class with repeat_blocks)."""
    rows, cls = [], []
    for k, h in enumerate(plan.health, 1):
        s = plan.students[h["student"]]
        rows.append(
            [
                k,
                skey(plan, h["student"]),
                s.name,
                plan.classes[s.klass].name,
                h["at"],
                h["h"],
                h["w"],
                h["bmi"],
                h["blood"] or None,
                h["eye"],
                h["spine"] or None,
                h["cong"] or None,
                yes(h["swim"]),
            ]
        )
        cls.append(s.klass)
    title = "KẾT QUẢ KHÁM SỨC KHỎE HỌC SINH"
    if "repeat_blocks" in ctx.quirks and rows:
        blocks = _blocks_by_class(ctx, plan, HEALTH_COLS, rows, cls, title, "Lớp: {cls} - Năm học: {year}")
    else:
        blocks = [_simple(ctx, plan, HEALTH_COLS, rows, title, f"Năm học: {ctx.year}")]
    if "bad_rows" in ctx.quirks:
        plant(
            blocks[0],
            ctx.rng,
            [
                (
                    [
                        0,
                        f"HS9{ctx.rng.randrange(10**7):07d}",
                        "Sùng A Páo",
                        plan.classes[0].name,
                        date(ctx.start, 10, 1),
                        350.0,
                        30.0,
                        2.4,
                        "O",
                        None,
                        None,
                        None,
                        None,
                    ],
                    "out_of_range",
                )
            ],
        )
        renumber(blocks[0])
    return Book(relpath, "xlsx", [Sheet("SucKhoe", blocks)], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.17
VOUCHER_COLS = [
    C("STT", "int"),
    C("Số chứng từ", "id"),
    C("Ngày chứng từ", "date"),
    C("Loại chứng từ"),
    C("Diễn giải"),
    C("Số tiền", "money"),
    C("TK Nợ", "id"),
    C("TK Có", "id"),
]


def vouchers(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """misa.vouchers.v1 (ends with a `Cộng` row)."""
    rows = [
        [k, v["no"], v["date"], v["type"], v["desc"], v["amount"], v["debit"], v["credit"]]
        for k, v in enumerate(plan.vouchers, 1)
    ]
    s0 = ctx.start
    b = _simple(
        ctx,
        plan,
        VOUCHER_COLS,
        rows,
        "BẢNG KÊ CHỨNG TỪ",
        f"Từ ngày: 01/08/{s0} - Đến ngày: 31/07/{s0 + 1}",
        "KẾ TOÁN TRƯỞNG",
    )
    b.footer[1] = ["Cộng", None, None, None, None, sum(v["amount"] for v in plan.vouchers)]
    if "bad_rows" in ctx.quirks:
        plant(
            b,
            ctx.rng,
            [([0, "PT99999", "32/01/2025", "Phiếu thu", "Thu khác", 100000, "111", "511"], "bad_date")],
        )
        renumber(b)
    return Book(relpath, "xlsx", [Sheet("ChungTu", [b])], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.18
SYNC_COLS = [
    C("STT", "int"),
    C("Thời gian gửi", "datetime"),
    C("Dữ liệu đồng bộ"),
    C("Kỳ đồng bộ"),
    C("Học kỳ"),
    C("Số bản ghi gửi", "int"),
    C("Số bản ghi thành công", "int"),
    C("Kết quả"),
    C("Thông báo"),
]
VNEDU_PERIOD = {"Cuối học kỳ I": "1", "Cuối năm": "2"}


def sync_log(ctx: Ctx, plan: YearPlan, relpath: str) -> Book:
    """school.csdl_sync_log.v1 (vnEdu schools use numeric period codes)."""
    vn = plan.school.platform == "vnedu"
    rows = [
        [
            k,
            r["at"],
            r["entity"],
            VNEDU_PERIOD.get(r["period"], r["period"]) if vn else r["period"],
            r["sem"] or None,
            r["sent"],
            r["ok"],
            r["result"],
            r["msg"],
        ]
        for k, r in enumerate(plan.sync_log, 1)
    ]
    b = _simple(ctx, plan, SYNC_COLS, rows, "LỊCH SỬ ĐỒNG BỘ DỮ LIỆU LÊN CSDL NGÀNH", f"Năm học: {ctx.year}")
    if "bad_rows" in ctx.quirks:
        plant(
            b,
            ctx.rng,
            [([0, "31/13/2024 10:00:00", "Học sinh", "Đầu năm", None, 10, 10, "Thành công", ""], "bad_date")],
        )
        renumber(b)
    return Book(relpath, "xlsx", [Sheet("LichSu", [b])], ctx.quirks)
