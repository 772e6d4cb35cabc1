"""Writers of the real primary (TT27) exports of docs/real_exports.md: the vnEdu summary book at the end of
the year (R1) and of the first semester (R2), and the CSDL TT27 import template (R5).

Each writer takes classes of made-up pupils (`PrimaryClass`, built by `fake_primary_class` or from a
generator plan by `real_province`), writes one real file and returns its `Expected` reading. A pupil's
values are keyed by their canonical meaning `<component>:<subject>`: `level:TOAN`, `test_score:TOAN`,
`competence:NL_TUCHU`, `quality:PC_YEUNUOC`; the Công nghệ part of `Tin học và Công nghệ` in the vnEdu
book is `TINCN.CN` (the `Tin học` part is `TINCN`, the one 2.3.3 reads).
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .ids import birth_date, person_name
from .real_common import (
    TICK,
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

FINALS = ("HTXS", "HTT", "HT", "CHT")
FINAL_LABELS = ("Hoàn thành xuất sắc", "Hoàn thành tốt", "Hoàn thành", "Chưa hoàn thành")
#: competence leaves of the vnEdu book (tier 2 group, tier 4 leaf, key)
VNEDU_COMPETENCES = (
    ("Năng lực chung", "Tự chủ và tự học", "NL_TUCHU"),
    ("Năng lực chung", "Giao tiếp và hợp tác", "NL_GIAOTIEP"),
    ("Năng lực chung", "GQVĐ và sáng tạo", "NL_GQVD"),
    ("Năng lực đặc thù", "Ngôn ngữ", "NL_NGONNGU"),
    ("Năng lực đặc thù", "Tính toán", "NL_TINHTOAN"),
    ("Năng lực đặc thù", "Khoa học", "NL_KHOAHOC"),
    ("Năng lực đặc thù", "Công nghệ", "NL_CONGNGHE"),
    ("Năng lực đặc thù", "Tin học", "NL_TINHOC"),
    ("Năng lực đặc thù", "Thẩm mĩ", "NL_THAMMI"),
    ("Năng lực đặc thù", "Thể chất", "NL_THECHAT"),
)
QUALITIES = (
    ("Yêu nước", "PC_YEUNUOC"),
    ("Nhân ái", "PC_NHANAI"),
    ("Chăm chỉ", "PC_CHAMCHI"),
    ("Trung thực", "PC_TRUNGTHUC"),
    ("Trách nhiệm", "PC_TRACHNHIEM"),
)


@dataclass
class PrimaryPupil:
    """One pupil of a primary class: identity and values keyed by meaning (`level:TOAN` → `T`)."""

    key: str  # vnEdu local id (R1, R2) or MOET id (R5): digits
    full_name: str
    dob: date
    female: bool
    values: dict[str, str | int] = field(default_factory=dict)
    final: str | None = None  # HTXS | HTT | HT | CHT (end of year)
    promoted: bool | None = None  # end of year; False = `Chưa lên lớp` ticked
    awards: tuple[str, ...] = ()  # year_end (`Cuối năm`) and/or special (`Đột xuất`)
    note: str | None = None

    @property
    def family_name(self) -> str:
        return self.full_name.split(" ", 1)[0]


@dataclass
class PrimaryClass:
    name: str  # 4A
    grade: int
    pupils: list[PrimaryPupil]
    code: str = ""  # Mã lớp (R5)


# ------------------------------------------------------------------------------------ subject sets
def vnedu_subjects(grade: int, ethnic_language: bool = False) -> list[tuple[str, str, bool, str | None]]:
    """Subjects of the vnEdu book of a grade, in column order: (label, subject key, has test, parent)."""
    out: list[tuple[str, str, bool, str | None]] = [
        ("Toán", "TOAN", True, None),
        ("Tiếng Việt", "TV", True, None),
        ("Đạo đức", "DD", False, None),
    ]
    if grade <= 3:
        out.append(("TN-XH", "TNXH", False, None))
    else:
        out.append(("Lịch sử và Địa lí", "LSDL", True, None))
    if grade >= 3:
        out.append(("Tiếng Anh", "NN1", True, None))
    if ethnic_language:
        out.append(("Tiếng dân tộc", "TDT", True, None))
    if grade >= 3:
        out.append(("Tin học", "TINCN", True, None))
    if grade >= 4:
        out.append(("Khoa học", "KH", True, None))
    if grade >= 3:
        out.append(("Tin học và Công nghệ (Công nghệ)", "TINCN.CN", True, None))
    out += [
        ("Âm nhạc", "AN", False, "Nghệ thuật"),
        ("Mĩ thuật", "MT", False, "Nghệ thuật"),
        ("Hoạt động trải nghiệm", "HDTN", False, None),
        ("Giáo dục thể chất", "GDTC", False, None),
    ]
    return out


#: R5 template subjects (label, subject key, has test): fixed, whatever the grade
CSDL_SUBJECTS = (
    ("Toán", "TOAN", True),
    ("Tiếng việt", "TV", True),
    ("Đạo đức", "DD", False),
    ("Tự nhiên và xã hội", "TNXH", False),
    ("Ngoại ngữ", "NN1", False),
    ("Tiếng dân tộc", "TDT", False),
    ("TH-CN (Tin học)", "TINCN", False),
    ("Nghệ thuật (Âm nhạc)", "AN", False),
    ("Nghệ thuật (Mĩ thuật)", "MT", False),
    ("Hoạt động trải nghiệm", "HDTN", False),
    ("Giáo dục thể chất", "GDTC", False),
)
CSDL_COMPETENCES = (
    ("Năng lực chung", "Tự chủ và tự học", "NL_TUCHU"),
    ("Năng lực chung", "Giao tiếp và hợp tác", "NL_GIAOTIEP"),
    ("Năng lực chung", "Giải quyết vấn đề và sáng tạo", "NL_GQVD"),
    ("Năng lực đặc thù", "Ngôn ngữ", "NL_NGONNGU"),
    ("Năng lực đặc thù", "Tính toán", "NL_TINHTOAN"),
    ("Năng lực đặc thù", "Khoa học", "NL_KHOAHOC"),
    ("Năng lực đặc thù", "Thẩm mĩ", "NL_THAMMI"),
    ("Năng lực đặc thù", "Thể chất", "NL_THECHAT"),
)


# ------------------------------------------------------------------------------------- made-up data
def year_end(values: dict[str, str | int], rng: random.Random) -> tuple[str, bool, tuple[str, ...]]:
    """A plausible final result, promotion and awards for a pupil's levels and test scores."""
    levels = [v for k, v in values.items() if k.startswith("level:")]
    tests = [v for k, v in values.items() if k.startswith("test_score:") and isinstance(v, int)]
    if "C" in levels:
        final = "CHT"
    elif levels and all(v == "T" for v in levels) and all(t >= 9 for t in tests):
        final = "HTXS"
    elif sum(v == "T" for v in levels) * 2 >= len(levels):
        final = "HTT"
    else:
        final = "HT"
    promoted = final != "CHT" or rng.random() < 0.5
    awards = ("year_end",) if final in ("HTXS", "HTT") else ()
    if rng.random() < 0.03:
        awards = (*awards, "special")
    return final, promoted, awards


