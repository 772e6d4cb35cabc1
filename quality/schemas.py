"""The one home of the pandera schemas: one per canonical entity, generated from
`connectors/entities.yaml` (types, allowed values, ranges, id patterns), every field described.

What belongs here: every row-level rule (one row is enough to decide it), as a named `Rule` carrying
the column it blames, the docs/exports.md §1.6 reason code and the Vietnamese "expected" text used in
quarantine messages. Rules come from three places, all in this module:

- column rules generated from the metadata (`type`, `allowed`, `min`, `max`, `pattern`);
- the school-year date window (1 Aug – 31 Jul) for the date columns where it is meaningful;
- wide rules that need several columns of the same row (TT22/TT27 marks by component, counts that
  must not exceed their totals).

Cross-row rules are SQL audits (`dbt_like_sql/audits/`), dataset rules are Great Expectations suites
(`quality/gx_suites.py`). Every check is vectorised (no per-row Python).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from connectors.entities import Column, load_entities

SeriesFn = Callable[[pd.Series], pd.Series]
FrameFn = Callable[[pd.DataFrame], pd.Series]

SCHOOL_CODE_PATTERN = r"^[0-9A-Za-z]{1,20}$"
SCHOOL_YEAR_PATTERN = r"^\d{4}-\d{4}$"

# Human descriptions of the id patterns used in entities.yaml (what the school officer reads).
PATTERN_TEXT_VI: dict[str, str] = {
    r"^\d{10}$": "đúng 10 chữ số",
    r"^\d{2}$": "đúng 2 chữ số",
    r"^\d{5}$": "đúng 5 chữ số",
    SCHOOL_CODE_PATTERN: "1–20 ký tự chữ hoặc số",
    r"^[^\sa-z]{1,20}$": "tối đa 20 ký tự, viết hoa, không có khoảng trắng",
    r"^.{1,20}$": "tối đa 20 ký tự",
    r"^.{1,30}$": "tối đa 30 ký tự",
    r"^(?i:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$": "mã UUID 36 ký tự",
    r"^\d{4}-(0[1-9]|1[0-2])$": "dạng YYYY-MM",
    r"^[12]\.[1-7](\.[1-8])?$": "mã tiêu chí lá, ví dụ 1.3.1",
}

# Date columns that must fall inside the row's school year (1 Aug of the start year to 31 Jul).
# Left out on purpose: health examinations (the sample inbox has pre-entry exams on 15 July, before the
# year starts, and docs/exports.md §3.16 sets no window), admission dates (filed before the year of entry),
# accounting vouchers (calendar fiscal year), transcripts and sync logs (end-of-year signing or syncing may
# run into August), student status dates (a status may date from an earlier year), fees (paid in advance).
SCHOOL_YEAR_DATES: dict[str, tuple[str, ...]] = {
    "computer_based_test": ("held_at",),
    "lms_activity": ("period_start", "period_end"),
}

TT22_COMPONENTS = ("tx", "gk", "ck", "avg_sem", "avg_year")
TT27_COMPONENTS = ("level", "test_score", "competence", "quality", "final", "completed", "promoted")
# Allowed value_text per component (docs/exports.md §3.6, §4). M = exempt.
VALUE_TEXT_BY_COMPONENT: dict[str, tuple[str, ...]] = {
    **{c: ("Đ", "CĐ", "M") for c in TT22_COMPONENTS},
    "level": ("T", "H", "C", "M"),
    "competence": ("T", "Đ", "C"),
    "quality": ("T", "Đ", "C"),
    "final": ("HTXS", "HTT", "HT", "CHT"),
}


@dataclass(frozen=True)
class Rule:
    """One named row-level rule: the column it blames, its reason code and the expected value (VI)."""

    name: str
    column: str
    reason_code: str
    expected: str
    fn: SeriesFn | FrameFn
    wide: bool = False  # True: fn takes the whole frame (row-wise result); False: fn takes the column


# ---------------------------------------------------------------------------------------------------
# vectorised helpers


def _num(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("Float64")
    return pd.to_numeric(s, errors="coerce").astype("Float64")


def _dates(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    return pd.to_datetime(s, errors="coerce")


def _true(df: pd.DataFrame) -> pd.Series:
    return pd.Series(True, index=df.index)


PROBE_ROWS = 20_000


def _per_distinct(fn: SeriesFn) -> SeriesFn:
    """`fn` (element-wise) evaluated once per distinct value and spread back to the rows: the school code
    and year of every raw row hold a few hundred distinct values in up to a million rows per batch."""

    def per_distinct(s: pd.Series) -> pd.Series:
        if len(pd.unique(s.iloc[:PROBE_ROWS])) * 8 > min(len(s), PROBE_ROWS):
            return fn(s)  # mostly distinct values (e.g. transaction ids): nothing to share
        codes, uniques = pd.factorize(s, use_na_sentinel=False)  # a missing value is a value of its own
        if len(uniques) * 8 > len(s):
            return fn(s)
        res = fn(pd.Series(uniques, dtype=s.dtype))
        return pd.Series(res.to_numpy()[codes], index=s.index, dtype=res.dtype)

    return per_distinct


def _decimals_at_most(v: pd.Series, places: int) -> pd.Series:
    """True where v has at most `places` decimals (tolerant of binary floating point)."""
    scaled = v.astype("float64") * 10**places
    return pd.Series(np.isclose(scaled, np.round(scaled), rtol=0, atol=1e-6), index=v.index)


def _fmt(x: float) -> str:
    return f"{x:g}".replace(".", ",")


# ---------------------------------------------------------------------------------------------------
# column rules generated from entities.yaml


def _type_rule(c: Column) -> Rule | None:
    if c.type in ("int", "float"):
        integer = c.type == "int"

        def fn(s: pd.Series, integer: bool = integer) -> pd.Series:
            if pd.api.types.is_integer_dtype(s) or (not integer and pd.api.types.is_float_dtype(s)):
                return pd.Series(True, index=s.index)
            v = _num(s)
            ok = v.notna()
            return (ok & _decimals_at_most(v.fillna(0), 0)).astype(bool) if integer else ok.astype(bool)

        return Rule(f"{c.name}:type", c.name, "bad_number", "số nguyên" if integer else "một số", fn)
    if c.type in ("date", "timestamp"):

        def fn_d(s: pd.Series) -> pd.Series:
            if pd.api.types.is_datetime64_any_dtype(s):
                return pd.Series(True, index=s.index)
            return _dates(s).notna()

        return Rule(f"{c.name}:type", c.name, "bad_date", "một ngày hợp lệ", fn_d)
    if c.type == "bool":

        def fn_b(s: pd.Series) -> pd.Series:
            if pd.api.types.is_bool_dtype(s):
                return pd.Series(True, index=s.index)
            return s.isin([True, False])

        return Rule(f"{c.name}:type", c.name, "unknown_value", "Có/Không", fn_b)
    return None


def column_rules(c: Column) -> list[Rule]:
    """Rules of one metadata column: type, allowed values, range, pattern."""
    rules: list[Rule] = []
    t = _type_rule(c)
    if t:
        rules.append(t)
    if c.allowed:
        allowed = list(c.allowed)
        expected = "một trong: " + ", ".join(map(str, allowed))
        in_set: SeriesFn = (
            (lambda s: _num(s).isin(allowed).fillna(False).astype(bool))
            if c.type == "int"
            else _per_distinct(lambda s: s.isin(allowed))
        )
        rules.append(Rule(f"{c.name}:allowed", c.name, "unknown_value", expected, in_set))
    if c.min is not None:
        lo = c.min
        rules.append(
            Rule(
                f"{c.name}:min",
                c.name,
                "out_of_range",
                f"≥ {_fmt(lo)}",
                lambda s: (_num(s) >= lo).fillna(True).astype(bool),
            )
        )
    if c.max is not None:
        hi = c.max
        rules.append(
            Rule(
                f"{c.name}:max",
                c.name,
                "out_of_range",
                f"≤ {_fmt(hi)}",
                lambda s: (_num(s) <= hi).fillna(True).astype(bool),
            )
        )
    if c.pattern:
        pattern = c.pattern
        text = PATTERN_TEXT_VI.get(pattern, f"khớp mẫu {pattern}")
        matches = _per_distinct(
            lambda s: s.astype("string").str.fullmatch(pattern).fillna(False).astype(bool)
        )
        rules.append(Rule(f"{c.name}:pattern", c.name, "bad_id_format", text, matches))
    return rules


# ---------------------------------------------------------------------------------------------------
# rules that read several columns of one row


def _school_year_window(column: str) -> Rule:
    def fn(df: pd.DataFrame) -> pd.Series:
        if column not in df or "school_year" not in df:
            return _true(df)
        d = _dates(df[column])
        start_year = pd.to_numeric(df["school_year"].astype("string").str[:4], errors="coerce")
        start = pd.to_datetime(start_year.astype("Int64").astype("string") + "-08-01", errors="coerce")
        end = pd.to_datetime((start_year + 1).astype("Int64").astype("string") + "-08-01", errors="coerce")
        inside = (d >= start) & (d < end)
        return (d.isna() | start.isna() | inside).fillna(True).astype(bool)

    return Rule(
        f"{column}:school_year_window",
        column,
        "out_of_range",
        "trong năm học (01/08 đến 31/07)",
        fn,
        wide=True,
    )


def _component_mask(df: pd.DataFrame, components: tuple[str, ...]) -> pd.Series:
    if "component" not in df:
        return pd.Series(False, index=df.index)
    return df["component"].isin(components).fillna(False).astype(bool)


def _value_num(df: pd.DataFrame) -> pd.Series:
    return _num(df["value_num"]) if "value_num" in df else pd.Series(pd.NA, index=df.index, dtype="Float64")


def _tt22_range(df: pd.DataFrame) -> pd.Series:
    v = _value_num(df)
    bad = _component_mask(df, TT22_COMPONENTS) & v.notna() & ((v < 0) | (v > 10))
    return ~bad.fillna(False).astype(bool)


def _tt22_one_decimal(df: pd.DataFrame) -> pd.Series:
    v = _value_num(df)
    bad = _component_mask(df, TT22_COMPONENTS) & v.notna() & ~_decimals_at_most(v.fillna(0), 1)
    return ~bad.fillna(False).astype(bool)


def _tt27_test_integer(df: pd.DataFrame) -> pd.Series:
    v = _value_num(df)
    bad = _component_mask(df, ("test_score",)) & v.notna() & ~_decimals_at_most(v.fillna(0), 0)
    return ~bad.fillna(False).astype(bool)


def _tt27_test_range(df: pd.DataFrame) -> pd.Series:
    v = _value_num(df)
    bad = _component_mask(df, ("test_score",)) & v.notna() & ((v < 1) | (v > 10))
    return ~bad.fillna(False).astype(bool)


def _flag_01(df: pd.DataFrame) -> pd.Series:
    v = _value_num(df)
    bad = _component_mask(df, ("completed", "promoted")) & v.notna() & ~v.isin([0, 1])
    return ~bad.fillna(False).astype(bool)


def _value_text_by_component(df: pd.DataFrame) -> pd.Series:
    if "value_text" not in df or "component" not in df:
        return _true(df)
    ok = pd.Series(True, index=df.index)
    text = df["value_text"]
    for comp, allowed in VALUE_TEXT_BY_COMPONENT.items():
        m = (df["component"] == comp).fillna(False).astype(bool) & text.notna()
        ok &= ~(m & ~text.isin(allowed))
    # components that carry numbers only never carry text
    m = _component_mask(df, ("test_score", "completed", "promoted")) & text.notna()
    return (ok & ~m).astype(bool)


def _component_matches_scheme(df: pd.DataFrame) -> pd.Series:
    if "scheme" not in df or "component" not in df:
        return _true(df)
    tt22 = (df["scheme"] == "TT22").fillna(False).astype(bool)
    tt27 = (df["scheme"] == "TT27").fillna(False).astype(bool)
    bad = (tt22 & df["component"].notna() & ~_component_mask(df, TT22_COMPONENTS)) | (
        tt27 & df["component"].notna() & ~_component_mask(df, TT27_COMPONENTS)
    )
    return ~bad


def _tx_slot(df: pd.DataFrame) -> pd.Series:
    if "slot" not in df:
        return _true(df)
    s = _num(df["slot"])
    bad = _component_mask(df, ("tx",)) & ~((s >= 1) & (s <= 9)).fillna(False).astype(bool)
    return ~bad


def _not_above(part: str, whole: str) -> FrameFn:
    def fn(df: pd.DataFrame) -> pd.Series:
        if part not in df or whole not in df:
            return _true(df)
        return ~(_num(df[part]) > _num(df[whole])).fillna(False).astype(bool)

    return fn


WIDE_RULES: dict[str, tuple[Rule, ...]] = {
    "grade_entry": (
        Rule(
            "value_num:tt22_mark_0_10",
            "value_num",
            "out_of_range",
            "điểm TT22 (tx, gk, ck, trung bình) từ 0 đến 10",
            _tt22_range,
            wide=True,
        ),
        Rule(
            "value_num:tt22_one_decimal",
            "value_num",
            "bad_number",
            "điểm TT22 có tối đa 1 chữ số thập phân",
            _tt22_one_decimal,
            wide=True,
        ),
        Rule(
            "value_num:tt27_test_score_integer",
            "value_num",
            "bad_number",
            "điểm KTĐK TT27 là số nguyên",
            _tt27_test_integer,
            wide=True,
        ),
        Rule(
            "value_num:tt27_test_score_1_10",
            "value_num",
            "out_of_range",
            "điểm KTĐK TT27 từ 1 đến 10",
            _tt27_test_range,
            wide=True,
        ),
        Rule(
            "value_num:flag_0_1",
            "value_num",
            "out_of_range",
            "0 hoặc 1 (Hoàn thành chương trình, Lên lớp)",
            _flag_01,
            wide=True,
        ),
        Rule(
            "value_text:allowed_for_component",
            "value_text",
            "unknown_value",
            "Đ/CĐ (TT22), T/H/C (mức đạt), T/Đ/C (năng lực, phẩm chất), HTXS/HTT/HT/CHT (xếp loại)",
            _value_text_by_component,
            wide=True,
        ),
        Rule(
            "component:matches_scheme",
            "component",
            "unknown_value",
            "thành phần điểm đúng với thông tư (TT22 hoặc TT27)",
            _component_matches_scheme,
            wide=True,
        ),
        Rule(
            "slot:tx_slot_1_9",
            "slot",
            "out_of_range",
            "cột điểm thường xuyên từ 1 đến 9",
            _tx_slot,
            wide=True,
        ),
    ),
    "facility": (
        Rule(
            "computers_working:not_above_total",
            "computers_working",
            "out_of_range",
            "không lớn hơn Số máy tính",
            _not_above("computers_working", "computers_total"),
            wide=True,
        ),
    ),
    "computer_based_test": (
        Rule(
            "n_submitted:not_above_candidates",
            "n_submitted",
            "out_of_range",
            "không lớn hơn Số thí sinh",
            _not_above("n_submitted", "n_candidates"),
            wide=True,
        ),
    ),
    "csdl_sync_log": (
        Rule(
            "records_accepted:not_above_sent",
            "records_accepted",
            "out_of_range",
            "không lớn hơn Số bản ghi gửi",
            _not_above("records_accepted", "records_sent"),
            wide=True,
        ),
    ),
}

_PROVENANCE_RULES: tuple[Rule, ...] = (
    Rule(
        "school_code:pattern",
        "school_code",
        "bad_id_format",
        PATTERN_TEXT_VI[SCHOOL_CODE_PATTERN],
        _per_distinct(
            lambda s: s.astype("string").str.fullmatch(SCHOOL_CODE_PATTERN).fillna(False).astype(bool)
        ),
    ),
    Rule(
        "school_year:pattern",
        "school_year",
        "bad_school_year",
        "dạng 2024-2025",
        _per_distinct(
            lambda s: s.astype("string").str.fullmatch(SCHOOL_YEAR_PATTERN).fillna(False).astype(bool)
        ),
    ),
    Rule(
        "school_year:consecutive",
        "school_year",
        "bad_school_year",
        "năm sau bằng năm trước cộng 1",
        _per_distinct(
            lambda s: (
                (
                    pd.to_numeric(s.astype("string").str[5:9], errors="coerce")
                    - pd.to_numeric(s.astype("string").str[:4], errors="coerce")
                    == 1
                )
                .fillna(True)
                .astype(bool)
            )
        ),
    ),
)

# Checks pandera adds on its own, mapped to a reason code.
BUILTIN_REASONS = {"not_nullable": "missing_key"}


@cache
def rules_for(entity: str) -> dict[str, Rule]:
    """Every row-level rule of one entity, keyed by rule name (the `check_name` in dq_quarantine_rows)."""
    ent = load_entities()[entity]
    rules: list[Rule] = list(_PROVENANCE_RULES)
    for c in ent.columns:
        rules.extend(column_rules(c))
    rules.extend(_school_year_window(col) for col in SCHOOL_YEAR_DATES.get(entity, ()))
    rules.extend(WIDE_RULES.get(entity, ()))
    out = {r.name: r for r in rules}
    if len(out) != len(rules):
        raise ValueError(f"duplicate rule names in entity {entity}")
    return out


def _check(rule: Rule) -> pa.Check:
    return pa.Check(
        rule.fn,
        name=rule.name,
        error=rule.name,
        ignore_na=not rule.wide,
        description=f"{rule.reason_code}: {rule.expected}",
    )


@cache
def schema_for(entity: str) -> pa.DataFrameSchema:
    """pandera schema of one canonical entity (columns optional: a layout may not carry them)."""
    ent = load_entities()[entity]
    rules = rules_for(entity)
    by_column: dict[str, list[pa.Check]] = {}
    for r in rules.values():
        if not r.wide:
            by_column.setdefault(r.column, []).append(_check(r))
    cols: dict[str, pa.Column] = {}
    for c in ent.columns:
        cols[c.name] = pa.Column(
            None,
            checks=by_column.get(c.name, []),
            nullable=True,
            required=False,
            description=c.description,
            title=c.name,
        )
    cols["school_code"] = pa.Column(
        None,
        checks=by_column["school_code"],
        nullable=False,
        required=True,
        description="Mã trường",
        title="school_code",
    )
    cols["school_year"] = pa.Column(
        None,
        checks=by_column["school_year"],
        nullable=False,
        required=True,
        description="Năm học",
        title="school_year",
    )
    wide = [_check(r) for r in rules.values() if r.wide]
    return pa.DataFrameSchema(
        cols, checks=wide, name=entity, description=ent.description, strict=False, coerce=False
    )
