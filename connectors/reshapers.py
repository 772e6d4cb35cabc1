"""Reshapers for layouts that are not plain tables (grade books, TT27 3-tier headers, wide
self-assessments): each takes the located header and returns canonical long rows.

A layout names its reshaper in `shape:`; `get()` finds it. Plain tables never come here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from connectors import gradebook_checks
from connectors import normalize as nz
from connectors.issues import RowIssue
from connectors.messages import column_letter
from connectors.sheet_parser import (
    ColumnUse,
    Grid,
    HeaderMatch,
    ParseContext,
    SheetResult,
    SheetRows,
    _nonblank,
    collect_members,
    collect_rows,
    finish_rows,
    finish_rows_group,
    mapped_frame,
    sheet_contexts,
)
from connectors.vocabulary import lookup, norm_set, vocabulary

Reshaper = Callable[[Grid, HeaderMatch, ParseContext], SheetResult]
REGISTRY: dict[str, Reshaper] = {}


def register(name: str) -> Callable[[Reshaper], Reshaper]:
    def deco(fn: Reshaper) -> Reshaper:
        REGISTRY[name] = fn
        return fn

    return deco


def get(name: str) -> Reshaper:
    if name not in REGISTRY:
        raise KeyError(f"no reshaper named {name!r}")
    return REGISTRY[name]


# ---------------------------------------------------------------------------------------------
# Shared: identity columns through finish_rows, wide cells → long rows with per-cell rejects
# ---------------------------------------------------------------------------------------------


def _identity(grid: Grid, match: HeaderMatch, ctx: ParseContext, mark_cols: list[int]
              ) -> tuple[SheetResult, pd.DataFrame]:  # fmt: skip
    """Identity columns of each row parsed as a table; returns the result and the raw cells."""
    part, meta, skipped = collect_rows(grid, match)
    header_texts = {n: " / ".join(match.paths.get(c, [n])) for c, n in match.mapping.items()}
    col_of = {n: c for c, n in match.mapping.items()}
    if part.empty:
        return SheetResult(match.layout, grid.sheet, pd.DataFrame(), [], [], 0, skipped), part
    extra = [c for c in match.paths if c not in match.mapping and c not in mark_cols]
    raw = mapped_frame(part, meta, match, extra)
    return finish_rows(raw, match.layout, grid.sheet, ctx, header_texts, col_of, skipped), part


def _cells(part: pd.DataFrame, rows: pd.Series, cols: list[int]) -> pd.DataFrame:
    """Non-blank cells of `cols` for the given sheet rows: columns row, col, text."""
    if not cols or rows.empty:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "col": pd.Series(dtype="int64"),
                             "text": pd.Series(dtype="string")})  # fmt: skip
    block = part.loc[rows.to_numpy(), cols]
    st = block.stack(future_stack=True) if hasattr(block, "stack") else block.stack()
    st = nz.clean_text(cast(pd.Series, st.astype("string"))).dropna()
    out = st.rename("text").reset_index()
    out.columns = ["row", "col", "text"]
    return out


def _cell_rejects(cells: pd.DataFrame, mask: pd.Series, code: str, expected: str, ctx: ParseContext,
                  sheet: str, paths: dict[int, list[str]], entity: str) -> list[RowIssue]:  # fmt: skip
    bad = cells[mask.to_numpy()]
    return [RowIssue.reject(ctx.file, sheet, int(r), code, entity=entity, canonical="value", column=int(c),
                            header=" / ".join(paths.get(int(c), [])), value=t, expected=expected)
            for r, c, t in zip(bad["row"].tolist(), bad["col"].tolist(), bad["text"].tolist(), strict=True)]  # fmt: skip


def _long_result(ident: SheetResult, long: pd.DataFrame, rejects: list[RowIssue], warnings: list[RowIssue],
                 grain_extra: list[str], file: str) -> SheetResult:  # fmt: skip
    """Join identity columns onto long rows and de-duplicate on the grain (last wins). Rows read are the
    identity parse's source rows (not the cells or long records)."""
    idn = ident.rows.set_index("source_row", drop=False)
    drop = [c for c in ("src_extra",) if c in idn.columns]
    long = long.join(idn.drop(columns=drop), on="row", how="inner", rsuffix="__ident")
    long = long.drop(columns=[c for c in long.columns if c.endswith("__ident")])
    grain = ["school_code", "school_year", *grain_extra]
    grain = [g for g in grain if g in long.columns]
    dup = long.duplicated(subset=grain, keep="last")
    for r in long.loc[dup, "row"].tolist():
        rejects.append(
            RowIssue.reject(file, ident.sheet, int(r), "duplicate_key", entity=ident.layout.entity)
        )
    long = long[~dup].drop(columns=["row", "col", "text"], errors="ignore").reset_index(drop=True)
    return SheetResult(ident.layout, ident.sheet, long, ident.rejects + rejects, ident.warnings + warnings,
                       ident.rows_read, ident.rows_skipped, ident.duplicates_dropped,
                       ident.file_error, file_error_detail=ident.file_error_detail)  # fmt: skip


