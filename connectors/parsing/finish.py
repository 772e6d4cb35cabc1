"""Finishing: the parsed rows of a group of sheets (one sheet is a group of one) become records. Values
parsed once for the group, then school / year / period resolved, required metadata checked, post-
processors run, rows exploded and melted and de-duplicated; whole-column tests, required metadata,
the folder-year warning and de-duplication stay per sheet, so a sheet's result does not depend on
the sheets it was parsed with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from connectors import normalize as nz
from connectors.issues import RowIssue
from connectors.layouts import Layout
from connectors.parsing.metadata import (
    explode_and_melt,
    fill_file_name_fields,
    fill_title_fields,
    missing_metadata_detail,
    other_level,
    resolve_school,
)
from connectors.parsing.model import ParseContext, SheetResult, sheet_contexts
from connectors.parsing.values import parse_values


@dataclass
class GroupRows:
    """`finish_group` output: per-sheet results and the kept rows of every sheet together
    (index = position in the concatenated raw frame, `sid` = the sheet's position in the group)."""

    results: list[SheetResult]
    good: pd.DataFrame
    sid: np.ndarray
    counts: np.ndarray  # kept rows per sheet


@dataclass
class _Rows:
    """The rows of a group being finished. `raw` and `out` are indexed by row position in the group
    (0..n-1; rows left out keep the positions of the others); `sid`/`srow` give each position's sheet
    and sheet row. Rejects and warnings are collected per sheet; a row rejected once is not checked
    again."""

    raw: pd.DataFrame
    sid: np.ndarray
    srow: np.ndarray
    layout: Layout
    sheets: list[str]
    ctxs: list[ParseContext]
    header_texts: list[dict[str, str]]
    col_of: list[dict[str, int]]
    rows_read: np.ndarray
    skipped: np.ndarray
    out: pd.DataFrame = field(init=False)
    bad_any: pd.Series = field(init=False)
    rejects: list[list[RowIssue]] = field(init=False)
    warnings: list[list[RowIssue]] = field(init=False)

    def __post_init__(self) -> None:
        self.out = pd.DataFrame(index=self.raw.index)
        self.bad_any = pd.Series(False, index=self.raw.index)
        self.rejects = [[] for _ in self.sheets]
        self.warnings = [[] for _ in self.sheets]

    @property
    def n(self) -> int:
        return len(self.sheets)

    def reject(self, mask: pd.Series, column: str, code: str, expected: str) -> None:
        mask = mask & ~self.bad_any
        if not mask.any():
            return
        raw, entity = self.raw, self.layout.entity
        for g in mask[mask].index:
            k, r = int(self.sid[g]), int(self.srow[g])
            value = raw.at[g, column] if column in raw.columns else None
            self.rejects[k].append(
                RowIssue.reject(
                    self.ctxs[k].file,
                    self.sheets[k],
                    r,
                    code,
                    entity=entity,
                    canonical=column,
                    column=self.col_of[k].get(column),
                    header=self.header_texts[k].get(column, ""),
                    value=value,
                    expected=expected,
                )
            )
        self.bad_any = self.bad_any | mask

    def warn(self, mask: pd.Series, code: str, detail: str = "") -> None:
        mask = mask.fillna(False).astype(bool) & ~self.bad_any
        for g in mask[mask].index:
            k = int(self.sid[g])
            self.warnings[k].append(
                RowIssue.warning(self.ctxs[k].file, self.sheets[k], int(self.srow[g]), code, detail)
            )

    def per_row(self, values: list) -> pd.Series:
        """A per-sheet value as a column (each row its sheet's)."""
        return pd.Series(
            np.array(values, dtype=object)[self.sid[self.out.index.to_numpy()]],
            index=self.out.index,
            dtype="object",
        )

    def all_na(self, s: pd.Series) -> pd.Series:
        """Per row: is the column missing in every row of that row's sheet."""
        sid = self.sid[s.index.to_numpy()]
        present = np.bincount(sid[s.notna().to_numpy(dtype=bool)], minlength=self.n)
        return pd.Series(present[sid] == 0, index=s.index)

    def first_per_sheet(self, mask: pd.Series) -> dict[int, tuple[int, int]]:
        """Per sheet with a row in `mask`: (its first sheet row, the count of its rows in `mask`)."""
        pos = mask.index.to_numpy()[mask.to_numpy(dtype=bool)]
        counts = np.bincount(self.sid[pos], minlength=self.n)
        first: dict[int, tuple[int, int]] = {}
        for g in pos.tolist():
            first.setdefault(int(self.sid[g]), (int(self.srow[g]), int(counts[self.sid[g]])))
        return first

    def drop(self, rows: pd.Series) -> None:
        """Leave rows out (not read: skipped)."""
        for k, (_, n_left) in self.first_per_sheet(rows).items():
            self.rows_read[k] -= n_left
            self.skipped[k] += n_left
        keep = ~rows
        self.raw, self.out, self.bad_any = self.raw[keep], self.out[keep], self.bad_any[keep]


def finish_group(
    raw: pd.DataFrame,
    sid: np.ndarray,
    srow: np.ndarray,
    layout: Layout,
    sheets: list[str],
    ctx: ParseContext | list[ParseContext],
    header_texts: list[dict[str, str]],
    col_of: list[dict[str, int]],
    skipped: list[int],
    sheet_rows: bool = True,
) -> GroupRows:
    """Records of several sheets concatenated (raw index 0..n-1; `sid`/`srow` give each row's sheet
    and sheet row). `header_texts`/`col_of` are per sheet (columns may sit elsewhere in each). `ctx`
    is one context, or one per sheet when the sheets come from several files (their file names and
    delivery folders differ; registry lookups and the hash key are the same for all of them).
    With `sheet_rows=False` the results of sheets with kept rows carry no rows (callers that reshape
    `good` themselves need not split it per sheet)."""
    rs = _Rows(
        raw,
        sid,
        srow,
        layout,
        sheets,
        sheet_contexts(ctx, len(sheets)),
        header_texts,
        col_of,
        np.bincount(sid, minlength=len(sheets)),
        np.array(skipped, dtype=np.int64),
    )
    ctx0 = rs.ctxs[0]
    parse_values(raw, rs.out, layout, ctx0, rs.reject, rs.warn)
    meta = raw.filter(like="_meta_")
    _school_year(rs, meta)
    _school_by_name(rs)
    meta = meta.loc[rs.out.index]
    _school_code(rs, meta)
    fill_title_fields(rs.out, meta, layout)
    if layout.options.get("file_name_meta"):
        fill_file_name_fields(rs.out, layout, rs.per_row([c.file for c in rs.ctxs]))
    if "_meta_school_year_error" in meta.columns:
        rs.reject(
            meta["_meta_school_year_error"].notna(), "school_year", "bad_school_year", "năm học liên tiếp"
        )
    if "src_extra" in rs.raw.columns:
        rs.out["src_extra"] = rs.raw["src_extra"]
    errors = _required_metadata(rs)
    _folder_mismatch(rs)
    if layout.options.get("platform_source") and ctx0.platform_by_school and "school_code" in rs.out.columns:
        rs.out["source_system"] = (
            rs.out["school_code"].map(ctx0.platform_by_school).fillna(layout.source_system)
        )
    _post(rs)
    good = explode_and_melt(rs.out[~rs.bad_any.to_numpy(dtype=bool)].copy(), layout)
    gsid = sid[good.index.to_numpy()]
    good["source_sheet"] = np.array(sheets, dtype=object)[gsid]
    good["source_row"] = srow[good.index.to_numpy()].astype("int64")
    good, gsid, n_exact = _dedupe(rs, good, gsid)
    return _results(rs, good, gsid, n_exact, errors, sheet_rows)


def _school_year(rs: _Rows, meta: pd.DataFrame) -> None:
    """The school year from a column, else the title, else the delivery folder (per sheet)."""
    out, ctx = rs.out, rs.ctxs[0]
    sy = meta.get("_meta_school_year")
    years = {c.folder_year for c in rs.ctxs}
    if len(years) == 1:  # one delivery year (always within one file)
        fill = sy if sy is not None else pd.Series(ctx.folder_year, index=out.index, dtype="object")
        if ctx.folder_year:
            fill = fill.fillna(ctx.folder_year)
    else:  # several: each row takes its own file's (where that file has one)
        folder_year = rs.per_row([c.folder_year for c in rs.ctxs])
        fill = sy if sy is not None else folder_year
        fill = fill.where(fill.notna() | folder_year.isna(), folder_year)
    if "school_year" not in out.columns:
        out["school_year"] = fill
    else:
        out["school_year"] = out["school_year"].astype("object").where(~rs.all_na(out["school_year"]), fill)


def _school_by_name(rs: _Rows) -> None:
    """Province files (a school per row, `options.school_name_column`): the school by its name in the
    registry; with `school_name_strict`, rows of other education levels are left out with a count and a
    row whose school is not in the registry is rejected (never given to the folder's school)."""
    layout, ctx = rs.layout, rs.ctxs[0]
    name_col = str(layout.options.get("school_name_column") or "")
    if not name_col or not ctx.school_names:
        return
    names = rs.out[name_col] if name_col in rs.out.columns else rs.raw.get(name_col)
    if names is None:
        return
    by_name = names.astype("string").map(
        lambda v: ctx.school_names.get(nz.norm(v)) if isinstance(v, str) else None
    )
    out = rs.out
    out["school_code"] = out["school_code"].fillna(by_name) if "school_code" in out.columns else by_name
    if not layout.options.get("school_name_strict"):
        return
    left_out = other_level(names, layout) & out["school_code"].isna()
    if left_out.any():  # rows of other education levels: left out with a count, never rejected
        for k, (first, n_left) in rs.first_per_sheet(left_out).items():
            rs.warnings[k].append(
                RowIssue.warning(
                    rs.ctxs[k].file,
                    rs.sheets[k],
                    first,
                    "other_level",
                    f"{n_left} dòng của trường cấp học khác (mầm non…) không đọc",
                )
            )
        rs.drop(left_out)
    rs.reject(
        rs.out["school_code"].isna(),
        name_col,
        "unknown_school_name",
        "tên trường có trong danh sách trường của Sở",
    )


def _school_code(rs: _Rows, meta: pd.DataFrame) -> None:
    """Rows without a school code take the title's, else the school named in the title, else the
    delivery folder's (each row its own file's)."""
    schools = {c.folder_school for c in rs.ctxs}
    folder_school = None if len(schools) == 1 else rs.per_row([c.folder_school for c in rs.ctxs])
    resolved = resolve_school(meta, rs.ctxs[0], folder_school)
    out = rs.out
    out["school_code"] = out["school_code"].fillna(resolved) if "school_code" in out.columns else resolved


def _required_metadata(rs: _Rows) -> list[tuple[str, str] | None]:
    """Per sheet: (reason code, Vietnamese detail) of a required item no row has, else None."""
    errors: list[tuple[str, str] | None] = [None] * rs.n
    for req in rs.layout.required_metadata:
        if req not in rs.out.columns:
            missing = np.ones(rs.n, dtype=bool)
        else:
            have = rs.sid[rs.out.index.to_numpy()[rs.out[req].notna().to_numpy(dtype=bool)]]
            missing = np.bincount(have, minlength=rs.n) == 0
        for k in np.flatnonzero(missing).tolist():
            code = "school_unresolved" if req == "school_code" else "missing_metadata"
            errors[k] = (code, missing_metadata_detail(rs.layout, req, rs.ctxs[k].file))
    return errors


def _folder_mismatch(rs: _Rows) -> None:
    """One warning per sheet whose rows name another school year than the delivery folder (the count)."""
    out = rs.out
    years = {c.folder_year for c in rs.ctxs}
    if "school_year" not in out.columns or not any(years):
        return
    expect = rs.per_row([c.folder_year for c in rs.ctxs])
    mism = (out["school_year"].notna() & (out["school_year"] != expect)).fillna(False).astype(bool)
    mism &= expect.notna()
    for k, (first, count) in rs.first_per_sheet(mism).items():
        rs.warnings[k].append(
            RowIssue.warning(rs.ctxs[k].file, rs.sheets[k], first, "folder_mismatch", str(count))
        )


def _post(rs: _Rows) -> None:
    """The layout's post-processors (`connectors.derive`). A sheet alone is handed over indexed by its
    sheet rows (a post-processor that names rows, or skips them, sees the sheet's own); several sheets
    only ever go together through row-wise post-processors."""
    if not rs.layout.post:
        return
    from connectors import derive

    single = rs.n == 1
    rows_of = pd.Index(rs.srow) if single else None

    def relabel(f: pd.DataFrame) -> pd.DataFrame:
        return f.set_axis(rs.srow[f.index.to_numpy()]) if single else f

    def back(s: pd.Series) -> pd.Series:
        return s.set_axis(rows_of.get_indexer(s.index)) if rows_of is not None else s

    def reject(mask: pd.Series, column: str, code: str, expected: str) -> None:
        rs.reject(back(mask), column, code, expected)

    def warn(mask: pd.Series, code: str, detail: str = "") -> None:
        rs.warn(back(mask), code, detail)

    ops = derive.RowOps(
        raw=relabel(rs.raw),
        reject=reject,
        warn=warn,
        ctx=rs.ctxs[0],
        layout=rs.layout,
        sheet=rs.sheets[0],
        header_texts=rs.header_texts[0],
        col_of=rs.col_of[0],
    )
    out = relabel(rs.out)
    for name in rs.layout.post:
        out = derive.get(name)(out, ops)
    rs.out = out.set_axis(rows_of.get_indexer(out.index)) if rows_of is not None else out
    rs.bad_any = rs.bad_any.loc[rs.out.index]
    if ops.skipped:
        if not single:
            raise ValueError("a post-processor that skips rows is not row-wise: its sheets go one by one")
        rs.skipped[0] += ops.skipped
        rs.rows_read[0] -= ops.skipped  # rows a post-processor skips (subtotals) are skipped, not read


def _dedupe(rs: _Rows, good: pd.DataFrame, gsid: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per sheet: exact duplicates dropped and counted; the same grain key with other values: the last
    row wins, the others are `duplicate_key` rejects."""
    from connectors.entities import load_entities

    grain = [g for g in load_entities()[rs.layout.entity].grain if g in good.columns]
    n_exact = np.zeros(rs.n, dtype=np.int64)
    if not grain or good.empty:
        return good, gsid, n_exact
    value_cols = [c for c in good.columns if c not in ("source_row", "source_sheet", "src_extra")]
    tmp = good[value_cols].assign(_sid=gsid) if value_cols else pd.DataFrame({"_sid": gsid}, index=good.index)
    exact = tmp.duplicated(subset=[*value_cols, "_sid"], keep="last").to_numpy()
    n_exact = np.bincount(gsid[exact], minlength=rs.n)
    good, gsid, tmp = good[~exact], gsid[~exact], tmp[~exact]
    dup = tmp.duplicated(subset=[*grain, "_sid"], keep="last").to_numpy()
    for k, r in zip(gsid[dup].tolist(), good.loc[dup, "source_row"].tolist(), strict=True):
        rs.rejects[k].append(
            RowIssue.reject(
                rs.ctxs[k].file,
                rs.sheets[k],
                int(r),
                "duplicate_key",
                entity=rs.layout.entity,
                canonical=rs.layout.key,
            )
        )
    return good[~dup], gsid[~dup], n_exact


def _results(
    rs: _Rows,
    good: pd.DataFrame,
    gsid: np.ndarray,
    n_exact: np.ndarray,
    errors: list[tuple[str, str] | None],
    sheet_rows: bool,
) -> GroupRows:
    """Each sheet's result: its rows a slice of `good` (one sheet: all of it, index reset)."""
    in_order = bool(len(gsid) < 2 or (np.diff(gsid) >= 0).all())  # sheet by sheet already (no melt)
    order = np.arange(len(gsid)) if in_order else np.argsort(gsid, kind="stable")
    bounds = np.searchsorted(gsid[order], np.arange(rs.n + 1))
    counts = np.diff(bounds)
    results: list[SheetResult] = []
    none_yet: pd.DataFrame | None = None
    for k in range(rs.n):
        parent: tuple[pd.DataFrame, int, int] | None = None
        rows_k: pd.DataFrame | None
        if rs.n == 1 and sheet_rows:
            rows_k = good.reset_index(drop=True)
        elif sheet_rows or not counts[k]:
            if in_order and counts[k]:  # a slice (cut when asked for): the index is not meaningful
                rows_k, parent = None, (good, int(bounds[k]), int(bounds[k + 1]))
            elif in_order:
                rows_k = good.iloc[bounds[k] : bounds[k + 1]]
            else:
                rows_k = good.iloc[order[bounds[k] : bounds[k + 1]]]
        else:  # the caller reshapes `good` itself: one shared empty frame
            rows_k = none_yet = good.iloc[0:0] if none_yet is None else none_yet
        err = errors[k]
        results.append(
            SheetResult(
                rs.layout,
                rs.sheets[k],
                rows_k,
                rs.rejects[k],
                rs.warnings[k],
                int(rs.rows_read[k]),
                int(rs.skipped[k]),
                int(n_exact[k]),
                err[0] if err else None,
                parent=parent,
                file_error_detail=err[1] if err else None,
            )
        )
    return GroupRows(results, good, gsid, counts)


def finish_rows(
    raw: pd.DataFrame,
    layout: Layout,
    sheet: str,
    ctx: ParseContext,
    header_texts: dict[str, str],
    col_of: dict[str, int],
    skipped: int,
) -> SheetResult:
    """`finish_group` of one sheet's rows whose index is their row number (JSON pushes: the position of
    the user, school or metric)."""
    srow = raw.index.to_numpy(dtype=np.int64)
    raw = raw.reset_index(drop=True)
    sid = np.zeros(len(raw), dtype=np.int64)
    return finish_group(raw, sid, srow, layout, [sheet], ctx, [header_texts], [col_of], [skipped]).results[0]
