"""File-level checks on a file's parsed sheets, before its verdict: a CSV's cut last line and its NUL
characters rejected, a registry that lists a school code twice, rows naming another school than the delivery
folder's, and the title's school name the registry does not hold. Each adds Vietnamese row rejects or a
file reason; none reads the warehouse."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.arrays import ArrowExtensionArray

from connectors.issues import RowIssue
from connectors.layouts import Layout
from connectors.normalize import norm
from connectors.parsing.shapes import parse_sheets
from connectors.sheet_parser import (
    Grid,
    HeaderMatch,
    ParseContext,
    SheetResult,
)

if TYPE_CHECKING:
    from connectors.filedrop.parse import FileResult


def unmatched_school_name(found: list[tuple[Grid, HeaderMatch]], ctx: ParseContext | None) -> str | None:
    """Vietnamese detail for a `school_unresolved` file whose title names a school (a line starting with
    “Trường” or “Trung tâm”) that the registry does not hold, or when there is no registry to look it up
    in; None when the title names no school."""
    for grid, match in found:
        cells = grid.cells
        for value in cells[cells.index < match.row].to_numpy(dtype=object).ravel():
            for line in str(value or "").splitlines():
                if norm(line).startswith(("truong ", "trung tam ")):
                    if ctx is None or not ctx.school_names:
                        return (
                            f"tiêu đề ghi “{line.strip()}” nhưng chưa có danh sách trường của Sở để đối chiếu"
                        )
                    return (
                        f"tiêu đề ghi “{line.strip()}” nhưng tên này không khớp trường nào trong danh sách "
                        "trường của Sở: sửa tên trường cho đúng danh sách, hoặc đặt tệp vào thư mục của "
                        "trường"
                    )
    return None


def reject_cut_line(res: FileResult, cut: tuple[int, int, int]) -> None:
    """Reject a CSV's cut last line (`cut_last_line`) as `truncated_row`: its missing fields would load
    as blanks. Its records leave the sheet's rows; a reject the parser gave it stays beside."""
    row, fields, width = cut
    for s in res.sheets:
        if "source_row" not in s.rows.columns:
            continue
        mine = (s.rows["source_row"] == row).to_numpy()
        if not mine.any() and not any(r.row == row for r in s.rejects):
            continue
        s.rows, s.parent = s.rows[~mine], None
        s.rejects.append(
            RowIssue.reject(
                res.source_file,
                s.sheet,
                row,
                "truncated_row",
                entity=s.layout.entity,
                expected=f"{width} cột, dòng chỉ có {fields} cột",
            )
        )


def reject_nul_rows(res: FileResult, found: list[tuple[Grid, HeaderMatch]]) -> None:
    """Reject a CSV data row with a NUL character in a cell as `nul_character`, naming the first such
    cell (shown with ␀): its text would load with the NUL in it (a room code `C\\x003`), a sign of a
    damaged or half-written file. The other rows load; a reject the parser gave the row stays beside."""
    for s, (grid, match) in zip(res.sheets, found, strict=False):
        if "source_row" not in s.rows.columns:
            continue
        first: dict[int, tuple[int, str]] = {}  # sheet row → (column, value) of its first NUL cell
        for i, row in enumerate(grid.values):
            r = int(grid.row_index[i])
            if r < match.row + match.depth or r in first:
                continue
            for j, v in enumerate(row):
                if isinstance(v, str) and "\x00" in v:
                    first[r] = (int(grid.columns[j]), v)
                    break
        if not first:
            continue
        mine = s.rows["source_row"].isin(list(first)).to_numpy()
        rejected = {r.row for r in s.rejects}
        for r, (col, value) in sorted(first.items()):
            if r not in rejected and not (s.rows["source_row"] == r).any():
                continue  # not a data row (title, footer)
            s.rejects.append(
                RowIssue.reject(
                    res.source_file,
                    s.sheet,
                    r,
                    "nul_character",
                    entity=s.layout.entity,
                    canonical=match.mapping.get(col, ""),
                    column=col,
                    header=" / ".join(match.paths.get(col, [])),
                    value=value.replace("\x00", "␀"),
                )
            )
        s.rows, s.parent = s.rows[~mine], None


