"""Title metadata: `Key: value` segments of the rows above a header (keys from the vocabulary's title
keys), a school year anywhere, `LỚP x` endings and period or semester phrases.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.vocabulary import vocabulary

_TITLE_SPLIT = re.compile(r"\s+-\s+(?=[^\d\s])")


def parse_title(rows: pd.DataFrame | np.ndarray) -> dict[str, str]:
    """`Key: value` segments (separated by ` - ` or cells), a school year anywhere, `LỚP x` endings."""
    arr = rows.to_numpy(dtype=object) if isinstance(rows, pd.DataFrame) else rows
    texts = tuple(nz.nfc(v) for r in arr for v in r if isinstance(v, str) and v.strip())
    return dict(_parse_title_texts(texts))


@functools.lru_cache(maxsize=4096)
def _parse_title_texts(texts: tuple[str, ...]) -> dict[str, str]:
    """`parse_title` of the title texts (titles repeat from sheet to sheet: parsed once each; callers
    get a copy)."""
    meta: dict[str, str] = {}
    common = vocabulary().common
    title_keys, class_title = common.title_lookup, common.class_title_rx
    for text in texts:
        segments = _TITLE_SPLIT.split(text)
        for seg in segments:
            if ":" in seg:
                k, _, val = seg.partition(":")
                key = title_keys.get(nz.norm(k))
                if key and val.strip():
                    meta.setdefault(key, val.strip())
        # `… LỚP 6A` ends the text or one of its ` - ` segments (`Khối 6 - Lớp 6A - (Học kỳ 2)`)
        m = next((m for seg in [text, *segments[:-1]] if (m := class_title.search(seg.strip()))), None)
        if m:
            meta.setdefault("class_name", m.group(1).strip())
    for text in texts:  # a period or semester named by a phrase of the title line (no `Key:`)
        padded = f" {nz.norm(text)} "
        for phrase, item, value in common.title_phrases:
            if item not in meta and phrase in padded:
                meta[item] = value
                meta[f"_{item}_title"] = text
    for text in texts:
        try:
            sy = nz.school_year_of(text)
        except ValueError:
            meta.setdefault("school_year_error", text)
            continue
        if sy and not re.fullmatch(r"\d{4}", text.strip()):
            meta.setdefault("school_year", sy)
            break
    if "school_year" in meta:
        try:
            meta["school_year"] = nz.school_year_of(meta["school_year"]) or meta["school_year"]
        except ValueError:
            meta["school_year_error"] = meta.pop("school_year")
    meta["_texts"] = "\n".join(texts)
    return meta