def _warn_rows(cells: pd.DataFrame, mask: pd.Series, code: str, file: str, sheet: str,
               detail: str) -> list[RowIssue]:  # fmt: skip
    rows = cells.loc[mask.to_numpy(), "row"].tolist()
    return [RowIssue.warning(file, sheet, int(r), code, detail) for r in rows]


# ---------------------------------------------------------------------------------------------
# TT22 grade books (docs/exports.md §3.6 A/B/C)
# ---------------------------------------------------------------------------------------------
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


@register("tt22")
def tt22(grid: Grid, match: HeaderMatch, ctx: ParseContext) -> SheetResult:
    """Wide TT22 grade book → one row per student × subject × semester × component × slot."""
    kinds = {c: k for c, p in match.paths.items() if (k := classify_tt22(p)) is not None}
    mark_cols = [c for c, k in kinds.items() if k[0] != "comment"]
    comment_cols = [c for c, k in kinds.items() if k[0] == "comment"]
    ident, part = _identity(grid, match, ctx, list(kinds))
    if ident.rows.empty:
        return ident
    rows = ident.rows["source_row"]
    cells = _cells(part, rows, mark_cols)
    kind = cells["col"].map({c: k[0] for c, k in kinds.items()})
    slot = cells["col"].map({c: k[1] for c, k in kinds.items()}).astype("int64")
    file_sem = ident.rows.set_index("source_row")["semester"].reindex(cells["row"]).to_numpy() \
        if "semester" in ident.rows.columns else np.full(len(cells), None)  # fmt: skip
    component, sem = _tt22_components(kind, pd.Series(file_sem, index=cells.index, dtype="object"))
    text = cells["text"]
    uniq = {t: nz.norm(t) for t in text.dropna().unique()}  # marks repeat: norm each distinct text once
    key = text.map(uniq)
    marks = {nz.norm(k): v for k, v in vocabulary().tt22.text_marks.items()}
    is_text = key.isin(list(marks))
    value_text = key.map(marks).where(is_text)
    num, bad = nz.parse_number(text.where(~is_text))
    oor = (num < 0) | (num > 10)
    entity = match.layout.entity
    rejects = _cell_rejects(cells, bad & ~is_text, "bad_number", "điểm từ 0 đến 10 hoặc Đ/CĐ/M", ctx, grid.sheet,
                            match.paths, entity)  # fmt: skip
    rejects += _cell_rejects(cells, oor.fillna(False) & ~bad, "out_of_range", "điểm từ 0 đến 10", ctx, grid.sheet,
                             match.paths, entity)  # fmt: skip
    rounded = nz.round_half_up(num, 1)
    precise = num.notna() & ((rounded - num).abs() > 1e-9)
    warnings = _warn_rows(
        cells, precise, "precision", ctx.file, grid.sheet, "điểm làm tròn 1 chữ số thập phân"
    )
    keep = ~((bad & ~is_text) | oor.fillna(False))
    long = pd.DataFrame({
        "row": cells["row"], "col": cells["col"], "scheme": "TT22", "component": component,
        "slot": slot.where(component == "tx", 0), "semester": sem, "period": _semester_period(sem),
        "value_num": rounded, "value_text": value_text,
    })[keep.to_numpy()]  # fmt: skip
    if comment_cols:
        com = nz.clean_text(part.loc[rows.to_numpy(), comment_cols[0]].astype("string"))
        long["comment"] = long["row"].map(com)
    subject = ident.rows.get("subject_code")
    if subject is None or subject.isna().all():
        long["subject_code"] = nz.subject_code_of(grid.sheet) or "UNKNOWN"
    res = _long_result(
        ident,
        long,
        rejects,
        warnings,
        ["student_key", "subject_code", "semester", "period", "component", "slot"],
        ctx.file,
    )
    gradebook_checks.add_tt22_warnings([res], [ctx.file])  # incomplete_tx / avg_mismatch (rows kept)
    return res


def _tt22_kinds(match: HeaderMatch) -> dict[int, tuple[str, int]]:
    return {c: k for c, p in match.paths.items() if (k := classify_tt22(p)) is not None}


def group_key(match: HeaderMatch) -> tuple:
    """TT22 sheets with equal keys can be parsed together: same layout and the same mapped columns (their
    mark columns may differ: the group parses the union of their mark kinds)."""
    return (match.layout.id, tuple(sorted(match.mapping.values())))


