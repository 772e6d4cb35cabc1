"""TT22 grade-book warnings at ingest (docs/exports.md §1.6 and §4): the rows are kept, a warning is written.

- `incomplete_tx`: a student's semester is closed (the file has the ck mark) with fewer regular (tx) marks
  than the subject requires for its periods per year (≤ 35 → 2, 36–70 → 3, > 70 → 4). Exempt students
  (`M`) are complete. The periods come from the curriculum table the SQL models read
  (`indicator_sets/seeds/subjects.csv`, `tt22_tx_required.csv`), by subject and the class's grade.
- `avg_mismatch`: a semester average in the file (ĐTBmhk) differs by more than 0.05 from
  (Σtx + 2·gk + 3·ck) / (n_tx + 5), or the year average (ĐTBmcn) from (ĐTBmhkI + 2·ĐTBmhkII) / 3, both
  rounded half-up to 1 decimal (integer tenths: exact); for comment-only subjects, the semester result
  (Đ/CĐ) differs from the rule (Đ when every mark is Đ, or at least 2/3 are Đ including ck). The file
  value is kept.

Works on the long records (one per mark) of every TT22 sheet of a file at once, with numpy group sums
over (sheet, source row, semester): no loop over rows; rows with a rejected mark are not checked.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from connectors.issues import RowIssue

if TYPE_CHECKING:
    from connectors.sheet_parser import SheetResult

SEEDS = Path(__file__).resolve().parents[1] / "indicator_sets" / "seeds"
_SEMESTERS = ("1", "2", "CN")


@functools.cache
def tx_required_table() -> pd.DataFrame:
    """TT22 subjects × grade range → tx marks required per semester (subject_code, grade_min, grade_max,
    tx_required); empty when the seed tables are not there."""
    subjects_csv, required_csv = SEEDS / "subjects.csv", SEEDS / "tt22_tx_required.csv"
    if not (subjects_csv.is_file() and required_csv.is_file()):
        return pd.DataFrame(columns=["subject_code", "grade_min", "grade_max", "tx_required"])
    subjects = pd.read_csv(subjects_csv, dtype={"subject_code": str})
    subjects = subjects[(subjects["scheme"] == "TT22") & subjects["periods_per_year"].notna()]
    bands = pd.read_csv(required_csv)
    periods = subjects["periods_per_year"].to_numpy(dtype=float)[:, None]
    above = bands["periods_above"].to_numpy(dtype=float)[None, :]
    upto = bands["periods_max"].fillna(np.inf).to_numpy(dtype=float)[None, :]
    hit = (periods > above) & (periods <= upto)
    required = np.where(hit.any(axis=1), bands["tx_required"].to_numpy()[hit.argmax(axis=1)], np.nan)
    out = subjects[["subject_code", "grade_min", "grade_max"]].assign(tx_required=required)
    return out.dropna(subset=["tx_required"]).reset_index(drop=True)


@functools.cache
def _required_lookup() -> dict[str, float]:
    """`SUBJECT|grade` → tx required (grades 1–12), and `SUBJECT|` for an unknown grade when every grade
    range of the subject agrees."""
    table = tx_required_table()
    out: dict[str, float] = {}
    for subject, lo, hi, req in table.itertuples(index=False):  # a few dozen curriculum rows
        for grade in range(int(lo), int(hi) + 1):
            out[f"{subject}|{grade}"] = float(req)
    for subject, reqs in table.groupby("subject_code")["tx_required"]:
        if reqs.nunique() == 1:
            out[f"{subject!s}|"] = float(reqs.iloc[0])
    return out


_GRADE = re.compile(r"^(\d{1,2})(?:\+(\d{1,2}))?")


@functools.lru_cache(maxsize=4096)
def grade_text(class_name: str) -> str:
    """The grade of one class name as text, '' when none: `nz.grade_of_class` for a single value (a
    Series call costs milliseconds; a file has one or a few distinct class names)."""
    m = _GRADE.match(class_name)
    if not m:
        return ""
    g = int(m.group(1)) if m.group(2) is None else min(int(m.group(1)), int(m.group(2)))
    return str(g) if 1 <= g <= 12 else ""


def _text_eq(values: np.ndarray, *texts: str) -> np.ndarray:
    """Elementwise `values in texts` for an object array holding str or None."""
    out = np.zeros(len(values), dtype=bool)
    for t in texts:
        out |= values == t
    return out


_NEED = frozenset({"scheme", "component", "semester", "source_row", "value_num", "value_text"})


def add_group_warnings(
    sheets: list[SheetResult], frame: pd.DataFrame, sid: np.ndarray, files: list[str]
) -> None:
    """Append `incomplete_tx` / `avg_mismatch` warnings to TT22 sheets whose records are the rows of one
    frame (`sid`: the position in `sheets` of each record), as a grouped parse holds them: no frame per
    sheet is joined."""
    if frame.empty or not set(frame.columns) >= _NEED:
        return
    rejected = [{x.row for x in r.rejects} for r in sheets]
    for k, warns in enumerate(_warnings(frame, np.asarray(sid), len(sheets), rejected)):
        if warns:
            sheets[k].warnings = [
                *sheets[k].warnings,
                *(
                    RowIssue.warning(files[k], sheets[k].sheet, w["row"], w["reason_code"], w["detail"])
                    for w in warns
                ),
            ]


_TEXT_COLUMNS = ("scheme", "component", "semester", "value_text", "subject_code", "class_name")


def _warnings(
    frame: pd.DataFrame, sid: np.ndarray, n_sheets: int, rejected: list[set[int]]
) -> list[list[dict[str, Any]]]:
    """Warnings (row, reason_code, detail) per sheet of long TT22 records (`sid`: each record's sheet)."""
    out: list[list[dict[str, Any]]] = [[] for _ in range(n_sheets)]
    rec = _records(frame, sid, rejected)
    if rec is None:
        return out
    sid, row, comp, sem, text, subject, klass, num = rec
    is_num = ~np.isnan(num)
    tenths = np.rint(np.where(is_num, num, 0.0) * 10)  # marks have 1 decimal after rounding at parse time
    has = is_num | pd.notna(text)
    is_tx, is_gk, is_ck = comp == "tx", comp == "gk", comp == "ck"
    is_avg, is_year = comp == "avg_sem", comp == "avg_year"
    is_d, is_cd = _text_eq(text, "Đ"), _text_eq(text, "CĐ")
    is_mark = is_tx | is_gk | is_ck

    # groups: (sheet, source row, semester)
    sem_code = np.select([sem == s for s in _SEMESTERS], [0, 1, 2], 3)
    rkey = sid * (int(row.max()) + 1) + row
    _, first, gid = np.unique(rkey * 4 + sem_code, return_index=True, return_inverse=True)
    n = len(first)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(gid, weights=mask.astype(float), minlength=n)

    def value(mask: np.ndarray) -> np.ndarray:  # at most one such record per group (the grain is unique)
        v = np.full(n, np.nan)
        v[gid[mask]] = tenths[mask]
        return v

    n_tx, n_tx_num = count(is_tx & has), count(is_tx & is_num)
    tx10 = np.bincount(gid, weights=np.where(is_tx & is_num, tenths, 0.0), minlength=n)
    gk10, ck10, avg10, year10 = (value(m & is_num) for m in (is_gk, is_ck, is_avg, is_year))
    has_ck, ck_d, ck_txt = count(is_ck & has) > 0, count(is_ck & is_d) > 0, count(is_ck & (is_d | is_cd)) > 0
    n_txt, n_d = count(is_mark & (is_d | is_cd)), count(is_mark & is_d)
    avg_d, avg_cd = count(is_avg & is_d) > 0, count(is_avg & is_cd) > 0
    _, rgid = np.unique(rkey, return_inverse=True)
    exempt = (np.bincount(rgid, weights=_text_eq(text, "M").astype(float)) > 0)[rgid[first]]
    g_sem = sem_code[first]
    g_subject = pd.Series(subject[first], dtype="string")
    in_semester = g_sem <= 1

    # incomplete_tx: closed semester (ck present), fewer tx marks than required, not exempt
    required = _tx_required(g_subject, klass[first])
    short = in_semester & has_ck & ~exempt & (n_tx < np.nan_to_num(required, nan=-1))
    bad_avg = in_semester & _avg_mismatch(n_tx, n_tx_num, tx10, gk10, ck10, avg10)
    # comment-only subjects: Đ when every mark is Đ, or at least 2/3 are Đ including ck
    rule_d = (n_d == n_txt) | ((3 * n_d >= 2 * n_txt) & ck_d)
    bad_comment = in_semester & ck_txt & (avg_d | avg_cd) & (n_txt > 0) & (rule_d != avg_d)
    bad_year = _year_mismatch(avg10, year10, rgid[first], g_sem)
    flags = (short, bad_avg, bad_comment, bad_year)
    _append(out, (sid[first], row[first], g_sem, g_subject, n_tx, required), flags)
    return out


def _avg_mismatch(
    n_tx: np.ndarray,
    n_tx_num: np.ndarray,
    tx10: np.ndarray,
    gk10: np.ndarray,
    ck10: np.ndarray,
    avg10: np.ndarray,
) -> np.ndarray:
    """avg_mismatch of scored subjects: the file's semester average differs from (Σtx + 2·gk + 3·ck) /
    (n_tx + 5) in tenths, rounded half-up (per group; every tx mark a number, gk, ck and average there)."""
    d = n_tx_num + 5
    total = tx10 + 2 * gk10 + 3 * ck10
    calc = np.floor((2 * total + d) / (2 * d))
    bad_avg = (n_tx == n_tx_num) & ~np.isnan(total) & ~np.isnan(avg10)
    return bad_avg & (np.abs(np.nan_to_num(avg10) - np.nan_to_num(calc)) > 0.5)


_Records = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]


