"""Normalisers for header text and cell values (docs/exports.md §1.3, §1.5, §2, §6).

Header functions work on single strings (headers are few); value functions work on whole pandas
Series of text and return the parsed Series plus a boolean mask of the cells that failed, so that no
Python loop runs over rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.text import PARENS, header_forms, header_forms_t, nfc, norm
from connectors.vocabulary import norm_set, vocabulary

__all__ = ["header_forms", "header_forms_t", "nfc", "norm"]


# ---------------------------------------------------------------------------------------------
# Vectorised value parsers: each returns (values, bad_mask)
# ---------------------------------------------------------------------------------------------
def clean_text(s: pd.Series) -> pd.Series:
    """NFC, NBSP→space, trim, leading `'` removed; empty strings become missing."""
    fast = _clean_text_fast(s)
    if fast is not None:
        return fast
    s = s.astype("string")
    s = s.str.normalize("NFC").str.replace("\u00a0", " ", regex=False).str.strip()
    s = s.str.replace(r"^'\s*", "", regex=True)
    return s.mask(s == "")


@lru_cache(maxsize=1 << 17)
def _nfc_only(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _clean_text_fast(s: pd.Series) -> pd.Series | None:
    """`clean_text` computed once per distinct value (same pyarrow kernels as the pandas string
    methods, NFC through unicodedata as pandas does); None when the input is not plain text."""
    if s.dtype != object and not isinstance(s.dtype, pd.StringDtype):
        return None
    codes, uniques = pd.factorize(s.to_numpy(dtype=object, na_value=None), use_na_sentinel=True)  # type: ignore[call-overload]
    uniq = list(uniques)
    if any(type(u) is not str for u in uniq):
        return None
    arr = pa.array([_nfc_only(u) for u in uniq], type=pa.large_string())
    arr = pc.utf8_trim_whitespace(pc.replace_substring(arr, "\u00a0", " "))
    arr = pc.replace_substring_regex(arr, r"^'\s*", "")
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.large_string()), arr)
    idx = pa.array(codes, type=pa.int64(), mask=codes < 0)
    out = pc.take(arr, idx)
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([out])), index=s.index, name=s.name)


_INT_DOT_ZERO = re.compile(r"^(\d+)\.0+$")
_SCI = re.compile(r"^\d+([.,]\d+)?[eE][+-]?\d+$")


def parse_id(s: pd.Series, width: int | None = None, upper: bool = False) -> tuple[pd.Series, pd.Series]:
    """IDs are text: strip spaces, `.0` tails; pad digit-only ids to `width`; sci notation is bad."""
    v = clean_text(s).str.replace(" ", "", regex=False)
    bad = v.str.match(_SCI.pattern).fillna(False).astype(bool)
    v = v.str.replace(_INT_DOT_ZERO.pattern, r"\1", regex=True)
    if width:
        digits = v.str.fullmatch(r"\d+").fillna(False).astype(bool)
        v = v.where(~digits, v.str.zfill(width))
    if upper:
        v = v.str.upper()
    v = v.mask(bad)
    return v, bad


def parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decimal numbers; a lone `,` is the decimal point. Returns float Series and bad mask."""
    v = clean_text(s).str.replace(" ", "", regex=False)
    only_comma = v.str.contains(",", regex=False).fillna(False) & ~v.str.contains(".", regex=False).fillna(
        False
    )
    v = v.where(~only_comma, v.str.replace(",", ".", regex=False))
    out = pd.to_numeric(v, errors="coerce")
    bad = v.notna() & out.isna()
    return out.astype("float64"), bad