def mark_positions(marks_of: list[list[tuple[int, tuple]]]) -> tuple[list[tuple], np.ndarray]:
    """The union of several sheets' mark columns, by kind: `marks_of[k]` lists sheet k's (column, kind)
    in column order; two columns of one kind in a sheet stay two positions. Returns each position's kind
    and, per sheet and position, the sheet's column (-1: the sheet has none)."""
    index: dict[tuple, int] = {}
    kinds: list[tuple] = []
    placed: list[list[tuple[int, int]]] = []
    for marks in marks_of:
        seen: dict[tuple, int] = {}
        here = []
        for c, k in marks:
            n = seen[k] = seen.get(k, -1) + 1
            if (k, n) not in index:
                index[(k, n)] = len(kinds)
                kinds.append(k)
            here.append((index[(k, n)], c))
        placed.append(here)
    abs_cols = np.full((len(marks_of), len(kinds)), -1, dtype=np.int64)
    for k, here in enumerate(placed):  # type: ignore[assignment]
        for j, c in here:
            abs_cols[k, j] = c
    return kinds, abs_cols


def mark_matrix(collected: list[SheetRows], abs_cols: np.ndarray) -> np.ndarray:
    """The cells of every member sheet's mark columns, one column per union position (None where the
    sheet has no such column), rows in member order."""
    parts = []
    for sr, cols in zip(collected, abs_cols, strict=True):
        m = np.full((len(sr.rows), len(cols)), None, dtype=object)
        js = np.flatnonzero(cols >= 0)
        if len(js):
            m[:, js] = sr.cells[:, [sr.col_pos[int(cols[j])] for j in js]]
        parts.append(m)
    return np.concatenate(parts) if parts else np.empty((0, abs_cols.shape[1]), dtype=object)


def cells_in_sheet_order(part: pd.DataFrame, rows: np.ndarray, positions: list[int], sid: np.ndarray,
                         abs_cols: np.ndarray) -> pd.DataFrame:  # fmt: skip
    """`_cells` of grouped rows (row = group position, col = union position), ordered within each row by
    the sheet's own column order, as `_cells` of the sheet alone orders them."""
    cells = _cells(part, pd.Series(rows), positions)
    if len(cells):
        r = cells["row"].to_numpy()
        order = np.lexsort((abs_cols[sid[r], cells["col"].to_numpy()], r))
        cells = cells.iloc[order].reset_index(drop=True)
    return cells


_LONG_GRAIN = ("school_code", "school_year", "student_key", "subject_code", "semester", "period", "component",
               "slot")  # fmt: skip