def _records(frame: pd.DataFrame, sid: np.ndarray, rejected: list[set[int]]) -> _Records | None:
    """The TT22 records to check, as arrays (sheet, source row, component, semester, value text, subject,
    class name, value number; texts str or None): a row with a rejected mark is left out (its counts and
    sums are incomplete). None when no record is left."""
    n_all = len(frame)
    texts = {
        c: frame[c].to_numpy(dtype=object, copy=True)
        if c in frame.columns
        else np.full(n_all, None, dtype=object)
        for c in _TEXT_COLUMNS
    }
    for arr in texts.values():
        arr[pd.isna(arr)] = None  # str or None: elementwise == is then plain bool
    row = frame["source_row"].to_numpy(dtype=np.int64)
    keep = _text_eq(texts["scheme"], "TT22")
    for k, rej in enumerate(rejected):
        if rej:
            keep &= ~((sid == k) & np.isin(row, np.fromiter(rej, dtype=np.int64)))
    if not keep.any():
        return None
    num = pd.to_numeric(frame["value_num"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)[keep]
    return (
        sid[keep],
        row[keep],
        *(texts[c][keep] for c in ("component", "semester", "value_text", "subject_code", "class_name")),
        num,
    )


def _tx_required(g_subject: pd.Series, class_names: np.ndarray) -> np.ndarray:
    """The tx marks required of each group: the grade of each distinct class name (few per file), then
    the requirement of each subject × grade (NaN when unknown)."""
    class_codes, classes = pd.factorize(class_names)
    grades = np.array([grade_text(c) for c in classes] + [""], dtype=object)  # code -1 (no class) → ""
    grade = grades[class_codes]
    return (g_subject.fillna("?") + "|" + grade.astype(str)).map(_required_lookup()).to_numpy(dtype=float)


def _year_mismatch(
    avg10: np.ndarray, year10: np.ndarray, row_of: np.ndarray, g_sem: np.ndarray
) -> np.ndarray:
    """The year groups whose year average differs from the file's two semester averages of the same row
    ((ĐTBmhkI + 2·ĐTBmhkII) / 3 in tenths, half-up); `row_of`: each group's row."""
    in_semester = g_sem <= 1
    sem_avg = np.full((int(row_of.max()) + 1, 2), np.nan)
    sem_avg[row_of[in_semester], g_sem[in_semester]] = avg10[in_semester]
    a = sem_avg[row_of]
    y_calc = np.floor((2 * (a[:, 0] + 2 * a[:, 1]) + 3) / 6)
    bad_year = (g_sem == 2) & ~np.isnan(year10) & ~np.isnan(y_calc)
    return bad_year & (np.abs(np.nan_to_num(year10) - np.nan_to_num(y_calc)) > 0.5)


def _append(
    out: list[list[dict[str, Any]]],
    groups: tuple[np.ndarray, np.ndarray, np.ndarray, pd.Series, np.ndarray, np.ndarray],
    flags: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """The warnings of the flagged groups, in Vietnamese, appended to their sheet's list."""
    g_sid, g_row, g_sem, g_subject, n_tx, required = groups
    short, bad_avg, bad_comment, bad_year = flags
    sem_text = np.array((*_SEMESTERS, "?"), dtype=object)[g_sem]
    subj_text = g_subject.fillna("?").to_numpy(dtype=object)
    for i in np.flatnonzero(short | bad_avg | bad_comment | bad_year):  # the warned rows only
        k, r = int(g_sid[i]), int(g_row[i])
        if short[i]:
            out[k].append(
                {
                    "row": r,
                    "reason_code": "incomplete_tx",
                    "detail": f"Môn {subj_text[i]}, học kỳ {sem_text[i]}: {int(n_tx[i])} điểm thường "
                    f"xuyên, cần ít nhất {int(required[i])}",
                }
            )
        if bad_avg[i] or bad_comment[i]:
            shown = "kết quả" if bad_comment[i] else "ĐTB"
            out[k].append(
                {
                    "row": r,
                    "reason_code": "avg_mismatch",
                    "detail": f"Môn {subj_text[i]}, học kỳ {sem_text[i]}: {shown} trong tệp khác kết "
                    "quả tính lại",
                }
            )
        if bad_year[i]:
            out[k].append(
                {
                    "row": r,
                    "reason_code": "avg_mismatch",
                    "detail": f"Môn {subj_text[i]}: ĐTB cả năm trong tệp khác (ĐTBmhkI + 2·ĐTBmhkII) / 3",
                }
            )