def parse_amount(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Integer VND amounts: strip currency marks and thousands separators."""
    v = clean_text(s)
    v = v.str.replace(currency_rx(), "", regex=True).str.replace(r"\s", "", regex=True)
    v = v.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    grouped = v.str.fullmatch(r"\d{1,3}([.,]\d{3})+").fillna(False).astype(bool)
    v = v.where(~grouped, v.str.replace(r"[.,]", "", regex=True))
    ok = v.str.fullmatch(r"\d+").fillna(False).astype(bool)
    out = pd.to_numeric(v.where(ok), errors="coerce")
    bad = v.notna() & ~ok
    return out.astype("Int64"), bad


_DMY = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")


def parse_datetime(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as d/m/yyyy, d-m-yyyy (day first), yyyy-mm-dd (+ optional time), or Excel serials."""
    v = clean_text(s)
    fast = _parse_datetime_fast(v)
    if fast is not None:
        return fast
    out = pd.Series(pd.NaT, index=v.index, dtype="datetime64[ns]")
    parts = []
    for rx, order in ((_DMY, (3, 2, 1)), (_YMD, (1, 2, 3))):
        m = v.str.extract(rx.pattern)
        if m.empty:
            continue

        def as_float(col: pd.Series) -> pd.Series:  # float64: nullable ints break to_datetime on NA
            return pd.to_numeric(col, errors="coerce").astype("float64")

        y, mo, d = (as_float(m[i - 1]) for i in order)
        hh, mi, ss = (as_float(m[i]).fillna(0) for i in (3, 4, 5))
        frame = pd.DataFrame({"year": y, "month": mo, "day": d, "hour": hh, "minute": mi, "second": ss})
        parts.append(pd.to_datetime(frame, errors="coerce"))
    for p in parts:
        out = out.fillna(p)
    num = pd.to_numeric(v, errors="coerce").astype("float64")
    serial = num.between(20000, 60000)
    if serial.any():
        conv = pd.Timestamp("1899-12-30") + pd.to_timedelta(num.where(serial), unit="D")  # type: ignore[call-overload]
        out = out.where(~(out.isna() & serial), conv.dt.round("s"))
    bad = v.notna() & out.isna()
    return out, bad


_SERIAL_EPOCH = pd.Timestamp("1899-12-30")


def _dt_of(m: re.Match[str], ymd: tuple[int, int, int]) -> dt.datetime | bool | None:
    """One matched date as `pd.to_datetime` of its parts would give it (the date must exist; hours,
    minutes and seconds are added, so 25:00 rolls into the next day); False: not handled here."""
    g = m.groups()
    parts = [g[i - 1] for i in ymd] + [g[3], g[4], g[5]]
    if not all(p is None or p.isascii() for p in parts):
        return False
    y, mo, d = int(parts[0]), int(parts[1]), int(parts[2])
    if not 1700 <= y <= 2200:  # far years: pandas' bounds and resolution rules decide
        return False
    try:
        day = dt.datetime(y, mo, d)
    except ValueError:
        return None
    h, mi, sec = (int(p) if p is not None else 0 for p in parts[3:])
    return day + dt.timedelta(hours=h, minutes=mi, seconds=sec)


def _parse_datetime_fast(v: pd.Series) -> tuple[pd.Series, pd.Series] | None:
    """`parse_datetime` of cleaned text, each distinct value parsed once with the same regular
    expressions (pandas runs these patterns with `re` too); None hands unusual values to pandas."""
    if not isinstance(v.dtype, pd.StringDtype):
        return None
    codes, uniques = pd.factorize(v.to_numpy(dtype=object, na_value=None), use_na_sentinel=True)  # type: ignore[call-overload]
    k = len(uniques)
    vals = np.full(k + 1, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    rest: list[int] = []
    for i, u in enumerate(uniques.tolist()):
        if type(u) is not str:
            return None
        got: dt.datetime | bool | None = None
        m = _DMY.search(u)
        if m:
            got = _dt_of(m, (3, 2, 1))
        if got is None:
            m = _YMD.search(u)
            if m:
                got = _dt_of(m, (1, 2, 3))
        if got is False:
            return None
        if got is None:
            rest.append(i)
        else:
            vals[i] = np.datetime64(got, "ns")
    if rest:
        left = pd.Series(uniques.take(rest), dtype=v.dtype)
        num = pd.to_numeric(left, errors="coerce").astype("float64")
        serial = num.between(20000, 60000).to_numpy(dtype=bool)
        if serial.any():
            conv = (_SERIAL_EPOCH + pd.to_timedelta(num[serial], unit="D")).dt.round("s")
            vals[np.asarray(rest)[serial]] = conv.to_numpy(dtype="datetime64[ns]")
    out = pd.Series(vals[np.where(codes < 0, k, codes)], index=v.index, dtype="datetime64[ns]")
    bad = v.notna() & out.isna()
    return out, bad


def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Like `parse_datetime`, truncated to the date."""
    out, bad = parse_datetime(s)
    return out.dt.normalize(), bad


def currency_rx() -> str:
    """The currency marks of the vocabulary as one case-insensitive pattern."""
    marks = "|".join(re.escape(m) for m in vocabulary().values.currency_marks)
    return f"(?i)({marks})"


def ticked(text: pd.Series) -> pd.Series:
    """Cleaned cells holding a tick character of the vocabulary (✓, ✔, the Wingdings U+F0FC)."""
    return text.isin(vocabulary().values.ticks).fillna(False).astype(bool)


def parse_flag(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Flags: x/X/Có/1/TRUE → true; blank/Không/0/FALSE → false; anything else is bad."""
    text = clean_text(s)
    keys = text.fillna("").pipe(norm_series)
    flags = vocabulary().values.flags
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[keys.isin(norm_set(flags["true"])) | ticked(text)] = True
    out[keys.isin(norm_set(flags["false"])) & ~ticked(text)] = False
    bad = out.isna()
    return out, bad


def parse_sex(s: pd.Series) -> pd.Series:
    """Nam/1 → M; Nữ/2 → F; anything else → U."""
    keys = clean_text(s).fillna("").pipe(norm_series)
    sex = vocabulary().values.sex
    return pd.Series(
        np.select([keys.isin(norm_set(sex["M"])), keys.isin(norm_set(sex["F"]))], ["M", "F"], "U"),
        index=s.index,
    )


def parse_female_flag(s: pd.Series) -> pd.Series:
    """A `Nữ` column: x → F, blank → M."""
    text = clean_text(s)
    keys = text.fillna("").pipe(norm_series)
    female = keys.isin(norm_set(vocabulary().values.female_flag)) | ticked(text)
    return pd.Series(np.where(female, "F", "M"), index=s.index)


_SY = re.compile(r"(\d{4})\s*[-–/]\s*(\d{4})")


def school_year_of(text: object) -> str | None:
    """`2024-2025`, `2024 - 2025`, `2024–2025`, `2024/2025`, `Năm học …`, `NH …` → `2024-2025`.

    Returns None when there is no year pair; raises ValueError when the years are not consecutive.
    """
    if text is None:
        return None
    s = str(text).strip()
    if re.fullmatch(r"\d{4}", s):
        return f"{s}-{int(s) + 1}"
    m = _SY.search(s)
    if not m:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    if b != a + 1:
        raise ValueError(f"bad_school_year: {s}")
    return f"{a}-{b}"


def parse_school_year(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised `school_year_of`."""
    v = clean_text(s)
    m = v.str.extract(_SY.pattern)
    a = pd.to_numeric(m[0], errors="coerce")
    b = pd.to_numeric(m[1], errors="coerce")
    single = pd.to_numeric(v.where(v.str.fullmatch(r"\d{4}").fillna(False).astype(bool)), errors="coerce")
    a = a.fillna(single)
    b = b.fillna(single + 1)
    ok = a.notna() & (b == a + 1)
    out = (a.astype("Int64").astype("string") + "-" + b.astype("Int64").astype("string")).where(ok)
    bad = v.notna() & ~ok
    return out.astype("string"), bad


def semester_of(text: object) -> str | None:
    """`1`, `I`, `HK1`, `Học kỳ I` → 1; the same with 2/II → 2; `Cả năm`/`CN` → CN."""
    return _semester_lookup().get(norm(text))


@lru_cache(maxsize=1)
def _semester_lookup() -> Mapping[str, str]:
    from connectors.vocabulary import lookup

    return lookup(vocabulary().values.semesters)


@lru_cache(maxsize=1)
def _period_lookup() -> Mapping[str, str]:
    from connectors.vocabulary import lookup

    return lookup(vocabulary().values.periods)


def period_of(text: object, numeric_codes: bool = False) -> str | None:
    """Period labels (docs/exports.md §1.5); `numeric_codes` adds the sync-log codes 1 → CK1, 2/3 → CN."""
    key = norm(text)
    codes = vocabulary().values.period_codes
    if numeric_codes and key in codes:
        return codes[key]
    return _period_lookup().get(key)


@lru_cache(maxsize=1)
def _file_name_periods() -> list[tuple[str, str]]:
    """(` phrase `, period) of the file-name period words, each with and without the space between its
    letters and digits, longest first."""
    out: set[tuple[str, str]] = set()
    for period, words in vocabulary().values.file_name_periods.items():
        for w in words:
            n = norm(w)
            for form in (
                n,
                n.replace(" ", ""),
                re.sub(r"(?<=[a-z]) (?=\d)", "", n),
                re.sub(r"(?<=[a-z])(?=\d)", " ", n),
            ):
                out.add((f" {form} ", str(period)))
    return sorted(out, key=lambda t: (-len(t[0]), t))


@lru_cache(maxsize=4096)
def period_of_file_name(name: str) -> str | None:
    """The period a file name says (`…_HK1.xlsx` → CK1, `KQGD_CuoiNam.xls` → CN), None when it says none
    or two different ones. Only the name is read (not its folders)."""
    stem = unicodedata.normalize("NFC", name.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    stem = "".join(
        f" {ch}" if k and ch.isupper() and stem[k - 1].islower() else ch for k, ch in enumerate(stem)
    )
    padded = f" {norm(stem)} "
    found: set[str] = set()
    for phrase, period in _file_name_periods():  # longest first; a match is taken out (`Giữa HK1` ≠ `HK1`)
        if phrase in padded:
            found.add(period)
            padded = padded.replace(phrase, "  ")
    return found.pop() if len(found) == 1 else None


def class_name_of(s: pd.Series) -> pd.Series:
    """`Lớp 6 a` → `6A`; strip a leading Lớp/LỚP/L before a digit; upper-case; no spaces."""
    v = clean_text(s)
    prefixes = "|".join(re.escape(p) for p in vocabulary().values.class_prefixes)
    v = v.str.replace(rf"^(?i:{prefixes})\s*(?=\d)", "", regex=True)
    return v.str.upper().str.replace(r"\s+", "", regex=True)


def grade_of_class(class_name: pd.Series) -> pd.Series:
    """The leading number 1–12 of a class name (`1+2A` takes the lower grade)."""
    m = class_name.astype("string").str.extract(r"^(\d{1,2})(?:\+(\d{1,2}))?")
    g = pd.to_numeric(m[0], errors="coerce")
    g2 = pd.to_numeric(m[1], errors="coerce")
    g = g.where(g2.isna() | (g <= g2), g2)
    return g.where(g.between(1, 12)).astype("Int64")


# ---------------------------------------------------------------------------------------------
# Privacy: keyed hashes (docs/exports.md §6)
# ---------------------------------------------------------------------------------------------
def normalise_citizen_id(s: pd.Series) -> pd.Series:
    """Digits only, 11-digit values left-padded to 12."""
    v, _ = parse_id(s)
    v = v.str.replace(r"\D", "", regex=True)
    # ids stored as numbers lose leading zeros (province codes 001–096): restore them to 12 digits
    v = v.where(~v.str.len().between(9, 11).fillna(False).astype(bool), v.str.zfill(12))
    return v.mask(v == "")


def normalise_phone(s: pd.Series) -> pd.Series:
    """10-digit national form: +84/84 → 0; 9 digits get a leading 0."""
    v, _ = parse_id(s)
    v = v.str.replace(r"\D", "", regex=True)
    v = v.str.replace(r"^84(?=\d{9}$)", "0", regex=True)
    v = v.where(v.str.len() != 9, "0" + v)
    return v.mask(v == "")


def hmac_hex(values: pd.Series, key: str) -> pd.Series:
    """HMAC-SHA-256 (lower-case hex) of each non-missing value (each distinct value hashed once)."""
    k = key.encode("utf-8")

    def one(x: object) -> object:
        if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)):
            return pd.NA
        return hmac.new(k, str(x).encode("utf-8"), hashlib.sha256).hexdigest()

    obj = values.astype("object")
    codes, uniques = pd.factorize(obj.to_numpy(dtype=object), use_na_sentinel=True)
    hashed = np.array([one(u) for u in uniques] + [pd.NA], dtype=object)
    return pd.Series(hashed[codes], index=values.index, name=values.name).astype("string")


# ---------------------------------------------------------------------------------------------
# Subjects (docs/exports.md §4) and grades
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def subject_lookup() -> dict[str, str]:
    """norm(subject name, abbreviation or code) → the project's subject code."""
    from connectors.vocabulary import lookup

    names = vocabulary().subjects.subjects
    out = {norm(code): code for code in names}
    out.update(lookup(names))
    return out


def subject_code_of(text: object) -> str | None:
    """Project subject code of a subject name or code; None when unknown."""
    key = norm(text)
    if not key:
        return None
    table = subject_lookup()
    return table.get(key) or table.get(norm(PARENS.sub(" ", str(text))))


def parse_subject(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Subject names → codes; unknown names → `UNKNOWN` (the mask marks them for a warning)."""
    text = clean_text(s)
    uniq = {v: subject_code_of(v) for v in text.dropna().unique()}
    codes = text.map(uniq)
    unknown = text.notna() & codes.isna()
    return codes.where(~unknown, "UNKNOWN").astype("string"), unknown


def parse_grade(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """`Khối 6`, `Lớp 6`, `6`, `06`, `6A` → 6; values outside 1–12 are bad."""
    text = clean_text(s)
    m = text.str.extract(r"^(?:\D*?)(\d{1,2})(?:\.0+)?(?!\d)")[0]
    g = pd.to_numeric(m, errors="coerce")
    ok = g.between(1, 12)
    bad = text.notna() & ~ok.fillna(False).astype(bool)
    return g.where(ok).astype("Int64"), bad


def round_half_up(values: pd.Series, decimals: int = 1) -> pd.Series:
    """Round half-up with decimal semantics (6.65 → 6.7), vectorised via scaled integers."""
    scale = 10**decimals
    scaled = (values * scale).round(6)  # remove binary noise first (6.65*10 = 66.49999…)
    return np.floor(scaled + 0.5) / scale


def norm_series(s: pd.Series) -> pd.Series:
    """`norm` of every value, computed once per distinct value (columns repeat few values)."""
    uniq = {v: norm(v) for v in s.dropna().unique()}
    return s.map(uniq)
