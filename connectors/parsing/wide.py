"""The other wide sheets: vnEdu term summary books (docs/real_exports.md R3: a class, subjects across →
one `avg_sem` record per pupil × subject), reshaped by groups of sheets like the grade books, and the wide
self-assessment (docs/exports.md §3.19 B: a school per row → one record per leaf criterion, group totals
recomputed), read one sheet at a time (a group of one). Both go through the shared wide-sheet steps
(`connectors.parsing.marks`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.issues import RowIssue
from connectors.parsing.marks import WideGroup, open_group, place, stacked_cells
from connectors.parsing.model import Grid, HeaderMatch, ParseContext, SheetResult
from connectors.parsing.tt22 import _semester_period
from connectors.parsing.values import per_distinct
from connectors.vocabulary import lookup, norm_set, vocabulary


def summary_kinds(match: HeaderMatch) -> dict[int, tuple[str, str]]:
    """Column → (component, subject code) of a term summary: a subject label over a summary sub-label."""
    voc = vocabulary().tt22
    leaves = lookup(voc.summary_leaves)  # type: ignore[arg-type]
    out: dict[int, tuple[str, str]] = {}
    for c, path in match.paths.items():
        if c in match.mapping or len(path) < 2:
            continue
        kind = next((leaves[f] for f in nz.header_forms(path[-1]) if f in leaves), None)
        if kind is not None:
            out[c] = (kind, nz.subject_code_of(path[-2]) or "UNKNOWN")
    return out


def term_summary(
    grids: list[Grid], matches: list[HeaderMatch], ctx: ParseContext | list[ParseContext]
) -> list[SheetResult]:
    """Term summary sheets of one group (a class each, subjects across; from one file or several: `ctx`
    is then one context per sheet) → one `avg_sem` record per pupil × subject, for the semester of each
    sheet's title: a number (0–10, rounded to 1 decimal) or a comment word (Đ/CĐ/M). Parsing and
    reshaping run once over all their rows; each result is that of its sheet alone."""
    results: list[SheetResult | None] = [None] * len(grids)
    wg = open_group(grids, matches, ctx, summary_kinds, results)
    if wg is None:
        return results  # type: ignore[return-value]
    cells = wg.cells()
    cells = cells[~cells["text"].isin(vocabulary().tt22.blank_marks)].reset_index(drop=True)
    good = wg.good
    sem = pd.Series(
        good["semester"].reindex(cells["row"]).to_numpy() if "semester" in good.columns else None,
        index=cells.index,
        dtype="object",
    )
    text = cells["text"]
    key = text.map({t: nz.norm(t) for t in text.dropna().unique()})
    marks = {nz.norm(k): v for k, v in vocabulary().tt22.text_marks.items()}
    is_text = key.isin(list(marks))
    num, bad = per_distinct(nz.parse_number, text.where(~is_text))  # marks repeat: each parsed once
    bad = bad & ~is_text
    oor = ((num < 0) | (num > 10)).fillna(False) & ~bad
    wg.cell_rejects(cells, bad, "bad_number", "điểm từ 0 đến 10 hoặc Đ/CĐ/M")
    wg.cell_rejects(cells, oor, "out_of_range", "điểm từ 0 đến 10")
    long = pd.DataFrame(
        {
            "row": cells["row"],
            "col": cells["col"],
            "scheme": "TT22",
            "component": cells["col"].map({j: k[0] for j, k in enumerate(wg.kinds)}),
            "slot": 0,
            "subject_code": cells["col"].map({j: k[1] for j, k in enumerate(wg.kinds)}),
            "semester": sem,
            "period": _semester_period(sem),
            "value_num": nz.round_half_up(num, 1),
            "value_text": key.map(marks).where(is_text),
        }
    )[~(bad | oor).to_numpy()]
    return place(wg, wg.close(long)[0], results)


def self_assessment_columns(match: HeaderMatch) -> tuple[dict[int, str], dict[int, str]]:
    """The wide self-assessment's criterion columns (column → criterion code) and total columns
    (column → group letter, or `level` for the declared level)."""
    from connectors import derive

    codes: dict[int, str] = {}
    totals: dict[int, str] = {}
    sa = vocabulary().self_assessment
    sa_totals = {g: [nz.norm(w) for w in ws] for g, ws in sa.group_totals.items()}
    sa_level = norm_set(sa.level_headers)
    for c, path in match.paths.items():
        leaf = path[-1]
        m = derive.CRITERION_RX.search(leaf)
        n = nz.norm(leaf)
        if m and c not in match.mapping:
            codes[c] = m.group(0)
        elif total := next((g for g, ws in sa_totals.items() if any(n.startswith(w) for w in ws)), None):
            totals[c] = total
        elif n in sa_level:
            totals[c] = "level"
    return codes, totals


def self_assessment_kinds(match: HeaderMatch) -> dict[int, tuple]:
    codes, totals = self_assessment_columns(match)
    return {**{c: ("criterion", k) for c, k in codes.items()}, **{c: ("total", k) for c, k in totals.items()}}


def self_assessment_wide(grid: Grid, match: HeaderMatch, ctx: ParseContext) -> SheetResult:
    """One row per school → one row per leaf criterion; subtotals recomputed (total_mismatch)."""
    results: list[SheetResult | None] = [None]
    wg = open_group([grid], [match], ctx, self_assessment_kinds, results)
    if wg is None:
        return results[0]  # type: ignore[return-value]
    df = _criteria(wg)
    _totals(wg, df)
    wg.good = wg.good.drop(columns=[c for c in ("criterion_code",) if c in wg.good.columns])
    return wg.close(df, grain=("school_code", "school_year", "criterion_code"))[0][0]


def _criteria(wg: WideGroup) -> pd.DataFrame:
    """The leaf criterion cells (blank ones kept for mandatory criteria: not met) scored."""
    from connectors import derive

    code_of = {j: k[1] for j, k in enumerate(wg.kinds) if k[0] == "criterion"}
    leaf_pos = [j for j, code in code_of.items() if code in derive.LEAF_CRITERIA]
    cells = stacked_cells(wg.part, wg.good.index.to_numpy(), leaf_pos, keep_blank=True)
    cells["criterion_code"] = cells["col"].map(code_of)
    cells = cells[cells["text"].notna() | cells["criterion_code"].isin(derive.MANDATORY_CRITERIA)]
    cells = cells.reset_index(drop=True)
    mandatory = cells["criterion_code"].isin(derive.MANDATORY_CRITERIA)
    # mandatory cells: Đạt/x → true, Chưa đạt/blank → false
    df = pd.DataFrame({"criterion_code": cells["criterion_code"]}, index=cells.index)
    key = cells["text"].fillna("").pipe(nz.norm_series)
    met = norm_set(vocabulary().self_assessment.mandatory_met_wide)
    df["mandatory_met"] = pd.Series(
        np.where(key.isin(met), True, False), index=cells.index, dtype="object"
    ).where(mandatory, None)

    class _Ops:  # the subset of RowOps that score_columns uses
        def warn(self, mask: pd.Series, code: str, detail: str = "") -> None:
            wg.cell_warnings(cells, mask, code, detail)

    df = derive.score_columns(df, _Ops(), cells["text"].where(~mandatory))  # type: ignore[arg-type]
    df["mandatory_met"] = df["mandatory_met"].where(mandatory, None)
    df["self_score_raw"] = cells["text"]
    df["row"], df["col"] = cells["row"], cells["col"]
    return df


def _totals(wg: WideGroup, df: pd.DataFrame) -> None:
    """The declared level, and a `total_mismatch` warning per group total the criteria do not add up to."""
    rows = wg.good.index.to_numpy()
    grp = df["criterion_code"].str[0]
    sums = df.assign(g=grp).groupby(["row", "g"])["self_score"].sum()
    for j, (kind, which) in enumerate(wg.kinds):
        if kind != "total":
            continue
        declared, _ = nz.parse_number(wg.part.loc[rows, j].astype("string"))
        if which == "level":
            df["declared_level"] = df["row"].map(pd.to_numeric(declared, errors="coerce")).astype("Int64")
            continue
        calc = (
            sums.xs(which, level="g") if which in sums.index.get_level_values("g") else pd.Series(dtype=float)
        )
        diff = (declared - calc.reindex(declared.index).fillna(0)).abs() > 0.05
        for g in diff[diff.fillna(False)].index:
            wg.warnings[0].append(
                RowIssue.warning(
                    wg.ctxs[0].file,
                    wg.sheets[0],
                    int(wg.srow[g]),
                    "total_mismatch",
                    f"Tổng điểm nhóm {which}",
                )
            )