def _join_identity(
    long: pd.DataFrame, good: pd.DataFrame, sid: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """A group's long rows joined to their rows' identity columns (`good`, by group row), and the member
    sheet of each long row."""
    drop = [c for c in ("src_extra",) if c in good.columns]
    long = long.join(good.drop(columns=drop), on="row", how="inner", rsuffix="__ident")
    long = long.drop(columns=[c for c in long.columns if c.endswith("__ident")])
    return long, sid[long["row"].to_numpy()]


def _dedupe_per_sheet(long: pd.DataFrame, lsid: np.ndarray, rejects: list[list[RowIssue]], sheets: list[str],
                      srow: np.ndarray, files: list[str],
                      entity: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:  # fmt: skip
    """Drop the long rows that repeat a grain within their sheet (the last wins; each dropped row is a
    `duplicate_key` reject of its sheet), as `_long_result` does per sheet. Returns the kept rows (without
    the cell columns), their member sheets and the bounds of each member's slice (rows are sheet by sheet)."""
    grain = [g for g in _LONG_GRAIN if g in long.columns]
    dup = long[grain].assign(_sid=lsid).duplicated(subset=[*grain, "_sid"], keep="last").to_numpy()
    for k, g in zip(lsid[dup].tolist(), long.loc[dup, "row"].tolist(), strict=True):
        rejects[k].append(RowIssue.reject(files[k], sheets[k], int(srow[g]), "duplicate_key", entity=entity))
    long = long[~dup].drop(columns=["row", "col", "text"], errors="ignore")
    lsid = lsid[~dup]
    return long, lsid, np.searchsorted(lsid, np.arange(len(sheets) + 1))


def tt22_group(grids: list[Grid], matches: list[HeaderMatch],
               ctx: ParseContext | list[ParseContext]) -> list[SheetResult]:  # fmt: skip
    """`tt22` of several sheets with one `group_key`: parsing and reshaping run once over all their
    rows (each row carries its sheet and sheet row); the results equal `tt22` of each sheet. The sheets
    may come from several files: `ctx` is then one context per sheet."""
    layout = matches[0].layout
    ctxs = sheet_contexts(ctx, len(grids))
    results: list[SheetResult | None] = [None] * len(grids)
    gm = collect_members(grids, matches, results, empty=pd.DataFrame, kinds_of=_tt22_kinds)
    members, collected = gm.members, gm.collected
    if not members:
        return results  # type: ignore[return-value]
    # per member: (column, kind) of each mark column, its comment column (the first), its header paths
    marks_of = [[(c, k) for c, k in kinds.items() if k[0] != "comment"] for kinds in gm.kinds]
    comment_of = [next((c for c, k in kinds.items() if k[0] == "comment"), None) for kinds in gm.kinds]
    paths_of = [m.paths for m in gm.matches]
    kinds0, abs_cols = mark_positions(marks_of)
    n_marks = len(kinds0)
    mark_cols = list(range(n_marks))
    mark_abs = abs_cols.tolist()
    has_comment = any(c is not None for c in comment_of)
    sheets = [grids[i].sheet for i in members]
    member_ctxs = [ctxs[i] for i in members]
    sid, srow, raw = gm.row_arrays()
    part_all = pd.DataFrame(mark_matrix(collected, abs_cols), dtype=object)
    if has_comment:
        part_all["comment"] = np.concatenate(
            [sr.cells[:, sr.col_pos[c]] if c is not None else np.full(len(sr.rows), None, dtype=object)
             for sr, c in zip(collected, comment_of, strict=True)])  # fmt: skip
    grp = finish_rows_group(raw, sid, srow, layout, sheets, member_ctxs, gm.texts_of, gm.cols_of, gm.skipped,
                            sheet_rows=False)  # fmt: skip
    idents = grp.results
    good, gsid = grp.good, grp.sid
    nonempty = grp.counts > 0
    for k, r in enumerate(idents):
        if not nonempty[k]:
            results[members[k]] = r
    if not nonempty.any():
        return results  # type: ignore[return-value]
    gpos = good.index.to_numpy()
    cells = cells_in_sheet_order(part_all, gpos, mark_cols, sid, abs_cols)
    kind = cells["col"].map({j: k[0] for j, k in enumerate(kinds0)})
    slot = cells["col"].map({j: k[1] for j, k in enumerate(kinds0)}).astype("int64")
    file_sem = good["semester"].reindex(cells["row"]).to_numpy() if "semester" in good.columns \
        else np.full(len(cells), None)  # fmt: skip
    component, sem = _tt22_components(kind, pd.Series(file_sem, index=cells.index, dtype="object"))
    text = cells["text"]
    uniq = {t: nz.norm(t) for t in text.dropna().unique()}
    key = text.map(uniq)
    marks = {nz.norm(k): v for k, v in vocabulary().tt22.text_marks.items()}
    is_text = key.isin(list(marks))
    value_text = key.map(marks).where(is_text)
    num, bad = nz.parse_number(text.where(~is_text))
    oor = (num < 0) | (num > 10)
    rejects: list[list[RowIssue]] = [[] for _ in members]
    warnings: list[list[RowIssue]] = [[] for _ in members]
    where = (sheets, sid, srow, mark_abs, paths_of, layout.entity)
    _group_cell_rejects(rejects, cells, bad & ~is_text, "bad_number", "điểm từ 0 đến 10 hoặc Đ/CĐ/M", member_ctxs,
                        where)  # fmt: skip
    _group_cell_rejects(rejects, cells, oor.fillna(False) & ~bad, "out_of_range", "điểm từ 0 đến 10", member_ctxs,
                        where)  # fmt: skip
    rounded = nz.round_half_up(num, 1)
    precise = (num.notna() & ((rounded - num).abs() > 1e-9)).to_numpy(dtype=bool)
    for g in cells["row"].to_numpy()[precise].tolist():
        k = int(sid[g])
        warnings[k].append(RowIssue.warning(member_ctxs[k].file, sheets[k], int(srow[g]), "precision",
                                            "điểm làm tròn 1 chữ số thập phân"))  # fmt: skip
    keep = ~((bad & ~is_text) | oor.fillna(False))
    long = pd.DataFrame({
        "row": cells["row"], "col": cells["col"], "scheme": "TT22", "component": component,
        "slot": slot.where(component == "tx", 0), "semester": sem, "period": _semester_period(sem),
        "value_num": rounded, "value_text": value_text,
    })[keep.to_numpy()]  # fmt: skip
    if has_comment:
        com = nz.clean_text(part_all.loc[gpos, "comment"].astype("string"))
        long["comment"] = long["row"].map(com)
    # subject from the sheet name where the sheet gives none (title or column)
    subj = good["subject_code"] if "subject_code" in good.columns else pd.Series(pd.NA, index=good.index)
    has_subj = np.bincount(gsid[subj.notna().to_numpy()], minlength=len(members)) > 0
    fallback = {k: nz.subject_code_of(sheets[k]) or "UNKNOWN" for k in range(len(members)) if not has_subj[k]}
    # join identity columns, de-duplicate per sheet on the grain (last wins)
    long, lsid = _join_identity(long, good, sid)
    if fallback:
        fb = pd.Series(lsid).map(fallback).to_numpy()
        cur = long["subject_code"].astype("object").to_numpy() if "subject_code" in long.columns \
            else np.full(len(long), None, dtype=object)  # fmt: skip
        long["subject_code"] = np.where(pd.notna(fb), fb, cur)
    files = [c.file for c in member_ctxs]
    long, lsid, bounds = _dedupe_per_sheet(long, lsid, rejects, sheets, srow, files, layout.entity)
    done: list[SheetResult] = []
    for k, ident in enumerate(idents):
        a, b = int(bounds[k]), int(bounds[k + 1])
        done.append(SheetResult(layout, ident.sheet, long.iloc[a:b], ident.rejects + rejects[k],
                                ident.warnings + warnings[k], ident.rows_read, ident.rows_skipped,
                                ident.duplicates_dropped, ident.file_error, parent=(long, a, b) if b > a else None,
                                file_error_detail=ident.file_error_detail))  # fmt: skip
    gradebook_checks.add_group_warnings(done, long, lsid, files)  # incomplete_tx / avg_mismatch (rows kept)
    for k, r in enumerate(done):
        if nonempty[k]:
            results[members[k]] = r
    return results  # type: ignore[return-value]


def _group_cell_rejects(out: list[list[RowIssue]], cells: pd.DataFrame, mask: pd.Series, code: str, expected: str,
                        ctxs: list[ParseContext], where: tuple) -> None:  # fmt: skip
    """`_cell_rejects` for grouped cells (row = group position, col = mark position; one context per
    member sheet)."""
    sheets, sid, srow, mark_abs, paths_of, entity = where
    bad = cells[mask.to_numpy()]
    for g, j, t in zip(bad["row"].tolist(), bad["col"].tolist(), bad["text"].tolist(), strict=True):
        k, r = int(sid[g]), int(srow[g])
        c = int(mark_abs[k][int(j)])
        out[k].append(RowIssue.reject(ctxs[k].file, sheets[k], r, code, entity=entity, canonical="value", column=c,
                                      header=" / ".join(paths_of[k].get(c, [])), value=t, expected=expected))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# TT27 primary results (docs/exports.md §3.6 D and vnEdu variant)
# ---------------------------------------------------------------------------------------------
@functools.cache
def _tt27_words() -> dict[str, dict[str, str]]:
    """The TT27 vocabulary as lookups: groups, competences, qualities, year end, leaves, value words."""
    voc = vocabulary().tt27
    out: dict[str, dict[str, str]] = {
        "groups": lookup(voc.groups), "competences": lookup(voc.competences),  # type: ignore[arg-type]
        "qualities": lookup(voc.qualities), "end": lookup(voc.year_end),  # type: ignore[arg-type]
        "level_leaf": {k: "level" for k in norm_set(voc.level_leaves)},
        "test_leaf": {k: "test" for k in norm_set(voc.test_leaves)},
        "final_group": {k: "final" for k in norm_set(voc.final_groups)},
        "final_tick": lookup(voc.final_ticks),  # type: ignore[arg-type]
    }  # fmt: skip
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
        return pd.DataFrame({
            "row": cells["row"], "col": cells["col"], "scheme": "TT27", "component": self.comp, "slot": 0,
            "subject_code": self.subj.fillna("ALL"), "semester": semester, "period": self.period,
            "value_num": self.num, "value_text": self.value_text,
        })[keep.to_numpy()]  # fmt: skip


def _tt27_values(cells: pd.DataFrame, kind_of: dict[int, tuple[str, str | None]],
                 period_by_row: pd.Series | None) -> _TT27Values:  # fmt: skip
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


@register("tt27")
def tt27(grid: Grid, match: HeaderMatch, ctx: ParseContext) -> SheetResult:
    """TT27 3-tier sheet → one row per student × subject/competence/quality × period × component."""
    kinds = _tt27_kinds(match)
    ident, part = _identity(grid, match, ctx, list(kinds))
    if ident.rows.empty:
        return ident
    rows = ident.rows["source_row"]
    period_by_row = ident.rows.set_index("source_row")["period"] if "period" in ident.rows.columns else None
    end_cols = [c for c, k in kinds.items() if k[0] in ("completed", "promoted", "not_promoted")]
    cells = _cells(part, rows, list(kinds))
    # at CN, completed/promoted always give a row: blank → 0
    if end_cols and period_by_row is not None:
        cn_rows = period_by_row[period_by_row == "CN"].index
        grid_full = pd.MultiIndex.from_product([cn_rows, end_cols], names=["row", "col"]).to_frame(
            index=False
        )
        have = cells.set_index(["row", "col"]).index
        missing = grid_full[~grid_full.set_index(["row", "col"]).index.isin(have)]
        cells = pd.concat([cells, missing.assign(text="")], ignore_index=True)
    v = _tt27_values(cells, kinds, period_by_row)
    sheet, paths = grid.sheet, match.paths
    rejects = []
    for mask, code, expected in v.rejects():
        rejects += _cell_rejects(cells, mask, code, expected, ctx, sheet, paths, match.layout.entity)
    warnings = _warn_rows(cells, v.late(), "implausible_value", ctx.file, sheet, _TT27_LATE)
    long = v.long(cells)
    return _long_result(
        ident,
        long,
        rejects,
        warnings,
        ["student_key", "subject_code", "semester", "period", "component", "slot"],
        ctx.file,
    )


def tt27_group(grids: list[Grid], matches: list[HeaderMatch],
               ctx: ParseContext | list[ParseContext]) -> list[SheetResult]:  # fmt: skip
    """`tt27` of several sheets with one `group_key` (from one file or several: `ctx` is then one
    context per sheet): identity parsing, value checks and reshaping run once over all their rows, on
    the union of their assessment columns; each result equals `tt27` of its sheet alone."""
    layout = matches[0].layout
    ctxs = sheet_contexts(ctx, len(grids))
    results: list[SheetResult | None] = [None] * len(grids)
    # an empty sheet's result is that of `_identity` on it
    gm = collect_members(grids, matches, results, empty=pd.DataFrame, kinds_of=_tt27_kinds)
    members, collected = gm.members, gm.collected
    if not members:
        return results  # type: ignore[return-value]
    paths_of = [m.paths for m in gm.matches]
    kinds_u, abs_cols = mark_positions([list(kinds.items()) for kinds in gm.kinds])
    n_pos = len(kinds_u)
    sheets = [grids[i].sheet for i in members]
    member_ctxs = [ctxs[i] for i in members]
    sid, srow, raw = gm.row_arrays()
    part_all = pd.DataFrame(mark_matrix(collected, abs_cols), dtype=object)
    grp = finish_rows_group(raw, sid, srow, layout, sheets, member_ctxs, gm.texts_of, gm.cols_of, gm.skipped,
                            sheet_rows=False)  # fmt: skip
    idents, good = grp.results, grp.good
    nonempty = grp.counts > 0
    for k, r in enumerate(idents):
        if not nonempty[k]:
            results[members[k]] = r
    if not nonempty.any():
        return results  # type: ignore[return-value]
    gpos = good.index.to_numpy()
    cells = cells_in_sheet_order(part_all, gpos, list(range(n_pos)), sid, abs_cols)
    period_by_row = good["period"] if "period" in good.columns else None
    # at CN, completed/promoted always give a row: blank → 0 (appended after the sheet's cells)
    end_pos = np.array(
        [j for j, k in enumerate(kinds_u) if k[0] in ("completed", "promoted", "not_promoted")],
        dtype=np.int64,
    )
    if len(end_pos) and period_by_row is not None:
        cn = gpos[(period_by_row == "CN").fillna(False).to_numpy(dtype=bool)]
        rr, pp = np.repeat(cn, len(end_pos)), np.tile(end_pos, len(cn))
        ac = abs_cols[sid[rr], pp]
        rr, pp, ac = rr[ac >= 0], pp[ac >= 0], ac[ac >= 0]
        order = np.lexsort((ac, rr))
        rr, pp = rr[order], pp[order]
        have = cells["row"].to_numpy(dtype=np.int64) * n_pos + cells["col"].to_numpy(dtype=np.int64)
        miss = ~np.isin(rr * n_pos + pp, have)
        if miss.any():
            extra = pd.DataFrame({"row": rr[miss], "col": pp[miss], "text": ""})
            cells = pd.concat([cells, extra], ignore_index=True)
    v = _tt27_values(cells, dict(enumerate(kinds_u)), period_by_row)
    rejects: list[list[RowIssue]] = [[] for _ in members]
    warnings: list[list[RowIssue]] = [[] for _ in members]
    where = (sheets, sid, srow, abs_cols.tolist(), paths_of, layout.entity)
    for mask, code, expected in v.rejects():
        _group_cell_rejects(rejects, cells, mask, code, expected, member_ctxs, where)
    for g in cells["row"].to_numpy()[v.late().to_numpy(dtype=bool)].tolist():
        k = int(sid[g])
        warnings[k].append(RowIssue.warning(member_ctxs[k].file, sheets[k], int(srow[g]), "implausible_value",
                                            _TT27_LATE))  # fmt: skip
    long = v.long(cells)
    long = long.iloc[np.argsort(sid[long["row"].to_numpy()], kind="stable")]  # sheet by sheet, order kept
    long, lsid = _join_identity(long, good, sid)
    files = [c.file for c in member_ctxs]
    long, lsid, bounds = _dedupe_per_sheet(long, lsid, rejects, sheets, srow, files, layout.entity)
    for k, ident in enumerate(idents):
        if not nonempty[k]:
            continue
        a, b = int(bounds[k]), int(bounds[k + 1])  # a slice: the index is not meaningful
        results[members[k]] = SheetResult(layout, ident.sheet, long.iloc[a:b], ident.rejects + rejects[k],
                                          ident.warnings + warnings[k], ident.rows_read, ident.rows_skipped,
                                          ident.duplicates_dropped, ident.file_error,
                                          parent=(long, a, b) if b > a else None,
                                          file_error_detail=ident.file_error_detail)  # fmt: skip
    return results  # type: ignore[return-value]


GROUPS: dict[str, Callable[[list[Grid], list[HeaderMatch], list[ParseContext]], list[SheetResult]]] = {
    "tt22": tt22_group,
    "tt27": tt27_group,
}


# ---------------------------------------------------------------------------------------------
# Wide self-assessment (docs/exports.md §3.19 B)
# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# Term summary books (vnEdu lower secondary, docs/real_exports.md R3)
# ---------------------------------------------------------------------------------------------
def _summary_kinds(match: HeaderMatch) -> dict[int, tuple[str, str]]:
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


@register("term_summary")
def term_summary(grid: Grid, match: HeaderMatch, ctx: ParseContext) -> SheetResult:
    """A term summary sheet (a class, subjects across) → one `avg_sem` record per pupil × subject, for the
    semester of the title: a number (0–10, rounded to 1 decimal) or a comment word (Đ/CĐ/M)."""
    kinds = _summary_kinds(match)
    ident, part = _identity(grid, match, ctx, list(kinds))
    if ident.rows.empty:
        return ident
    rows = ident.rows["source_row"]
    cells = _cells(part, rows, list(kinds))
    cells = cells[~cells["text"].isin(vocabulary().tt22.blank_marks)].reset_index(drop=True)
    sem_of = ident.rows.set_index("source_row")["semester"] if "semester" in ident.rows.columns else None
    sem = pd.Series(sem_of.reindex(cells["row"]).to_numpy() if sem_of is not None else None, index=cells.index,
                    dtype="object")  # fmt: skip
    text = cells["text"]
    key = text.map({t: nz.norm(t) for t in text.dropna().unique()})
    marks = {nz.norm(k): v for k, v in vocabulary().tt22.text_marks.items()}
    is_text = key.isin(list(marks))
    num, bad = nz.parse_number(text.where(~is_text))
    bad = bad & ~is_text
    oor = ((num < 0) | (num > 10)).fillna(False) & ~bad
    entity = match.layout.entity
    rejects = _cell_rejects(cells, bad, "bad_number", "điểm từ 0 đến 10 hoặc Đ/CĐ/M", ctx, grid.sheet,
                            match.paths, entity)  # fmt: skip
    rejects += _cell_rejects(
        cells, oor, "out_of_range", "điểm từ 0 đến 10", ctx, grid.sheet, match.paths, entity
    )
    long = pd.DataFrame({
        "row": cells["row"], "col": cells["col"], "scheme": "TT22",
        "component": cells["col"].map({c: k[0] for c, k in kinds.items()}), "slot": 0,
        "subject_code": cells["col"].map({c: k[1] for c, k in kinds.items()}), "semester": sem,
        "period": _semester_period(sem), "value_num": nz.round_half_up(num, 1),
        "value_text": key.map(marks).where(is_text),
    })[~(bad | oor).to_numpy()]  # fmt: skip
    return _long_result(ident, long, rejects, [],
                        ["student_key", "subject_code", "semester", "period", "component", "slot"], ctx.file)  # fmt: skip


def _self_assessment_columns(match: HeaderMatch) -> tuple[dict[int, str], dict[int, str]]:
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


def _self_assessment_kinds(match: HeaderMatch) -> dict[int, tuple]:
    codes, totals = _self_assessment_columns(match)
    return {**{c: ("criterion", k) for c, k in codes.items()}, **{c: ("total", k) for c, k in totals.items()}}


#: per shape, the wide columns its reshaper reads (column → kind): what `account_columns` calls read
MARK_KINDS: dict[str, Callable[[HeaderMatch], dict[int, tuple]]] = {
    "tt22": _tt22_kinds,
    "tt27": _tt27_kinds,
    "self_assessment_wide": _self_assessment_kinds,
    "term_summary": _summary_kinds,
}


def account_columns(grid: Grid, match: HeaderMatch) -> list[ColumnUse]:
    """Every column of a parsed sheet that has a header or a non-blank data cell, with what the parser
    does with it (docs/real_exports.md, no silent loss): a canonical column (stored, or `ignored:` when
    the layout reads it and drops it, e.g. names), a mark read by the sheet's reshaper (`mark:` and its
    kind), or `not_read`. Data cells are those between the header and the last row carrying a key
    (footers and signatures below it are not data)."""
    layout = match.layout
    kinds = MARK_KINDS.get(layout.shape, lambda m: {})(match)
    body = grid.span(match.row + match.depth, None)
    arr = grid.values[body]
    cols = [int(c) for c in grid.columns]
    key_col = next((c for c, n in match.mapping.items() if n == layout.key), None)
    key_j = grid.col_position(key_col) if key_col is not None else None
    filled = _nonblank(arr) if arr.size else np.zeros((0, len(cols)), dtype=bool)
    if key_j is not None and len(arr):
        keyed = np.flatnonzero(filled[:, key_j])
        filled = filled[: int(keyed[-1]) + 1] if len(keyed) else filled[:0]
    non_empty = {cols[j] for j in np.flatnonzero(filled.any(axis=0)).tolist()} if len(filled) else set()
    out: list[ColumnUse] = []
    for c in sorted(set(match.paths) | non_empty):
        header = " / ".join(match.paths.get(c, []))
        if c in match.mapping:
            name = match.mapping[c]
            role = layout.columns[name].role
            use = name if role == "value" else (f"mark:{name}" if role == "mark" else f"ignored:{name}")
        elif c in kinds:
            use = "mark:" + ":".join(str(k) for k in kinds[c] if k is not None)
        else:
            use = "not_read"
        out.append(ColumnUse(column_letter(c), header, use, c in non_empty))
    return out


def annotate(results: list[SheetResult], grids: list[Grid], matches: list[HeaderMatch]) -> None:
    """Give each parsed sheet's result its accounting: header rows, score, runner-up, columns' uses."""
    for res, grid, match in zip(results, grids, matches, strict=True):
        res.columns = account_columns(grid, match)
        res.header_row, res.header_depth, res.score = match.row, match.depth, match.score
        res.runner_up = match.runner_up


@register("self_assessment_wide")
def self_assessment_wide(grid: Grid, match: HeaderMatch, ctx: ParseContext) -> SheetResult:
    """One row per school → one row per leaf criterion; subtotals recomputed (total_mismatch)."""
    from connectors import derive

    codes, totals = _self_assessment_columns(match)
    sa = vocabulary().self_assessment
    ident, part = _identity(grid, match, ctx, [*codes, *totals])
    if ident.rows.empty:
        return ident
    rows = ident.rows["source_row"]
    leaf_cols = [c for c, code in codes.items() if code in derive.LEAF_CRITERIA]
    block = part.loc[rows.to_numpy(), leaf_cols]
    st = block.stack(future_stack=True)
    st = nz.clean_text(cast(pd.Series, st.astype("string")))
    cells = st.rename("text").reset_index()
    cells.columns = ["row", "col", "text"]
    cells["criterion_code"] = cells["col"].map(codes)
    mandatory = cells["criterion_code"].isin(derive.MANDATORY_CRITERIA)
    cells = cells[cells["text"].notna() | mandatory].reset_index(drop=True)
    mandatory = cells["criterion_code"].isin(derive.MANDATORY_CRITERIA)
    # mandatory cells: Đạt/x → true, Chưa đạt/blank → false
    df = pd.DataFrame({"criterion_code": cells["criterion_code"]}, index=cells.index)
    key = cells["text"].fillna("").pipe(nz.norm_series)
    df["mandatory_met"] = pd.Series(np.where(key.isin(norm_set(sa.mandatory_met_wide)), True, False), index=cells.index,
                                    dtype="object").where(mandatory, None)  # fmt: skip
    warnings: list[RowIssue] = []

    class _Ops:  # the subset of RowOps that score_columns uses
        def warn(self, mask: pd.Series, code: str, detail: str = "") -> None:
            warnings.extend(_warn_rows(cells, mask, code, ctx.file, grid.sheet, detail))

    df = derive.score_columns(df, _Ops(), cells["text"].where(~mandatory))  # type: ignore[arg-type]
    df["mandatory_met"] = df["mandatory_met"].where(mandatory, None)
    df["self_score_raw"] = cells["text"]
    df["row"], df["col"] = cells["row"], cells["col"]
    # recompute group totals and compare with the file's
    grp = cells["criterion_code"].str[0]
    sums = df.assign(g=grp).groupby(["row", "g"])["self_score"].sum()
    for c, which in totals.items():
        declared, _ = nz.parse_number(part.loc[rows.to_numpy(), c].astype("string"))
        if which == "level":
            df["declared_level"] = df["row"].map(pd.to_numeric(declared, errors="coerce")).astype("Int64")
            continue
        calc = (
            sums.xs(which, level="g") if which in sums.index.get_level_values("g") else pd.Series(dtype=float)
        )
        diff = (declared - calc.reindex(declared.index).fillna(0)).abs() > 0.05
        for r in diff[diff.fillna(False)].index:
            warnings.append(
                RowIssue.warning(ctx.file, grid.sheet, int(r), "total_mismatch", f"Tổng điểm nhóm {which}")
            )
    ident.rows = ident.rows.drop(columns=[c for c in ("criterion_code",) if c in ident.rows.columns])
    return _long_result(ident, df, [], warnings, ["criterion_code"], ctx.file)
