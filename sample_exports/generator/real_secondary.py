"""Writers of the real secondary (TT22) exports of docs/real_exports.md: the vnEdu lower-secondary summary
book of term results (R3) and the Hà Nội THCS → CSDL TT22 marks import (R6).

Each writer takes made-up classes (`fake_secondary_class`, or built from a generator plan by
`real_province`), writes one real file and returns its `Expected` reading. Subjects are project codes
(`TOAN`, `VAN`, `NN1`, … docs/exports.md §4).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from . import curriculum as cur
from .ids import birth_date, citizen_id, person_name
from .real_common import (
    Canvas,
    Expected,
    ExpectedColumn,
    ExpectedSheet,
    col_letter,
    dmy,
    vnedu_local_id,
    write_book,
    year_spaced,
)

#: R3 subject labels (vnEdu abbreviations; THPT labels beyond docs/real_exports.md are our extrapolation)
SUMMARY_LABELS = {
    "TOAN": "Toán",
    "VAN": "Ngữ văn",
    "NN1": "Ng.Ngữ",
    "GDCD": "GDCD",
    "LSDL": "LS&ĐL",
    "KHTN": "KHTN",
    "CNGH": "C.Nghệ",
    "TIN": "Tin",
    "GDTC": "GDTC",
    "NT": "Nghệ thuật",
    "HDTN": "HĐTN&HN",
    "GDDP": "NDGDCĐP",
    "LS": "Lịch sử",
    "DL": "Địa lí",
    "GDKTPL": "GDKT&PL",
    "LY": "Vật lí",
    "HOA": "Hóa học",
    "SINH": "Sinh học",
    "GDQPAN": "GDQP&AN",
    "AN": "Âm nhạc",
    "MT": "Mĩ thuật",
}
_ORDER = list(SUMMARY_LABELS)
RESULTS = ("Tốt", "Khá", "Đạt", "Chưa đạt")
ROMAN = {1: "I", 2: "II"}


@dataclass
class SecondaryPupil:
    """A lower/upper-secondary pupil: identity, semester marks per subject and term results."""

    moet_id: str
    local_id: str
    citizen_id: str
    full_name: str
    dob: date
    # subject → (tx marks, gk, ck); numbers or Đ/CĐ; None = not entered
    marks: dict[str, tuple[list[float | str], float | str | None, float | str | None]] = field(
        default_factory=dict
    )
    conduct: str | None = None  # Tốt / Khá / Đạt / Chưa đạt
    absent_excused: int = 0
    absent_unexcused: int = 0
    note: str | None = None


@dataclass
class SecondaryClass:
    name: str
    grade: int
    subjects: list[str]  # project subject codes taught
    pupils: list[SecondaryPupil]


def semester_average(tx: list[Any], gk: Any, ck: Any) -> float | str | None:
    """ĐTBmhk (half-up, 1 decimal) or Đ/CĐ for comment subjects; None when gk or ck is missing."""
    if gk is None or ck is None:
        return None
    if isinstance(ck, str):
        marks = [*tx, gk, ck]
        ok = sum(1 for x in marks if x == "Đ")
        return "Đ" if (ok == len(marks) or (3 * ok >= 2 * len(marks) and ck == "Đ")) else "CĐ"
    tot = sum(Decimal(str(x)) for x in tx) + 2 * Decimal(str(gk)) + 3 * Decimal(str(ck))
    return float((tot / (len(tx) + 5)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def learning_result(avgs: dict[str, float | str | None]) -> str | None:
    """The TT22 `Kết quả học tập` of a semester from its averages (None when one is missing)."""
    if not avgs or any(v is None for v in avgs.values()):
        return None
    nums = [v for v in avgs.values() if isinstance(v, float)]
    cd = sum(1 for v in avgs.values() if v == "CĐ")
    if cd == 0 and all(v >= 6.5 for v in nums) and sum(v >= 8 for v in nums) >= min(6, len(nums)):
        return "Tốt"
    if cd == 0 and all(v >= 5 for v in nums) and sum(v >= 6.5 for v in nums) >= min(6, len(nums)):
        return "Khá"
    if cd <= 1 and sum(v < 5 for v in nums) <= 1 and all(v >= 3.5 for v in nums):
        return "Đạt"
    return "Chưa đạt"


def fake_secondary_class(
    rng: random.Random, name: str, grade: int, n: int, *, province_code: str = "01", start: int = 2025
) -> SecondaryClass:
    """A made-up class with semester marks for every subject of its grade (THCS subjects for 6–9)."""
    subjects = list(cur.THCS_SUBJECTS) if grade <= 9 else [*cur.THPT_CORE, "LY", "HOA", "SINH", "TIN"]
    used: set[str] = set()
    pupils = []
    for k in range(n):
        female = rng.random() < 0.49
        dob = birth_date(rng, start, grade)
        marks: dict[str, tuple[list[float | str], float | str | None, float | str | None]] = {}
        for s in subjects:
            need = cur.required_tx(cur.periods_per_year(s, grade))
            if s in cur.COMMENT_ONLY:
                tx: list[float | str] = ["Đ" if rng.random() < 0.95 else "CĐ" for _ in range(need)]
                marks[s] = (tx, "Đ", "Đ" if rng.random() < 0.96 else "CĐ")
            else:
                base = rng.uniform(5, 9.3)
                tx = [float(min(10, max(0, round(rng.gauss(base, 1.0) * 2) / 2))) for _ in range(need)]
                ck = float(min(10.0, max(0.0, round(rng.gauss(base, 0.8), 1))))
                marks[s] = (tx, float(round(base * 2) / 2), ck)
        if k == 3:  # one pupil without an end-of-term mark in one subject: its average is `-`
            tx0, gk0, _ck = marks[subjects[0]]
            marks[subjects[0]] = (tx0, gk0, None)
        pupils.append(
            SecondaryPupil(
                f"{province_code}{rng.randrange(10**8):08d}",
                vnedu_local_id(rng, used),
                citizen_id(rng, province_code, dob, female),
                person_name(rng, female),
                dob,
                marks,
                rng.choices(RESULTS, (0.7, 0.2, 0.08, 0.02))[0],
                rng.choice((0, 0, 0, 1, 2)),
                rng.choice((0, 0, 0, 0, 1)),
            )
        )
    return SecondaryClass(name, grade, subjects, pupils)


# ------------------------------------------------------------------------------------------------ R3
def write_vnedu_tt22_summary(
    path: Path,
    classes: list[SecondaryClass],
    *,
    year: str,
    semester: int = 2,
    roman: bool = False,
    fmt: str = "xls",
    key_header: str = "Mã học sinh",
    key_numeric: bool = False,
) -> Expected:
    """R3: the vnEdu summary book of term results, one sheet per class.

    Row 1 from column H `BẢNG TỔNG HỢP KẾT QUẢ GIÁO DỤC HỌC KỲ 2, NĂM HỌC 2025 - 2026`, row 2 (column H)
    `Khối 6 - Lớp 6A - (Học kỳ 2)` (`Học kỳ II` with `roman`), header on row 6 with sub-labels on
    row 7 (`(HS 1)` under scored subjects, `(N.xét)` under comment subjects, `P | K | Tổng` under
    `Buổi nghỉ`), abbreviated subject labels, semester averages with `-` for blank, `Đ`/`CĐ`.
    `Mã học sinh` is the vnEdu local id (a number with `key_numeric`).
    """
    grids = []
    sheets = []
    for klass in classes:
        cv = Canvas()
        meanings: list[str] = []
        for c, (label, meaning) in enumerate(
            (
                ("STT", "ignore"),
                (key_header, "local_id"),
                ("Số định danh cá nhân", "citizen_id"),
                ("Họ và tên", "full_name"),
                ("Ngày sinh", "dob"),
            )
        ):
            cv.rect(5, c, 6, c, label)
            meanings.append(meaning)
        c = 5
        subjects = sorted(klass.subjects, key=lambda s: (s in cur.COMMENT_ONLY, _ORDER.index(s)))
        for s in subjects:
            cv.rect(5, c, 5, c, SUMMARY_LABELS[s])
            cv.rect(6, c, 6, c, "(N.xét)" if s in cur.COMMENT_ONLY else "(HS 1)")
            meanings.append(f"avg_sem:{s}")
            c += 1
        for label, meaning in (
            ("Kết quả học tập", "term_result:learning"),
            ("Kết quả rèn luyện", "term_result:conduct"),
        ):
            cv.rect(5, c, 6, c, label)
            meanings.append(meaning)
            c += 1
        cv.rect(5, c, 5, c + 2, "Buổi nghỉ")
        for label, meaning in (
            ("P", "absence:excused"),
            ("K", "absence:unexcused"),
            ("Tổng", "absence:total"),
        ):
            cv.rect(6, c, 6, c, label)
            meanings.append(meaning)
            c += 1
        cv.rect(5, c, 6, c, "Ghi chú")
        meanings.append("note")
        ncols = c + 1
        sem_word = ROMAN[semester] if roman else str(semester)
        title1 = f"BẢNG TỔNG HỢP KẾT QUẢ GIÁO DỤC HỌC KỲ {semester}, NĂM HỌC {year_spaced(year)}"
        title2 = f"Khối {klass.grade} - Lớp {klass.name} - (Học kỳ {sem_word})"
        for r, text in enumerate((title1, title2)):
            cv.put(r, 7, text)
            cv.merge(r, 7, r, max(7, ncols - 1))
        records = []
        r = 7
        for n, p in enumerate(klass.pupils, 1):
            avgs = {s: semester_average(*p.marks[s]) if s in p.marks else None for s in subjects}
            learning = learning_result(avgs)
            values: list[list[Any]] = []
            for col, meaning in enumerate(meanings):
                v: Any
                if meaning == "ignore":
                    v = n
                elif meaning == "local_id":
                    v = float(int(p.local_id)) if key_numeric else p.local_id
                elif meaning == "citizen_id":
                    v = p.citizen_id
                elif meaning == "full_name":
                    v = p.full_name
                elif meaning == "dob":
                    v = dmy(p.dob)
                elif meaning.startswith("avg_sem:"):
                    a = avgs[meaning[8:]]
                    v = "-" if a is None else a
                    if a is not None:
                        values.append([meaning[8:], "avg_sem", a])
                elif meaning == "term_result:learning":
                    v = learning or "-"
                elif meaning == "term_result:conduct":
                    v = p.conduct or "-"
                elif meaning == "absence:excused":
                    v = p.absent_excused
                elif meaning == "absence:unexcused":
                    v = p.absent_unexcused
                elif meaning == "absence:total":
                    v = p.absent_excused + p.absent_unexcused
                else:
                    v = p.note
                cv.put(r, col, v)
            records.append(
                {
                    "row": r + 1,
                    "key": p.local_id,
                    "values": values,
                    "term_results": {"learning": learning, "conduct": p.conduct},
                    "absences": {
                        "excused": p.absent_excused,
                        "unexcused": p.absent_unexcused,
                        "total": p.absent_excused + p.absent_unexcused,
                    },
                }
            )
            r += 1
        name = klass.name.replace("+", "_")
        grids.append((name, cv.grid()))
        sheets.append(
            ExpectedSheet(
                name=name,
                read=True,
                header_rows=[6, 7],
                first_data_row=8,
                columns=[
                    ExpectedColumn(col_letter(j), cv.path(j, range(5, 7)), m) for j, m in enumerate(meanings)
                ],
                non_empty=cv.non_empty(range(ncols), range(7, r)),
                metadata={
                    "class_name": {"value": klass.name, "source": "title", "cell": "H2", "text": title2},
                    "grade": klass.grade,
                    "n_columns": ncols,
                    "blank_marker": "-",
                },
                records=records,
            )
        )
    write_book(path, grids, fmt)
    return Expected(
        structure="R3",
        file=path.name,
        fmt=fmt,
        entity="grade_entry",
        layout="vnedu.tt22_summary",
        metadata={
            "scheme": "TT22",
            "content": "term results (semester averages, Kết quả học tập/rèn luyện, absences), no tx marks",
            "semester": {"value": str(semester), "source": "title", "cell": "H1"},
            "school_year": {"value": year, "source": "title", "cell": "H1"},
            "school_code": {"value": None, "source": "folder"},
            "key": "local_id",
        },
        sheets=sheets,
    )


# ------------------------------------------------------------------------------------------------ R6
def _txt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def write_hanoi_tt22_import(
    path: Path,
    klass: SecondaryClass,
    *,
    school_name: str,
    district: str,
    year: str,
    semester: int = 1,
    with_local_id: bool = False,
) -> Expected:
    """R6: the Hà Nội THCS → CSDL TT22 marks import of one class, one sheet per subject, every cell text.

    Title cells A1 `Phòng GDĐT …`, A2 the school name, A3 `Lớp: 6A`, D1 `BẢNG ĐIỂM HỌC KỲ ` (with its
    trailing space), D2 `<năm> - Học kỳ: 1`, D3 `Môn học: …`; rows 5–6 `STT | Tên lớp | Mã định danh |
    Họ và tên | Ngày sinh | ĐĐGtx` (merged over `1 2 3 4`) `| ĐĐGgk | ĐĐGck`; row 7 numbers the columns.
    `with_local_id` is the variant with `Mã học sinh` before `Mã định danh`. At most 4 tx marks.
    """
    left = [("STT", "ignore"), ("Tên lớp", "class_name")]
    if with_local_id:
        left.append(("Mã học sinh", "local_id"))
    left += [("Mã định danh", "moet_id"), ("Họ và tên", "full_name"), ("Ngày sinh", "dob")]
    grids = []
    sheets = []
    used_names: set[str] = set()
    for s in klass.subjects:
        cv = Canvas()
        meanings = []
        for c, (label, meaning) in enumerate(left):
            cv.rect(4, c, 5, c, label)
            meanings.append(meaning)
        c = len(left)
        cv.rect(4, c, 4, c + 3, "ĐĐGtx")
        for k in range(4):
            cv.rect(5, c + k, 5, c + k, str(k + 1))
            meanings.append(f"tx{k + 1}:{s}")
        c += 4
        for label, comp in (("ĐĐGgk", "gk"), ("ĐĐGck", "ck")):
            cv.rect(4, c, 5, c, label)
            meanings.append(f"{comp}:{s}")
            c += 1
        ncols = c
        cv.row(0, [f"Phòng GDĐT {district}", None, None, "BẢNG ĐIỂM HỌC KỲ "])
        cv.row(1, [school_name, None, None, f"{year} - Học kỳ: {semester}"])
        cv.row(2, [f"Lớp: {klass.name}", None, None, f"Môn học: {cur.SUBJECT_NAMES[s]}"])
        cv.row(6, [str(j + 1) for j in range(ncols)])
        records = []
        r = 7
        for n, p in enumerate(klass.pupils, 1):
            if s not in p.marks:
                continue
            tx, gk, ck = p.marks[s]
            tx4 = [*tx[:4], *([None] * (4 - len(tx[:4])))]
            cells = [str(n), klass.name]
            if with_local_id:
                cells.append(p.local_id)
            cells += [p.moet_id, p.full_name, dmy(p.dob), *(_txt(x) for x in tx4), _txt(gk), _txt(ck)]
            cv.row(r, cells)
            values = [[s, f"tx{k + 1}", x] for k, x in enumerate(tx4) if x is not None]
            values += [[s, comp, x] for comp, x in (("gk", gk), ("ck", ck)) if x is not None]
            rec: dict[str, Any] = {"row": r + 1, "key": p.moet_id, "values": values}
            if with_local_id:
                rec["local_id"] = p.local_id
            records.append(rec)
            r += 1
        name = SUMMARY_LABELS.get(s, s)
        while name in used_names:
            name += "_"
        used_names.add(name)
        grids.append((name, cv.grid()))
        sheets.append(
            ExpectedSheet(
                name=name,
                read=True,
                header_rows=[5, 6],
                first_data_row=8,
                columns=[
                    ExpectedColumn(col_letter(j), cv.path(j, range(4, 6)), m) for j, m in enumerate(meanings)
                ],
                non_empty=cv.non_empty(range(ncols), range(7, r)),
                metadata={
                    "subject": {
                        "value": s,
                        "source": "title",
                        "cell": "D3",
                        "text": f"Môn học: {cur.SUBJECT_NAMES[s]}",
                    },
                    "class_name": {"value": klass.name, "source": "title", "cell": "A3"},
                    "numbering_row": 7,
                    "n_columns": ncols,
                    "all_text": True,
                },
                records=records,
            )
        )
    write_book(path, grids, "xlsx")
    return Expected(
        structure="R6",
        file=path.name,
        fmt="xlsx",
        entity="grade_entry",
        layout="csdl.tt22_import",
        metadata={
            "scheme": "TT22",
            "semester": {"value": str(semester), "source": "title", "cell": "D2"},
            "school_year": {"value": year, "source": "title", "cell": "D2"},
            "school_code": {"value": None, "source": "folder", "title_name": school_name},
            "key": "moet_id",
            "variant": "local_id_before_moet_id" if with_local_id else "moet_id_only",
        },
        sheets=sheets,
    )