def fake_values(rng: random.Random, grade: int, ethnic_language: bool = False) -> dict[str, str | int]:
    """Levels, test scores, competences and qualities of one made-up pupil for the vnEdu subject set."""
    vals: dict[str, str | int] = {}
    for _label, key, test, _parent in vnedu_subjects(grade, ethnic_language):
        vals[f"level:{key}"] = rng.choices(("T", "H", "C"), (0.45, 0.5, 0.05))[0]
        if test:
            vals[f"test_score:{key}"] = min(10, max(1, round(rng.gauss(7.5, 1.5))))
    for _g, _l, key in VNEDU_COMPETENCES:
        vals[f"competence:{key}"] = rng.choices(("T", "Đ", "C"), (0.5, 0.45, 0.05))[0]
    for _l, key in QUALITIES:
        vals[f"quality:{key}"] = rng.choices(("T", "Đ", "C"), (0.6, 0.38, 0.02))[0]
    return vals


def fake_primary_class(
    rng: random.Random,
    name: str,
    grade: int,
    n: int,
    *,
    year_end_results: bool = True,
    ethnic_language: bool = False,
    moet_prefix: str | None = None,
    used: set[str] | None = None,
) -> PrimaryClass:
    """A class of `n` made-up pupils. Keys are vnEdu local ids, or 10-digit MOET ids when `moet_prefix`
    (a 2-digit province code) is given."""
    used = set() if used is None else used
    start = 2024
    pupils = []
    for k in range(n):
        female = rng.random() < 0.49
        key = f"{moet_prefix}{rng.randrange(10**8):08d}" if moet_prefix else vnedu_local_id(rng, used)
        vals = fake_values(rng, grade, ethnic_language)
        p = PrimaryPupil(key, person_name(rng, female), birth_date(rng, start, grade), female, vals)
        if year_end_results:
            p.final, p.promoted, p.awards = year_end(vals, rng)
        if k % 9 == 4:
            p.note = "Cần rèn thêm chữ viết"
        pupils.append(p)
    return PrimaryClass(name, grade, pupils, code=f"LOP-{name}")


