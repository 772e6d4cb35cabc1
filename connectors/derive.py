"""Named row post-processors for table layouts: derived columns and row rules that a value map in
the layout YAML cannot express (docs/exports.md §3). A layout lists them under `post:`; each takes the
parsed canonical frame (index = sheet row) and returns it, rejecting or warning through `RowOps`.

Everything here is vectorised over the frame. Cross-file lookups (student codes, staff matching) do
not belong here: they run over the warehouse after a load (`connectors.references`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.layouts import Layout
from connectors.vocabulary import norm_set, vocabulary

CRITERION_RX = re.compile(r"[12]\.[1-7](\.[1-8])?")
LEAF_CRITERIA = [
    "1.1",
    "1.2",
    "1.3.1",
    "1.3.2",
    "1.3.3",
    "1.3.4",
    "1.3.5",
    "1.4",
    "1.5.1",
    "1.5.2",
    "1.6.1",
    "1.6.2",
    "1.6.3",
    "1.7.1",
    "1.7.2",
    "1.7.3",
    "2.1",
    "2.2",
    "2.3.1",
    "2.3.2",
    "2.3.3",
    "2.3.4",
    "2.3.5",
    "2.3.6",
    "2.3.7",
    "2.3.8",
    "2.4.1",
    "2.4.2",
    "2.4.3",
]
COMPOSITE_CRITERIA = frozenset({"1.3", "1.5", "1.6", "1.7", "2.3", "2.4"})
MANDATORY_CRITERIA = frozenset({"1.1", "1.2", "2.1", "2.2"})


@dataclass
class RowOps:
    """What a post-processor may do besides returning the frame."""

    raw: pd.DataFrame
    reject: Callable[[pd.Series, str, str, str], None]
    warn: Callable[..., None]
    ctx: Any
    layout: Layout
    sheet: str
    header_texts: dict[str, str]
    col_of: dict[str, int]
    skipped: int = 0


Post = Callable[[pd.DataFrame, RowOps], pd.DataFrame]
REGISTRY: dict[str, Post] = {}
ROW_WISE: set[str] = set()


def register(name: str, row_wise: bool = False) -> Callable[[Post], Post]:
    """Register a post-processor. `row_wise`: each output row depends only on its own input row and on
    what every sheet of a batch shares (the layout, registry lookups), never on the file or sheet name,
    and it skips no rows; such post-processors may run over the rows of many sheets at once."""

    def deco(fn: Post) -> Post:
        REGISTRY[name] = fn
        if row_wise:
            ROW_WISE.add(name)
        return fn

    return deco


def is_row_wise(name: str) -> bool:
    return name in ROW_WISE


def get(name: str) -> Post:
    if name not in REGISTRY:
        raise KeyError(f"no post-processor named {name!r}")
    return REGISTRY[name]


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(pd.NA, index=df.index, dtype="object")


# ---------------------------------------------------------------------------------------------
@register("student_key", row_wise=True)
def student_key(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """student_key = moet_id when known, else the local code; local_system = the platform."""
    moet = _col(df, "moet_id").astype("string")
    local = _col(df, "local_id").astype("string")
    if "student_key" in df.columns:
        df["student_key"] = df["student_key"].astype("string").fillna(moet).fillna(local)
    else:
        df["student_key"] = moet.fillna(local)
    if "local_id" in df.columns:
        df["local_system"] = pd.Series(ops.layout.source_system, index=df.index).where(local.notna())
    if "moet_id" in df.columns:
        bad = moet.notna() & ~moet.str.fullmatch(r"\d{10}").fillna(False).astype(bool)
        ops.reject(bad, "moet_id", "bad_id_format", "mã định danh 10 chữ số")
    return df


@register("is_enrolled", row_wise=True)
def is_enrolled(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    df["is_enrolled"] = _col(df, "status").isin(["studying", "transferred_in", "returned"])
    return df


@register("staff", row_wise=True)
def staff(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """is_teacher from the position; subjects split on `,`/`;` and mapped to codes."""
    pos = _col(df, "position").astype("string").fillna("")
    teacher = tuple(nz.norm(w) for w in vocabulary().values.teacher_positions)
    df["is_teacher"] = pos.pipe(nz.norm_series).str.startswith(teacher)
    if "subjects" in df.columns:
        parts = df["subjects"].astype("string").str.split(r"[,;]", regex=True).explode().str.strip()
        parts = parts[parts.notna() & (parts != "")]
        codes = nz.parse_subject(parts)[0]
        df["subjects"] = codes.groupby(level=0).agg(";".join).reindex(df.index)
    return df


@register("sync_log", row_wise=True)
def sync_log(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """A success with fewer accepted than sent records is partial."""
    sent = pd.to_numeric(_col(df, "records_sent"), errors="coerce")
    acc = pd.to_numeric(_col(df, "records_accepted"), errors="coerce")
    partial = (df["result"] == "success") & (acc < sent).fillna(False)
    df.loc[partial, "result"] = "partial"
    if "partner" not in df.columns:
        df["partner"] = _col(df, "school_code").map(ops.ctx.platform_by_school)
    return df


@register("billing_period", row_wise=True)
def billing_period(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """`09/2024` or `Tháng 9/2024` → `2024-09`."""
    if "billing_period" in df.columns:
        m = df["billing_period"].astype("string").str.extract(r"(\d{1,2})\s*[/-]\s*(\d{4})")
        ok = m[0].notna()
        df["billing_period"] = (m[1] + "-" + m[0].str.zfill(2)).where(ok)
    return df


_AMOUNT_COLUMNS = ("amount", "amount_due", "amount_paid", "payer_fee")


def parse_vnd(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Integer VND (docs/exports.md §1.5): currency marks and spaces stripped; `1.250.000`, `1,250,000` and
    `150.000` are thousands groups (checked before the `1250000.0` form, so `150.000` is 150000, not 150);
    anything else is bad."""
    v = nz.clean_text(s).str.replace(nz.currency_rx(), "", regex=True).str.replace(r"\s", "", regex=True)
    grouped = v.str.fullmatch(r"\d{1,3}([.,]\d{3})+").fillna(False).astype(bool)
    v = v.where(~grouped, v.str.replace(r"[.,]", "", regex=True))
    v = v.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    ok = v.str.fullmatch(r"\d+").fillna(False).astype(bool)
    out = pd.to_numeric(v.where(ok), errors="coerce").astype("Int64")
    return out, v.notna() & ~ok


