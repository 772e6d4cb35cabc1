"""Kernels over a sheet's text cells that do not depend on a layout: which cells hold text
(`nonblank`), text trimmed as pandas trims it (`trimmed`), and which rows are footers (signature,
date and place lines: vocabulary `common.footer_prefixes` / `footer_date`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.vocabulary import vocabulary


def _footer_flags(arr: np.ndarray) -> np.ndarray | None:
    """`_footer_mask` of the rows of an object matrix of str/None cells with the same kernels
    (NFC by unicodedata, Arrow trim and lower, Arrow starts_with, the date pattern by `re` as pandas
    runs it); None when a cell is not text."""
    firsts: list[str | None] = []
    for row in arr:
        first = next((v for v in row if v is not None), None)
        if first is not None and type(first) is not str:
            return None
        firsts.append(first)
    return np.fromiter((v is not None and _footer_text(v) for v in firsts), dtype=bool, count=len(firsts))


@functools.lru_cache(maxsize=1 << 14)
def _footer_text(first: str) -> bool:
    """`_footer_flags` of one row's first text (footer texts repeat from sheet to sheet)."""
    return bool(_footer_flags_texts([first])[0])


def _footer_flags_texts(firsts: list[str | None]) -> np.ndarray:
    nfc = [None if v is None else unicodedata.normalize("NFC", v) for v in firsts]
    texts = pa.array(nfc, type=pa.large_string())
    texts = pc.utf8_lower(pc.utf8_trim_whitespace(texts))
    common = vocabulary().common
    prefixes = common.footer_prefixes
    starts = pc.starts_with(texts, pattern=prefixes[0])
    for prefix in prefixes[1:]:
        starts = pc.or_(starts, pc.starts_with(texts, pattern=prefix))
    out = pc.fill_null(starts, False).to_numpy(zero_copy_only=False).astype(bool)
    date_rx = common.footer_date_rx
    for i, t in enumerate(texts.to_pylist()):
        if t is not None and not out[i] and date_rx.search(t):
            out[i] = True
    return out


def _footer_mask(data: pd.DataFrame) -> pd.Series:
    arr = data.to_numpy(dtype=object)
    present = pd.notna(arr)
    first_pos = present.argmax(axis=1) if arr.shape[1] else np.zeros(len(arr), dtype=int)
    first_vals = (
        arr[np.arange(len(arr)), first_pos] if arr.shape[1] else np.full(len(arr), None, dtype=object)
    )
    first_vals = np.where(present.any(axis=1) if arr.shape[1] else False, first_vals, None)  # type: ignore[arg-type]
    first = pd.Series(first_vals, index=data.index, dtype=object).astype("string")
    first = first.str.normalize("NFC").str.strip().str.lower()
    common = vocabulary().common
    starts = first.str.startswith(tuple(common.footer_prefixes)).fillna(False)
    dated = first.str.contains(common.footer_date_rx.pattern, regex=True).fillna(False)
    return (starts | dated).astype(bool)


def _nonblank(arr: np.ndarray) -> np.ndarray:
    """Cells (an object matrix) that hold text other than whitespace: one Arrow trim over every cell
    (what `.astype("string").str.strip() != ""` computes), or per distinct value when a cell is not
    text."""
    try:
        texts = pa.array(arr.ravel(), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _nonblank_exact(arr)
    ok = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(texts), ""), False)
    return ok.to_numpy(zero_copy_only=False).astype(bool).reshape(arr.shape)


def _nonblank_exact(arr: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(arr.ravel(), use_na_sentinel=True)
    if not len(uniques):
        return np.zeros(arr.shape, dtype=bool)
    texts = uniques.tolist()
    if all(type(u) is str for u in texts):  # what `.astype("string").str.strip()` runs, without pandas
        trimmed = pc.utf8_trim_whitespace(pa.array(texts, type=pa.large_string()))
        ok = pc.not_equal(trimmed, "").to_numpy(zero_copy_only=False).astype(bool)
    else:
        ok = (
            (pd.Series(uniques, dtype=object).astype("string").str.strip() != "")
            .fillna(False)
            .to_numpy(dtype=bool)
        )
    ok = np.append(ok, False)  # code -1 (missing) → position -1
    return ok[codes].reshape(arr.shape)


_DIGIT = re.compile(r"\d")


def _trimmed(values: np.ndarray) -> list[str | None] | None:
    """Text cells (str/None) trimmed by Arrow as `.astype("string").str.strip()` does; None when a
    cell is not text."""
    vals = values.tolist()
    if not all(v is None or type(v) is str for v in vals):
        return None
    need = [i for i, v in enumerate(vals) if v is not None and not (v[:1].isalnum() and v[-1:].isalnum())]
    if need:  # only text with other characters at its ends can change
        trimmed = pc.utf8_trim_whitespace(
            pa.array([vals[i] for i in need], type=pa.large_string())
        ).to_pylist()
        for i, t in zip(need, trimmed, strict=True):
            vals[i] = t
    return vals
