"""TT27 primary results (docs/exports.md §3.6 D and the vnEdu variant): the 3-tier sheet → one record
per student × subject/competence/quality × period × component. Header and value words come from the
vocabulary. Sheets with the same identity columns are reshaped as one group (a sheet alone is a group
of one).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.parsing.marks import WideGroup, open_group, place
from connectors.parsing.model import Grid, HeaderMatch, ParseContext, SheetResult
from connectors.vocabulary import lookup, norm_set, vocabulary


@functools.cache
def _tt27_words() -> dict[str, dict[str, str]]:
    """The TT27 vocabulary as lookups: groups, competences, qualities, year end, leaves, value words."""
    voc = vocabulary().tt27
    out: dict[str, dict[str, str]] = {
        "groups": lookup(voc.groups),  # type: ignore[arg-type]
        "competences": lookup(voc.competences),  # type: ignore[arg-type]
        "qualities": lookup(voc.qualities),  # type: ignore[arg-type]
        "end": lookup(voc.year_end),  # type: ignore[arg-type]
        "level_leaf": {k: "level" for k in norm_set(voc.level_leaves)},
        "test_leaf": {k: "test" for k in norm_set(voc.test_leaves)},
        "final_group": {k: "final" for k in norm_set(voc.final_groups)},
        "final_tick": lookup(voc.final_ticks),  # type: ignore[arg-type]
    }
    for kind, words in voc.values.items():
        out[f"values:{kind}"] = lookup(words)
    return out


def classify_tt27(path: list[str]) -> tuple[str, str | None] | None:
    """A TT27 header path → (component, subject/competence/quality key)."""
    return _classify_tt27(tuple(path))


@functools.lru_cache(maxsize=4096)
def _classify_tt27(path: tuple[str, ...]) -> tuple[str, str | None] | None:
    w = _tt27_words()
    normed = [nz.norm(p) for p in path]
    leaf = normed[-1]
    if leaf in w["end"]:
        return w["end"][leaf], None
    if leaf in w["final_tick"] and any(p in w["final_group"] for p in normed[:-1]):
        return "final_tick", w["final_tick"][leaf]  # the ticked column names the final result
    group = next((w["groups"][p] for p in normed if p in w["groups"]), None)
    if group == "subject" and len(path) >= 2:
        subject_label = path[-2] if leaf in w["level_leaf"] or leaf in w["test_leaf"] else path[-1]
        code = nz.subject_code_of(subject_label) or "UNKNOWN"
        return ("test_score" if leaf in w["test_leaf"] else "level"), code
    if group == "competence":
        return ("competence", w["competences"][leaf]) if leaf in w["competences"] else None
    if group == "quality":
        return ("quality", w["qualities"][leaf]) if leaf in w["qualities"] else None
    return None


_TT27_LATE = "kết quả cuối năm ở kỳ khác Cuối năm"


def _tt27_kinds(match: HeaderMatch) -> dict[int, tuple[str, str | None]]:
    """Assessment column → (component, key); a layout's `tt27_subjects` option gives the subject code of
    a label this vendor uses with another meaning (vnEdu primary `Tin học` is TINCN)."""
    kinds = {c: k for c, p in match.paths.items() if (k := classify_tt27(p)) is not None}
    own = match.layout.options.get("tt27_subjects")
    if own:
        codes = {nz.norm(label): code for label, code in own.items()}
        for c, (comp, _key) in list(kinds.items()):
            if comp in ("level", "test_score"):
                path = match.paths[c]
                label = path[-2] if _is_leaf(path) else path[-1]
                if nz.norm(label) in codes:
                    kinds[c] = (comp, codes[nz.norm(label)])
    return kinds


def _is_leaf(path: list[str]) -> bool:
    """A subject column whose last tier is a level or test leaf (the subject is the tier above)."""
    w = _tt27_words()
    return len(path) >= 2 and (nz.norm(path[-1]) in w["level_leaf"] or nz.norm(path[-1]) in w["test_leaf"])


@dataclass
class _TT27Values:
    """The parsed values and value checks of TT27 assessment cells (one sheet's or a group's)."""

    comp: pd.Series
    subj: pd.Series
    period: pd.Series
    text: pd.Series
    value_text: pd.Series
    num: pd.Series
    bad_code: pd.Series
    bad_num: pd.Series
    oor: pd.Series
    bad_flag: pd.Series
    unticked: pd.Series  # final-result tick columns left blank or unticked: no record

    def rejects(self) -> list[tuple[pd.Series, str, str]]:
        """(mask, reason code, what was expected) of each cell check, in reject order."""
        return [
            (self.bad_code, "unknown_value", "T/H/C/M, T/Đ/C hoặc HTXS/HTT/HT/CHT"),
            (self.bad_num, "bad_number", "điểm nguyên từ 1 đến 10"),
            (self.oor, "out_of_range", "điểm nguyên từ 1 đến 10"),
            (self.bad_flag, "unknown_value", "x hoặc để trống"),
        ]

    def late(self) -> pd.Series:
        """Year-end results entered at another period (a warning)."""
        return self.comp.isin(["completed", "promoted", "final"]) & (self.period != "CN") & (self.text != "")

    def long(self, cells: pd.DataFrame) -> pd.DataFrame:
        """The long rows of the cells that pass every check."""
        keep = ~(self.bad_code | self.bad_num | self.oor | self.bad_flag | self.unticked)
        semester = self.period.map(vocabulary().tt27.period_semester)
        return pd.DataFrame(
            {
                "row": cells["row"],
                "col": cells["col"],
                "scheme": "TT27",
                "component": self.comp,
                "slot": 0,
                "subject_code": self.subj.fillna("ALL"),
                "semester": semester,
                "period": self.period,
                "value_num": self.num,
                "value_text": self.value_text,
            }
        )[keep.to_numpy()]


def _tt27_values(
    cells: pd.DataFrame, kind_of: dict[int, tuple[str, str | None]], period_by_row: pd.Series | None
) -> _TT27Values:
    """Parse and check TT27 cells (`row`, `col`, `text`); `kind_of`: cell column → (component, subject)."""
    comp = cells["col"].map({c: k[0] for c, k in kind_of.items()})
    subj = cells["col"].map({c: k[1] for c, k in kind_of.items()})
    tick_col = comp == "final_tick"  # the ticked column names the final result: its key is the value
    tick_key = subj.where(tick_col)
    subj = subj.where(~tick_col)
    comp = comp.mask(tick_col, "final")
    by_row = period_by_row.reindex(cells["row"]).to_numpy() if period_by_row is not None else None
    period = pd.Series(by_row, index=cells.index, dtype="object")
    text = cells["text"].astype("string").fillna("")
    key = text.map({t: nz.norm(t) for t in text.unique()})
    value_text = pd.Series(None, index=cells.index, dtype="object")
    words = _tt27_words()
    kinds = list(vocabulary().tt27.values)
    for kind in kinds:
        sel = comp == kind
        value_text = value_text.mask(sel, key[sel].map(words[f"values:{kind}"]))
    num = pd.Series(np.nan, index=cells.index)
    test = comp == "test_score"
    tnum, tbad = nz.parse_number(text.where(test & (text != "")))
    num = num.mask(test, tnum)
    end = comp.isin(["completed", "promoted", "not_promoted"])
    flags = vocabulary().tt27.flags
    flag_true = key.isin(norm_set(flags["true"])) | nz.ticked(text)  # ticks are values (U+F0FC, ✓, ✔)
    flag_false = key.isin(norm_set(flags["false"])) | (text == "")
    inverted = comp == "not_promoted"  # `Chưa lên lớp` ticked = not promoted
    num = num.mask(end, (flag_true ^ inverted).astype(float))
    comp = comp.mask(inverted, "promoted")
    value_text = value_text.mask(tick_col & flag_true, tick_key)
    unticked = tick_col & ~flag_true  # a result not ticked: no value (something else than a tick is bad)
    bad_code = (comp.isin(kinds) & value_text.isna() & ~tick_col) | (unticked & ~flag_false)
    bad_num = test & (tbad | (tnum.notna() & (tnum % 1 != 0))).fillna(False)
    oor = test & ~bad_num & ((tnum < 1) | (tnum > 10)).fillna(False)
    bad_flag = end & ~flag_true & ~flag_false
    return _TT27Values(comp, subj, period, text, value_text, num, bad_code, bad_num, oor, bad_flag, unticked)


def parse_group(
    grids: list[Grid], matches: list[HeaderMatch], ctx: ParseContext | list[ParseContext]
) -> list[SheetResult]:
    """TT27 sheets of one group (from one file or several: `ctx` is then one context per sheet):
    identity parsing, value checks and reshaping run once over all their rows, on the union of their
    assessment columns; each result is that of its sheet alone."""
    results: list[SheetResult | None] = [None] * len(grids)
    wg = open_group(grids, matches, ctx, _tt27_kinds, results)
    if wg is None:
        return results  # type: ignore[return-value]
    period_by_row = wg.good["period"] if "period" in wg.good.columns else None
    cells = _year_end_blanks(wg, wg.cells(), period_by_row)
    v = _tt27_values(cells, dict(enumerate(wg.kinds)), period_by_row)
    for mask, code, expected in v.rejects():
        wg.cell_rejects(cells, mask, code, expected)
    wg.cell_warnings(cells, v.late(), "implausible_value", _TT27_LATE)
    done, _, _ = wg.close(v.long(cells))
    return place(wg, done, results)


def _year_end_blanks(wg: WideGroup, cells: pd.DataFrame, period_by_row: pd.Series | None) -> pd.DataFrame:
    """At CN, completed/promoted always give a record: a blank year-end cell of a CN row is added as
    "" (after the sheet's cells)."""
    end_pos = np.array(
        [j for j, k in enumerate(wg.kinds) if k[0] in ("completed", "promoted", "not_promoted")],
        dtype=np.int64,
    )
    if not len(end_pos) or period_by_row is None:
        return cells
    n_pos = len(wg.kinds)
    gpos = wg.good.index.to_numpy()
    cn = gpos[(period_by_row == "CN").fillna(False).to_numpy(dtype=bool)]
    rr, pp = np.repeat(cn, len(end_pos)), np.tile(end_pos, len(cn))
    ac = wg.abs_cols[wg.sid[rr], pp]
    rr, pp, ac = rr[ac >= 0], pp[ac >= 0], ac[ac >= 0]
    order = np.lexsort((ac, rr))
    rr, pp = rr[order], pp[order]
    have = cells["row"].to_numpy(dtype=np.int64) * n_pos + cells["col"].to_numpy(dtype=np.int64)
    miss = ~np.isin(rr * n_pos + pp, have)
    if not miss.any():
        return cells
    return pd.concat([cells, pd.DataFrame({"row": rr[miss], "col": pp[miss], "text": ""})], ignore_index=True)