@register("vnd_amounts", row_wise=True)
def vnd_amounts(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """Amount columns re-read from their raw text with `parse_vnd` (the generic `amount` parse kind
    strips a `.000` tail before it looks for thousands groups, reading `150.000` as 150)."""
    for c in _AMOUNT_COLUMNS:
        if c in df.columns and c in ops.raw.columns:
            vals, bad = parse_vnd(ops.raw[c].reindex(df.index))
            ops.reject(bad & ops.raw[c].reindex(df.index).notna(), c, "bad_number", "số tiền nguyên (VNĐ)")
            df[c] = vals
    return df


@register("cbt_sync", row_wise=True)
def cbt_sync(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """Đồng bộ kết quả → synced_to (mapped in YAML) and results_synced; n_submitted ≤ n_candidates."""
    to = _col(df, "synced_to").astype("object").where(lambda s: s.notna(), "none")
    df["synced_to"] = to
    df["results_synced"] = to != "none"
    return df


@register("health", row_wise=True)
def health(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """BMI recomputed (kg/m², half-up to 1 decimal); > 0.2 away from the file → implausible_value.
    Disease columns: blank or `Không` → null (false), other text kept."""
    h = pd.to_numeric(_col(df, "height_cm"), errors="coerce")
    w = pd.to_numeric(_col(df, "weight_kg"), errors="coerce")
    bmi = nz.round_half_up(w / (h / 100) ** 2, 1)
    if "bmi" in df.columns:
        diff = (pd.to_numeric(df["bmi"], errors="coerce") - bmi).abs() > 0.2
        ops.warn(diff.fillna(False), "implausible_value", "BMI khác giá trị tính lại")
    else:
        df["bmi"] = bmi
    for c in ("eye_disease", "spine_disease", "congenital_disease"):
        if c in df.columns:
            v = df[c].astype("string")
            df[c] = v.mask(
                v.fillna("").pipe(nz.norm_series).isin({"", *norm_set(vocabulary().values.none_words)})
            )
    if "blood_group" in df.columns:
        bg = df["blood_group"].astype("string").str.upper().str.replace(" ", "", regex=False)
        df["blood_group"] = bg.where(bg.isin(["A", "B", "AB", "O"]), "unknown").where(bg.notna())
    return df


@register("admission_split")
def admission_split(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """Class-split sheets: enrolled, class from the block line, derived application ids."""
    cls = nz.class_name_of(_col(df, "class_name").astype("string"))
    df["assigned_class"] = cls
    df["target_grade"] = nz.grade_of_class(cls)
    df["status"] = "enrolled"
    df["channel"] = "unknown"
    cid = _col(df, "citizen_id_hash").astype("string")
    row_ids = pd.Series(
        [hashlib.sha256(f"{ops.ctx.file}|{ops.sheet}|{r}".encode()).hexdigest()[:16] for r in df.index],
        index=df.index,
        dtype="string",
    )
    df["application_id"] = ("TAM-" + cid).fillna("ROW-" + row_ids)
    return df.drop(columns=["class_name"], errors="ignore")


@register("lms_activity", row_wise=True)
def lms_activity(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """Period from `Từ ngày`/`Đến ngày`; measured_at is the end date."""
    if "date_from" in df.columns:
        df["period_start"] = df.pop("date_from")
    if "date_to" in df.columns:
        df["period_end"] = df.pop("date_to")
        df["measured_at"] = df["period_end"]
    return df


@register("date_range", row_wise=True)
def date_range(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """Drop the title's `Từ ngày`/`Đến ngày` helpers (kept only where a layout maps them)."""
    return df.drop(columns=["date_from", "date_to"], errors="ignore")


@register("self_assessment")
def self_assessment(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """Criterion codes extracted by regex; subtotal rows skipped; unknown codes rejected; scores
    checked without dropping the row (see `score_columns`)."""
    raw_code = ops.raw.get("criterion_code", pd.Series(pd.NA, index=df.index)).astype("string")
    code = raw_code.str.extract(f"({CRITERION_RX.pattern})")[0]
    composite = code.isin(COMPOSITE_CRITERIA)
    ops.reject(
        raw_code.notna() & ~code.isin(LEAF_CRITERIA) & ~composite,
        "criterion_code",
        "unknown_value",
        "mã tiêu chí lá của QĐ 4725 (1.1 … 2.4.3)",
    )
    df["criterion_code"] = code
    ops.skipped += int(composite.sum())
    df = df[~composite]
    return score_columns(df, ops, ops.raw.loc[df.index, "self_score"] if "self_score" in ops.raw else None)


def score_columns(df: pd.DataFrame, ops: RowOps, raw_score: pd.Series | None) -> pd.DataFrame:
    """Self-scores keep their raw text in `self_score_raw`. A score that is not a number, is
    negative, or sits on a mandatory criterion is NOT rejected: `self_score` is null and
    `self_score_issue` says why (bad_number / out_of_range / unexpected_score), with a row warning,
    so that reconciliation raises INVALID_SELF_SCORE. The maximum is checked downstream against the
    indicator set, never against the file."""
    if raw_score is None:
        raw_score = pd.Series(pd.NA, index=df.index, dtype="string")
    text = nz.clean_text(raw_score.reindex(df.index))
    num, bad = nz.parse_number(text)
    mandatory = df["criterion_code"].isin(MANDATORY_CRITERIA)
    met_text = text.where(mandatory)
    flag_keys = met_text.fillna("").pipe(nz.norm_series)
    met = vocabulary().self_assessment.mandatory_met
    from_score = pd.Series(
        np.where(
            flag_keys.isin(norm_set(met["true"])),
            True,
            np.where(flag_keys.isin(norm_set(met["false"])), False, None),  # type: ignore[call-overload]
        ),
        index=df.index,
        dtype="object",
    )
    if "mandatory_met" in df.columns:
        df["mandatory_met"] = (
            df["mandatory_met"].astype("object").where(df["mandatory_met"].notna(), from_score)
        )
    else:
        df["mandatory_met"] = from_score
    df["mandatory_met"] = df["mandatory_met"].where(mandatory, None)
    issue = pd.Series(None, index=df.index, dtype="object")
    issue = issue.mask(bad & ~mandatory, "bad_number")
    issue = issue.mask((num < 0).fillna(False), "out_of_range")
    issue = issue.mask(mandatory & num.notna(), "unexpected_score")
    df["self_score_raw"] = text
    df["self_score"] = num.where(issue.isna() & ~mandatory)
    df["self_score_issue"] = issue
    ops.warn(issue.notna() & ~mandatory, "implausible_value", "điểm tự đánh giá không hợp lệ")
    return df


# ---------------------------------------------------------------------------------------------
def parse_timestamp_text(s: pd.Series) -> pd.Series:
    """ISO timestamps with an offset (JSON) → naive UTC+7 local time."""
    ts = pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601")
    return ts.dt.tz_convert("Asia/Ho_Chi_Minh").dt.tz_localize(None)


@register("transcript", row_wise=True)
def transcript(df: pd.DataFrame, ops: RowOps) -> pd.DataFrame:
    """Transcript ids are UUIDs compared case-insensitively: stored lower-case."""
    if "transcript_id" in df.columns:
        t = df["transcript_id"].astype("string").str.lower()
        bad = t.notna() & ~t.str.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        ).fillna(False)
        ops.reject(bad.astype(bool), "transcript_id", "bad_id_format", "UUID 36 ký tự")
        df["transcript_id"] = t
    return df
