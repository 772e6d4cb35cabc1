"""Value parsing: each canonical column's text parsed by its layout kind (`parse_column`, once per
distinct value), with the reason code and expected form of bad cells, and the per-row checks of a
layout (`parse_values`: key present, ranges, row rules, derived and constant columns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.layouts import ColumnSpec, Layout, value_lookup
from connectors.parsing.model import ParseContext

_EXPECTED = {
    "id": "mã dạng chữ số, không ở dạng số mũ (E+)",
    "school_code": "mã trường 1–20 ký tự chữ/số",
    "int": "số nguyên",
    "float": "số (dấu thập phân là , hoặc .)",
    "amount": "số tiền nguyên (VNĐ)",
    "date": "ngày dạng dd/mm/yyyy",
    "datetime": "ngày giờ dạng dd/mm/yyyy hh:mm",
    "flag": "x hoặc để trống",
    "school_year": "năm học dạng 2024-2025",
}


def _distinct(raw: pd.Series) -> tuple[pd.Series, np.ndarray] | None:
    """The distinct values of a column (missing ones as one None at the end) and each row's position
    in them; None when the column is short or mostly distinct (parsing it directly is as cheap)."""
    n = len(raw)
    if n < 16:
        return None
    codes, uniques = pd.factorize(raw.to_numpy(dtype=object), use_na_sentinel=True)
    k = len(uniques)
    if k + 1 > n // 2 or not all(type(u) is str for u in uniques):
        return None
    small = pd.Series([*uniques.tolist(), None], dtype=object, name=raw.name)
    return small, np.where(codes < 0, k, codes)


def _expand(vals: pd.Series, pos: np.ndarray, index: pd.Index) -> pd.Series:
    out = vals.take(pos)
    out.index = index
    return out


def per_distinct(
    parse: Callable[[pd.Series], tuple[pd.Series, pd.Series]], raw: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """An elementwise parser's (values, bad mask) of a column, run once per distinct value when the
    column repeats its values (`_distinct`) and expanded back to every row."""
    d = _distinct(raw)
    if d is None:
        return parse(raw)
    small, pos = d
    vals, bad = parse(small)
    return _expand(vals, pos, raw.index), _expand(bad, pos, raw.index)


def parse_column(
    spec: ColumnSpec, raw: pd.Series, ctx: ParseContext
) -> tuple[pd.Series, pd.Series, str, str]:
    """Parse one column: returns values, bad mask, reason code for bad cells, expected text.

    Every parser is elementwise (and starts by cleaning the text, so all missing values are alike):
    a column with repeated values is parsed once per distinct value and expanded back."""
    if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
        d = _distinct(raw)
        if d is not None:
            small, pos = d
            vals, bad, code, expected = _parse_column(spec, small, ctx)
            return _expand(vals, pos, raw.index), _expand(bad, pos, raw.index), code, expected
    return _parse_column(spec, raw, ctx)


Parsed = tuple[pd.Series, pd.Series, str, str]  # values, bad mask, reason code, expected text


def _parse_column(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    if spec.values is not None:
        return _parse_listed(spec, raw)
    parser = _PARSERS.get(spec.parse)
    if parser is None:  # pragma: no cover
        raise ValueError(f"unknown parse kind {spec.parse}")
    return parser(spec, raw, ctx)


def _parse_listed(spec: ColumnSpec, raw: pd.Series) -> Parsed:
    """A column whose values the layout lists (`values:`), unknown ones handled by `unknown:`."""
    lookup = value_lookup(spec)
    text = nz.clean_text(raw)
    keys = text.fillna("").pipe(nz.norm_series)
    mapped = keys.map(lambda k: lookup.get(k, _MISSING))
    unknown = mapped.map(lambda v: v is _MISSING)
    bad = pd.Series(False, index=raw.index)
    if spec.unknown == "reject":
        bad = unknown & text.notna()
        out = mapped.where(~unknown, None)
    elif spec.unknown in (None, "null"):
        out = mapped.where(~unknown, None)
    elif spec.unknown == "keep":
        out = mapped.where(~unknown, text)
    else:
        out = mapped.where(~unknown, spec.unknown)
        out = out.where(text.notna() | ~unknown, None)
    vals = pd.Series(out, index=raw.index, dtype="object")
    allowed = ", ".join(str(k) for k in (spec.values or {}) if k)
    return vals, bad.astype(bool), "unknown_value", f"một trong: {allowed}"


def _ok(raw: pd.Series) -> pd.Series:
    return pd.Series(False, index=raw.index)


def _p_text(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    return nz.clean_text(raw), _ok(raw), "bad_number", ""


def _p_id(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    vals, bad = nz.parse_id(raw, width=spec.width, upper=spec.upper)
    if spec.parse == "school_code":
        ok = vals.str.fullmatch(r"[0-9A-Za-z]{1,20}").fillna(True).astype(bool)
        digits = vals.str.fullmatch(r"\d{1,7}").fillna(False).astype(bool)
        vals = vals.where(~digits, vals.str.zfill(8))
        bad = bad | ~ok
    return vals, bad, "bad_id_format", _EXPECTED["id"]


def _p_subject(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    vals, _unknown = nz.parse_subject(raw)
    return vals, _ok(raw), "unknown_value", ""


def _p_grade(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    vals, bad = nz.parse_grade(raw)
    return vals, bad, "out_of_range", "khối từ 1 đến 12"


def _p_number(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    vals, bad = nz.parse_number(raw)
    if spec.parse == "int":
        frac = vals.notna() & (vals % 1 != 0)
        bad = bad | frac
        vals = vals.where(~frac).round().astype("Int64")
    return vals, bad, "bad_number", _EXPECTED["int" if spec.parse != "float" else "float"]


def _p_amount(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    vals, bad = nz.parse_amount(raw)
    return vals, bad, "bad_number", _EXPECTED["amount"]


def _p_date(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    vals, bad = nz.parse_date(raw) if spec.parse == "date" else nz.parse_datetime(raw)
    return vals, bad, "bad_date", _EXPECTED[spec.parse]


def _p_flag(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    vals, bad = nz.parse_flag(raw)
    return vals, bad, "unknown_value", _EXPECTED["flag"]


def _p_school_year(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    vals, bad = nz.parse_school_year(raw)
    return vals, bad, "bad_school_year", _EXPECTED["school_year"]


def _p_semester(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    text = nz.clean_text(raw)
    vals = text.map(lambda v: nz.semester_of(v) if isinstance(v, str) else None)
    return vals, text.notna() & vals.isna(), "unknown_value", "1, 2 hoặc Cả năm"


def _p_period(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    text = nz.clean_text(raw)
    vals = text.map(lambda v: nz.period_of(v, numeric_codes=True) if isinstance(v, str) else None)
    return vals, text.notna() & vals.isna(), "unknown_value", "Đầu năm, Giữa/Cuối học kỳ I, Cuối năm…"


def _p_citizen_id(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    v = nz.normalise_citizen_id(raw)
    bad = v.notna() & ~v.str.fullmatch(r"\d{12}").fillna(False).astype(bool)
    return nz.hmac_hex(v.where(~bad), ctx.hash_key), bad, "bad_id_format", "số định danh 12 chữ số"


def _p_phone(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
    v = nz.normalise_phone(raw)
    bad = v.notna() & ~v.str.fullmatch(r"0\d{9}").fillna(False).astype(bool)
    return nz.hmac_hex(v.where(~bad), ctx.hash_key), bad, "bad_id_format", "số điện thoại 10 chữ số"


def _p_simple(
    fn: Callable[[pd.Series], pd.Series],
) -> Callable[[ColumnSpec, pd.Series, ParseContext], Parsed]:
    def parse(spec: ColumnSpec, raw: pd.Series, ctx: ParseContext) -> Parsed:
        return fn(raw), _ok(raw), "bad_number", ""

    return parse


_PARSERS: dict[str, Callable[[ColumnSpec, pd.Series, ParseContext], Parsed]] = {
    "text": _p_text,
    "id": _p_id,
    "school_code": _p_id,
    "subject": _p_subject,
    "grade": _p_grade,
    "int": _p_number,
    "float": _p_number,
    "amount": _p_amount,
    "date": _p_date,
    "datetime": _p_date,
    "flag": _p_flag,
    "sex": _p_simple(nz.parse_sex),
    "female_flag": _p_simple(nz.parse_female_flag),
    "class_name": _p_simple(nz.class_name_of),
    "school_year": _p_school_year,
    "semester": _p_semester,
    "period": _p_period,
    "citizen_id": _p_citizen_id,
    "phone": _p_phone,
}


class _Missing:
    pass


_MISSING = _Missing()


def parse_values(
    raw: pd.DataFrame,
    out: pd.DataFrame,
    layout: Layout,
    ctx: ParseContext,
    reject: Callable[[pd.Series, str, str, str], None],
    warn: Callable[..., None],
) -> None:
    """Key check, per-column parsing with rejects and
    warnings, row checks, derived and constant columns, written into `out`."""
    key = layout.key
    if key in raw.columns:
        key_text = nz.clean_text(raw[key])
        reject(key_text.isna(), key, "missing_key", "không được để trống")
    for name, spec in layout.columns.items():
        if spec.role != "value" or name not in raw.columns:
            continue
        vals, bad, code, expected = parse_column(spec, raw[name], ctx)
        if spec.parse == "subject":
            warn(
                nz.clean_text(raw[name]).notna() & (vals == "UNKNOWN").fillna(False),
                "unknown_value",
                f"{name}: môn học không có trong danh mục",
            )
        if spec.values is not None and spec.unknown not in (None, "reject", "null", "keep"):
            text = nz.clean_text(raw[name])
            unk = text.notna() & ~text.fillna("").pipe(nz.norm_series).isin(set(value_lookup(spec)))
            warn(unk, "unknown_value", f"{name}: {spec.unknown}")
        reject(bad & raw[name].notna(), name, code, expected)
        if spec.min is not None or spec.max is not None:
            num = pd.to_numeric(vals, errors="coerce")
            oor = pd.Series(False, index=raw.index)
            if spec.min is not None:
                oor |= num < spec.min
            if spec.max is not None:
                oor |= num > spec.max
            rng = f"từ {spec.min:g}" if spec.min is not None else ""
            rng += f" đến {spec.max:g}" if spec.max is not None else ""
            reject(oor.fillna(False).astype(bool), name, "out_of_range", rng.strip())
        out[name] = vals
    for chk in layout.row_checks:
        try:
            ok = cast(pd.Series, out.eval(chk.rule))
        except Exception:  # columns absent in this file: nothing to check
            continue
        failed = ~ok.fillna(True).astype(bool)
        reject(failed, chk.column, chk.reason, chk.expected)
    for name, d in layout.derived.items():
        src = out.get(d.get("from"))
        if src is not None and "prefixes" in d:
            res = pd.Series(None, index=out.index, dtype="object")
            for prefix, val in d["prefixes"].items():
                hit = src.astype("string").str.startswith(prefix).fillna(False).astype(bool)
                res = res.where(~(hit & res.isna()), val)
            out[name] = res
    for name, val in layout.constants.items():
        out[name] = val