# ------------------------------------------------------------------------------------------- R1, R2
def vnedu_summary_file_name(grade: int) -> str:
    """The file name vnEdu gives the summary book of a grade (the same for every period)."""
    return f"so_diem_tong_ket_khoi_khoi_{grade}.xls"


def _sheet_name(class_name: str) -> str:
    return class_name.lower().replace("+", "_")


def write_vnedu_summary(
    path: Path,
    classes: list[PrimaryClass],
    *,
    school_name: str,
    district: str,
    year: str,
    period: str = "CN",
    tick: str | int = TICK,
    corrupt: bool = True,
    family_name_column: bool = False,
    key_header: str = "Mã học sinh",
    key_numeric: bool = True,
    footer_titles: bool = False,
    ethnic_language: bool | None = None,
) -> Expected:
    """R1 (`period='CN'`) or R2 (`period='CK1'`): the vnEdu primary summary book of one grade, `.xls`.

    One sheet per class (`4a`), five title rows in column A (the period only in the title line), four
    header tiers with merged parents, a numeric 10-digit `Mã học sinh`, ticks as `tick` (U+F0FC by
    default; also `✓ ✔ x X 1`), a footer `(ký , ghi rõ họ tên)` then the names. `corrupt=True` writes the
    PHPExcel-style container xlrd refuses (see `real_container`). `family_name_column` fills the first of
    the two `HỌ VÀ TÊN HỌC SINH` columns with the family name (blank otherwise). `ethnic_language` adds the
    `Tiếng dân tộc` columns (default: when a pupil has a `level:TDT` value).
    """
    if period not in ("CN", "CK1"):
        raise ValueError("period must be CN or CK1")
    year_end_cols = period == "CN"
    title = "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC " + (
        "CUỐI NĂM HỌC" if year_end_cols else "CUỐI HỌC KÌ I"
    )
    grids = []
    sheets = []
    for klass in classes:
        tdt = (
            ethnic_language
            if ethnic_language is not None
            else any("level:TDT" in p.values for p in klass.pupils)
        )
        cv = Canvas()
        meanings: list[str] = []
        # columns: left block
        left = [
            ("STT", "ignore"),
            (key_header, "local_id"),
            ("HỌ VÀ TÊN HỌC SINH", "family_name"),
            ("Họ và tên", "full_name"),
            ("Ngày,\ntháng,\nnăm sinh", "dob"),
            ("Nữ", "female"),
        ]
        for c, (label, meaning) in enumerate(left):
            cv.rect(5, c, 8, c, label)
            meanings.append(meaning)
        c = len(left)
        subjects = vnedu_subjects(klass.grade, tdt)
        s0 = c
        k = 0
        while k < len(subjects):
            label, key, test, parent = subjects[k]
            if parent:
                kids = [s for s in subjects[k:] if s[3] == parent]
                cv.rect(6, c, 6, c + len(kids) - 1, parent)
                for j, (lab, ky, _t, _p) in enumerate(kids):
                    cv.rect(7, c + j, 7, c + j, lab)
                    cv.rect(8, c + j, 8, c + j, "Mức đạt được")
                    meanings.append(f"level:{ky}")
                c += len(kids)
                k += len(kids)
                continue
            width = 2 if test else 1
            cv.rect(6, c, 7, c + width - 1, label)
            cv.rect(8, c, 8, c, "Mức đạt được")
            meanings.append(f"level:{key}")
            if test:
                cv.rect(8, c + 1, 8, c + 1, "Điểm KTĐK")
                meanings.append(f"test_score:{key}")
            c += width
            k += 1
        cv.rect(5, s0, 5, c - 1, "Môn học và hoạt động giáo dục")
        cv.rect(5, c, 5, c + len(VNEDU_COMPETENCES) - 1, "Năng lực cốt lõi")
        cv.rect(6, c, 7, c + 2, "Năng lực chung")
        cv.rect(6, c + 3, 7, c + len(VNEDU_COMPETENCES) - 1, "Năng lực đặc thù")
        for _g, leaf, key in VNEDU_COMPETENCES:
            cv.rect(8, c, 8, c, leaf)
            meanings.append(f"competence:{key}")
            c += 1
        cv.rect(5, c, 7, c + len(QUALITIES) - 1, "Phẩm chất chủ yếu")
        for leaf, key in QUALITIES:
            cv.rect(8, c, 8, c, leaf)
            meanings.append(f"quality:{key}")
            c += 1
        if year_end_cols:
            cv.rect(5, c, 7, c + 3, "Đánh giá KQGD")
            for code, leaf in zip(FINALS, FINAL_LABELS, strict=True):
                cv.rect(8, c, 8, c, leaf)
                meanings.append(f"final:{code}")
                c += 1
            cv.rect(5, c, 7, c + 1, "Khen thưởng")
            for leaf, code in (("Cuối năm", "year_end"), ("Đột xuất", "special")):
                cv.rect(8, c, 8, c, leaf)
                meanings.append(f"award:{code}")
                c += 1
            cv.rect(5, c, 8, c, "Chưa lên lớp")
            meanings.append("not_promoted")
            c += 1
        cv.rect(5, c, 8, c, "Ghi chú")
        meanings.append("note")
        ncols = c + 1
        # title rows
        for r, text in enumerate(
            (
                f"PHÒNG GD&ĐT HUYỆN {district.upper()}",
                school_name.upper(),
                title,
                f"Năm học: {year_spaced(year)}",
                f"Lớp: {klass.name}",
            )
        ):
            cv.put(r, 0, text)
            cv.merge(r, 0, r, 5 if r < 2 else ncols - 1)
        # data
        records = []
        r = 9
        for n, p in enumerate(klass.pupils, 1):
            rec_vals: list[list[Any]] = []
            for col, meaning in enumerate(meanings):
                v: Any = None
                if meaning == "ignore":
                    v = n
                elif meaning == "local_id":
                    v = float(int(p.key)) if key_numeric else p.key
                elif meaning == "family_name":
                    v = p.family_name if family_name_column else None
                elif meaning == "full_name":
                    v = p.full_name
                elif meaning == "dob":
                    v = dmy(p.dob)
                elif meaning == "female":
                    v = tick if p.female else None
                elif meaning.startswith("final:"):
                    v = tick if p.final == meaning[6:] else None
                    if v is not None:
                        rec_vals.append(["ALL", "final", p.final])
                elif meaning.startswith("award:"):
                    v = tick if meaning[6:] in p.awards else None
                elif meaning == "not_promoted":
                    v = tick if p.promoted is False else None
                    rec_vals.append(["ALL", "promoted", p.promoted is not False])
                elif meaning == "note":
                    v = p.note
                else:
                    v = p.values.get(meaning)
                    if v is not None:
                        comp, subj = meaning.split(":", 1)
                        rec_vals.append([subj, comp, v])
                cv.put(r, col, v)
            records.append(
                {
                    "row": r + 1,
                    "key": p.key,
                    "female": p.female,
                    "values": rec_vals,
                    "awards": list(p.awards) if year_end_cols else [],
                    "note": p.note,
                }
            )
            r += 1
        data_rows = range(9, r)
        # footer: `(ký , ghi rõ họ tên)` under the teacher (column D) and the head, then the names
        head_col = max(6, ncols - 6)
        r += 1
        if footer_titles:
            cv.row(r, ["GIÁO VIÊN CHỦ NHIỆM"], 3)
            cv.put(r, head_col, "HIỆU TRƯỞNG")
            r += 1
        cv.put(r, 3, "(ký , ghi rõ họ tên)")
        cv.put(r, head_col, "(ký , ghi rõ họ tên)")
        r += 4
        cv.put(r, 3, "Lò Thị Chủ Nhiệm")
        cv.put(r, head_col, "Vàng Văn Hiệu")
        grids.append((_sheet_name(klass.name), cv.grid()))
        sheets.append(
            ExpectedSheet(
                name=_sheet_name(klass.name),
                read=True,
                header_rows=[6, 7, 8, 9],
                first_data_row=10,
                columns=[
                    ExpectedColumn(col_letter(j), cv.path(j, range(5, 9)), m) for j, m in enumerate(meanings)
                ],
                non_empty=cv.non_empty(range(ncols), data_rows),
                metadata={
                    "class_name": {"value": klass.name, "source": "title", "cell": "A5"},
                    "grade": klass.grade,
                    "n_columns": ncols,
                    "footer_rows": [data_rows.stop + 2 + (1 if footer_titles else 0), r + 1],
                },
                records=records,
            )
        )
    container = "phpexcel_single_chain" if corrupt else "valid"
    write_book(path, grids, "xls", container)
    return Expected(
        structure="R1" if year_end_cols else "R2",
        file=path.name,
        fmt="xls",
        entity="grade_entry",
        layout="vnedu.tt27_summary",
        metadata={
            "scheme": "TT27",
            "period": {"value": period, "source": "title", "cell": "A3", "text": title},
            "semester": "CN" if year_end_cols else "1",
            "school_year": {"value": year, "source": "title", "cell": "A4"},
            "school_code": {"value": None, "source": "folder"},
            "school_name": {"value": school_name.upper(), "source": "title", "cell": "A2"},
            "tick": tick,
            "key": "local_id",
            "key_note": "vnEdu local id, a 10-digit number whose first two digits are no province code; "
            "no MOET id in the file",
        },
        sheets=sheets,
        container=container,
    )