def duplicate_school_codes(
    res: FileResult, found: list[tuple[Grid, HeaderMatch]], ctx: ParseContext | None
) -> list[tuple[str, str]]:
    """A registry sheet that lists a school code twice with different details (level, name…): every row
    of that code is rejected as `duplicate_school_code` (the parser kept the last one: the school would
    silently change level), and the (code, year) pairs are returned so that the store keeps the
    previous registry entry of each. Exact repeats were already dropped as harmless. Each dropped row's
    key is that of the row parsed alone under the sheet's title and header rows (as the sheet was)."""
    ctx = ctx or ParseContext(file=res.source_file)
    conflicts: set[tuple[str, str]] = set()
    for s, (grid, match) in zip(res.sheets, found, strict=False):
        if s.layout.entity != "school" or "school_code" not in s.rows.columns:
            continue
        dropped = sorted({r.row for r in s.rejects if r.reason_code == "duplicate_key"})
        if not dropped:
            continue
        cells = grid.cells
        head = cells.index < match.row + match.depth
        rows_of: dict[tuple[str, str], list[int]] = {}
        for r in dropped:
            alone = parse_sheets([Grid(grid.sheet, cells[head | (cells.index == r)])], [match], [ctx])[0]
            for code, school_year in (
                alone.rows[["school_code", "school_year"]].astype(str).itertuples(index=False)
            ):
                rows_of.setdefault((code, school_year), []).append(r)
        kept = s.rows[["school_code", "school_year"]].astype(str)
        hit = pd.Series([k in rows_of for k in kept.itertuples(index=False, name=None)], index=s.rows.index)
        for k, r in zip(
            kept[hit].itertuples(index=False, name=None), s.rows.loc[hit, "source_row"], strict=True
        ):
            rows_of[k].append(int(r))
        col = next((c for c, name in match.mapping.items() if name == "school_code"), None)
        header = " / ".join(match.paths.get(col, [])) if col is not None else ""
        redo = {r for rows in rows_of.values() for r in rows}
        s.rejects = [r for r in s.rejects if r.row not in redo or r.reason_code != "duplicate_key"]
        for (code, school_year), rows in sorted(rows_of.items()):
            listed = ", ".join(str(r) for r in sorted(rows))
            expected = (
                f"mỗi trường một dòng (mã {code} ở các dòng {listed}, năm học {school_year}); "
                "tạm giữ thông tin trường này của lần nạp trước"
            )
            s.rejects += [
                RowIssue.reject(
                    res.source_file,
                    s.sheet,
                    r,
                    "duplicate_school_code",
                    entity="school",
                    canonical="school_code",
                    column=col,
                    header=header,
                    value=code,
                    expected=expected,
                )
                for r in sorted(rows)
            ]
        s.rows, s.parent = s.rows[~hit.to_numpy()], None
        conflicts |= set(rows_of)
    return sorted(conflicts)


def province_wide(layout: Layout) -> bool:
    """A layout whose rows name many schools by design (the registry, a province-wide list with a
    school name column): its rows are not held to the delivery folder's school."""
    return layout.entity == "school" or bool(layout.options.get("school_name_column"))


def other_school(sheets: list[SheetResult], ctx: ParseContext | None) -> str | None:
    """Vietnamese detail when the rows of a file delivered in a school folder name another school (by
    a school column, the title's code or the title's school name; class codes are resolved to a school
    the same way by the parser), else None. Such a file is quarantined as `folder_mismatch`: loaded, it
    would count for the other school, or, attributed by folder, raise findings against this one."""
    folder = ctx.folder_school if ctx is not None else None
    if not folder:
        return None
    counts: dict[str, int] = {}
    for s in sheets:
        col = None if province_wide(s.layout) else s.rows_column("school_code")
        if col is None or col.empty:
            continue
        if _all_equal(col, folder):  # most sheets name only their folder's school
            continue
        differ = col.ne(folder)
        if differ.dtype != bool:  # a nullable column compares missing values to <NA>
            differ = differ.fillna(True).astype(bool)
        if not differ.any():
            continue
        codes = col[differ].dropna().astype(str)
        for code, n in codes[codes != folder].value_counts().items():
            counts[str(code)] = counts.get(str(code), 0) + int(n)
    if not counts:
        return None
    names = {code: name for name, code in (ctx.school_names if ctx else {}).items()}
    shown = ", ".join(
        f"{c}{f' – {names[c]}' if c in names else ''} ({n} dòng)" for c, n in sorted(counts.items())
    )
    return f"nội dung tệp ghi trường {shown}, còn tệp nằm trong thư mục trường {folder}"


def _all_equal(col: pd.Series, value: str) -> bool:
    """Every value of the column is `value` (a missing one is not), in one pass in Arrow or numpy,
    without building pandas masks (this runs for every sheet of every file)."""
    arr = col.array
    if isinstance(arr, ArrowExtensionArray):
        data = pa.chunked_array(arr.__arrow_array__())
        if data.null_count or not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
            return False
        return bool(pc.all(pc.equal(data, value)).as_py())
    try:
        return bool((np.asarray(col, dtype=object) == value).all())
    except TypeError:  # a pd.NA among the values: not all equal
        return False
