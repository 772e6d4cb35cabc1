"""TT22 grade books (docs/exports.md §3.6 A/B/C): the wide book of a subject → one record per student
× subject × semester × component × slot. Header words (components, slot words, text marks) come from
the vocabulary. Sheets with the same identity columns are reshaped as one group (a sheet alone is a
group of one).
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

from connectors import gradebook_checks
from connectors import normalize as nz
from connectors.parsing.marks import WideGroup, member_column, open_group, place
from connectors.parsing.model import Grid, HeaderMatch, ParseContext, SheetResult
from connectors.parsing.values import per_distinct
from connectors.vocabulary import norm_set, vocabulary


@functools.cache
def _tt22_words() -> tuple[re.Pattern[str], dict[str, frozenset[str]], frozenset[str]]:
    """(flattened slot pattern, component → header words, header words of slotted components)."""
    voc = vocabulary().tt22
    slot = "|".join(re.escape(nz.norm(w)) for w in voc.slot_words)
    keys = {k: norm_set(c.headers) for k, c in voc.components.items()}
    slotted = frozenset().union(*(keys[k] for k, c in voc.components.items() if c.slotted))
    return re.compile(rf"^({slot}) ?([1-9])$"), keys, slotted


def classify_tt22(path: list[str]) -> tuple[str, int] | None:
    """A TT22 header path → (kind, slot); None for identity or unknown columns."""
    return _classify_tt22(tuple(path))


@functools.lru_cache(maxsize=4096)
def _classify_tt22(path: tuple[str, ...]) -> tuple[str, int] | None:
    flat, words, slotted = _tt22_words()
    leaf = nz.norm(path[-1])
    parents = [nz.norm(p) for p in path[:-1]]
    m = flat.match(leaf)
    if m:
        return "tx", int(m.group(2))
    if parents and any(p in slotted for p in parents) and re.fullmatch(r"[1-9]", leaf):
        return "tx", int(leaf)
    for kind, keys in words.items():
        if leaf in keys:
            return kind, 1 if kind == "tx" else 0
    return None


def _tt22_components(kind: pd.Series, sem: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(stored component, semester) of marks by their column kind (the semester a kind fixes wins)."""
    comps = vocabulary().tt22.components
    component = kind.map({k: c.component for k, c in comps.items() if c.component != "comment"})
    for k, c in comps.items():
        if c.semester is not None:
            sem = sem.mask(kind == k, c.semester)
    return component, sem


def _semester_period(sem: pd.Series) -> pd.Series:
    return sem.map(vocabulary().tt22.semester_period)


def _tt22_kinds(match: HeaderMatch) -> dict[int, tuple[str, int]]:
    return {c: k for c, p in match.paths.items() if (k := classify_tt22(p)) is not None}


def _mark_kinds(kinds: dict[int, tuple[str, int]]) -> list[tuple[int, tuple]]:
    return [(c, k) for c, k in kinds.items() if k[0] != "comment"]


def parse_group(
    grids: list[Grid], matches: list[HeaderMatch], ctx: ParseContext | list[ParseContext]
) -> list[SheetResult]:
    """TT22 sheets of one group (from one file or several: `ctx` is then one context per sheet):
    parsing and reshaping run once over all their rows; each result is that of its sheet alone."""
    results: list[SheetResult | None] = [None] * len(grids)
    wg = open_group(grids, matches, ctx, _tt22_kinds, results, marks_of=_mark_kinds)
    if wg is None:
        return results  # type: ignore[return-value]
    cells = wg.cells()
    long = _marks(wg, cells)
    comment_of = [next((c for c, k in kinds.items() if k[0] == "comment"), None) for kinds in wg.gm.kinds]
    if any(c is not None for c in comment_of):
        com = pd.Series(member_column(wg, comment_of), dtype=object)
        com = nz.clean_text(com.loc[wg.good.index.to_numpy()].astype("string"))
        long["comment"] = long["row"].map(com)
    fallback = _subject_fallback(wg)
    done, long, lsid = wg.close(_with_subject(long, wg, fallback))
    gradebook_checks.add_group_warnings(
        done, long, lsid, [c.file for c in wg.ctxs]
    )  # incomplete_tx, avg_mismatch
    return place(wg, done, results)


def _marks(wg: WideGroup, cells: pd.DataFrame) -> pd.DataFrame:
    """The mark cells parsed (a number 0–10 rounded to one decimal, or a comment word): bad and out-of-
    range cells rejected, over-precise ones warned; the long records of the others."""
    kind = cells["col"].map({j: k[0] for j, k in enumerate(wg.kinds)})
    slot = cells["col"].map({j: k[1] for j, k in enumerate(wg.kinds)}).astype("int64")
    good = wg.good
    file_sem = (
        good["semester"].reindex(cells["row"]).to_numpy()
        if "semester" in good.columns
        else np.full(len(cells), None)
    )
    component, sem = _tt22_components(kind, pd.Series(file_sem, index=cells.index, dtype="object"))
    text = cells["text"]
    key = text.map({t: nz.norm(t) for t in text.dropna().unique()})  # marks repeat: norm each once
    marks = {nz.norm(k): v for k, v in vocabulary().tt22.text_marks.items()}
    is_text = key.isin(list(marks))
    num, bad = per_distinct(nz.parse_number, text.where(~is_text))  # marks repeat: each parsed once
    oor = (num < 0) | (num > 10)
    wg.cell_rejects(cells, bad & ~is_text, "bad_number", "điểm từ 0 đến 10 hoặc Đ/CĐ/M")
    wg.cell_rejects(cells, oor.fillna(False) & ~bad, "out_of_range", "điểm từ 0 đến 10")
    rounded = nz.round_half_up(num, 1)
    wg.cell_warnings(
        cells, num.notna() & ((rounded - num).abs() > 1e-9), "precision", "điểm làm tròn 1 chữ số thập phân"
    )
    keep = ~((bad & ~is_text) | oor.fillna(False))
    return pd.DataFrame(
        {
            "row": cells["row"],
            "col": cells["col"],
            "scheme": "TT22",
            "component": component,
            "slot": slot.where(component == "tx", 0),
            "semester": sem,
            "period": _semester_period(sem),
            "value_num": rounded,
            "value_text": key.map(marks).where(is_text),
        }
    )[keep.to_numpy()]


def _subject_fallback(wg: WideGroup) -> dict[int, str]:
    """The subject from the sheet name, for the sheets whose title and columns give none."""
    good = wg.good
    subj = good["subject_code"] if "subject_code" in good.columns else pd.Series(pd.NA, index=good.index)
    n = len(wg.sheets)
    has_subj = np.bincount(wg.sid[good.index.to_numpy()][subj.notna().to_numpy()], minlength=n) > 0
    return {k: nz.subject_code_of(wg.sheets[k]) or "UNKNOWN" for k in range(n) if not has_subj[k]}


def _with_subject(long: pd.DataFrame, wg: WideGroup, fallback: dict[int, str]) -> pd.DataFrame:
    """The long records with the sheet-name subject of their sheet where it has no other (set after the
    identity join: `close` keeps a `subject_code` the records already carry)."""
    if not fallback:
        return long
    fb = pd.Series(wg.sid[long["row"].to_numpy()]).map(fallback).to_numpy()
    good = wg.good
    cur = (
        good["subject_code"].astype("object").reindex(long["row"]).to_numpy()
        if "subject_code" in good.columns
        else np.full(len(long), None, dtype=object)
    )
    long["subject_code"] = np.where(pd.notna(fb), fb, cur)
    return long