# ------------------------------------------------------------------------------------------------ R5
_PERIOD_TOKENS = (
    (r"cuoi ?nam|ca ?nam|cn|hk ?2|hk ?ii|ck ?2|ck ?ii", "CN"),
    (r"gk ?1|gk ?i|giua ?ky ?1|giua ?ky ?i", "GK1"),
    (r"gk ?2|gk ?ii|giua ?ky ?2|giua ?ky ?ii", "GK2"),
    (r"hk ?1|hk ?i|ck ?1|ck ?i|cuoi ?ky ?1|cuoi ?ky ?i|hoc ?ky ?1|hoc ?ky ?i", "CK1"),
)


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).replace("đ", "d").replace("Đ", "d")
    return re.sub(r"[^a-z0-9]+", " ", s.casefold()).strip()


def period_from_file_name(name: str) -> str | None:
    """The TT27 period a file name says (`HK1`, `HKI`, `CK1`, `GK1`, `CN`, `CuoiNam`, `Cuoi_nam`,
    `cuối năm`, …), or None. Tokens are matched whole after folding accents, case and separators
    (`CuoiNam` is split at its capital); `HK2`/`CK2` mean the end of the year."""
    stem = unicodedata.normalize("NFC", Path(name).stem)
    stem = "".join(
        f" {ch}" if k and ch.isupper() and stem[k - 1].islower() else ch for k, ch in enumerate(stem)
    )  # CuoiNam → Cuoi Nam
    folded = f" {_fold(stem)} "
    for pattern, period in _PERIOD_TOKENS:
        if re.search(rf" (?:{pattern}) ", folded):
            return period
    return None


def write_csdl_tt27_import(
    path: Path,
    classes: list[PrimaryClass],
    *,
    year: str,
    period: str | None = None,
    fmt: str = "xlsx",
    key_header: str = "Mã học sinh",
) -> Expected:
    """R5: the CSDL TT27 import template, one sheet `Sheet1`, three tiers and nothing above them.

    Several classes may share the sheet (`Mã lớp`). The period is in no cell: the expected period is
    the one `path`'s name says (`period_from_file_name`); a name without one expects the file to be
    quarantined `missing_metadata`. `period` only chooses which values are written (CN fills
    `Hoàn thành chương trình lớp học`, `Lên lớp`, `Xếp loại`); it defaults to the name's. Values the
    template has no column for (e.g. `Khoa học`, the tests of `Ngoại ngữ`) are left out and counted in
    `summary['values_not_in_template']`.
    """
    named = period_from_file_name(path.name)
    period = period or named or "CK1"
    cv = Canvas()
    meanings: list[str] = []
    for c, (label, meaning) in enumerate(
        (("STT", "ignore"), ("Mã lớp", "class_code"), (key_header, "moet_id"), ("Họ tên", "full_name"))
    ):
        cv.rect(0, c, 2, c, label)
        meanings.append(meaning)
    cv.rect(0, 4, 2, 4, "Ngày sinh")
    meanings.append("dob")
    c = 5
    s0 = c
    for label, key, test in CSDL_SUBJECTS:
        cv.rect(1, c, 1, c + (1 if test else 0), label)
        cv.rect(2, c, 2, c, "Mức đạt được")
        meanings.append(f"level:{key}")
        if test:
            cv.rect(2, c + 1, 2, c + 1, "Điểm KTĐK")
            meanings.append(f"test_score:{key}")
        c += 2 if test else 1
    cv.rect(0, s0, 0, c - 1, "Môn học và hoạt động giáo dục")
    cv.rect(0, c, 0, c + len(CSDL_COMPETENCES) - 1, "Năng lực cốt lõi")
    cv.rect(1, c, 1, c + 2, "Năng lực chung")
    cv.rect(1, c + 3, 1, c + len(CSDL_COMPETENCES) - 1, "Năng lực đặc thù")
    for _g, leaf, key in CSDL_COMPETENCES:
        cv.rect(2, c, 2, c, leaf)
        meanings.append(f"competence:{key}")
        c += 1
    cv.rect(0, c, 0, c + len(QUALITIES) - 1, "Phẩm chất chủ yếu")
    for leaf, key in QUALITIES:
        cv.rect(1, c, 2, c, leaf)
        meanings.append(f"quality:{key}")
        c += 1
    for label, meaning in (
        ("Hoàn thành\nchương trình lớp học", "completed"),
        ("Lên lớp", "promoted"),
        ("Xếp loại", "final"),
    ):
        cv.rect(0, c, 2, c, label)
        meanings.append(meaning)
        c += 1
    ncols = c
    shown = set(meanings)
    records = []
    dropped = 0
    r = 3
    n = 0
    for klass in classes:
        for p in klass.pupils:
            n += 1
            dropped += sum(1 for m in p.values if m not in shown)
            rec_vals: list[list[Any]] = []
            for col, meaning in enumerate(meanings):
                v: Any = None
                if meaning == "ignore":
                    v = n
                elif meaning == "class_code":
                    v = klass.code
                elif meaning == "moet_id":
                    v = p.key
                elif meaning == "full_name":
                    v = p.full_name
                elif meaning == "dob":
                    v = dmy(p.dob)
                elif meaning in ("completed", "promoted", "final"):
                    if period == "CN" and p.final:
                        if meaning == "final":
                            v = p.final
                            rec_vals.append(["ALL", "final", p.final])
                        else:
                            done = p.final != "CHT" if meaning == "completed" else p.promoted is not False
                            v = "x" if done else None
                            rec_vals.append(["ALL", meaning, done])
                else:
                    v = p.values.get(meaning)
                    if v is not None:
                        comp, subj = meaning.split(":", 1)
                        rec_vals.append([subj, comp, v])
                cv.put(r, col, v)
            records.append({"row": r + 1, "key": p.key, "class_code": klass.code, "values": rec_vals})
            r += 1
    write_book(path, [("Sheet1", cv.grid())], fmt)
    sheet = ExpectedSheet(
        name="Sheet1",
        read=True,
        header_rows=[1, 2, 3],
        first_data_row=4,
        columns=[ExpectedColumn(col_letter(j), cv.path(j, range(3)), m) for j, m in enumerate(meanings)],
        non_empty=cv.non_empty(range(ncols), range(3, r)),
        metadata={
            "n_columns": ncols,
            "classes": {k.code: k.name for k in classes},
        },
        records=records,
    )
    return Expected(
        structure="R5",
        file=path.name,
        fmt=fmt,
        entity="grade_entry",
        layout="csdl.tt27_import",
        metadata={
            "scheme": "TT27",
            "period": {"value": named, "source": "file_name", "written": period},
            "semester": {"GK1": "1", "CK1": "1", "GK2": "2", "CN": "CN"}.get(named or ""),
            "school_year": {"value": year, "source": "folder"},
            "school_code": {"value": None, "source": "folder"},
            "key": "moet_id",
        },
        sheets=[sheet],
        summary={"values_not_in_template": dropped},
        quarantine=None if named else "missing_metadata",
    )
