"""File-drop connector: walk an inbox, identify each file's layout by header signature, parse it and
load it into the raw layer, a batch of files per transaction (each file atomic), with a manifest row and
quarantine reasons.

Unchanged files (same path and sha256) are skipped after the path checks and the hash, without the
content pre-flight checks (`connectors.safety.check_content`) or a parse; changed files replace their
previous rows; files that disappeared are retired. A bad file or row never stops the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors import raw_store
from connectors.inbox import file_key, walk_inbox
from connectors.issues import RowIssue
from connectors.layouts import Layout, load_layouts
from connectors.messages import reason_text
from connectors.normalize import norm
from connectors.parsing.shapes import parse_sheets, sheet_group_key
from connectors.readers import CSV_TYPES, EXCEL_TYPES, SUPPORTED, FileRejected, read_grids
from connectors.safety import PathChecks, check_content, check_sheet_widths
from connectors.sheet_parser import (
    Grid,
    HeaderMatch,
    ParseContext,
    SheetResult,
    find_headers,
    sheet_not_read,
    sheets_report,
)
from connectors.workers import Limits, Worker, WorkerFailed, run_alone, warm_up

_YEAR_DIR = re.compile(r"^\d{4}-\d{4}$")
MAX_FILE_BYTES = 200 * 1024 * 1024
# A JSON push file is parsed whole (json.loads, then one frame per metric): ~45 bytes of memory per byte
# of file (a 14.6 MB push of 300,000 metrics peaked at 706 MiB parsed and stored in one process, 32.8 MB
# at 1.4 GiB). At 16 MiB two workers parsing such files at once keep the process tree under 4 GiB; a
# school's push (a few thousand users) is a few MB.
MAX_JSON_BYTES = 16 * 1024 * 1024


def json_too_large(ext: str, size: int) -> tuple[str, str] | None:
    """The block of a JSON file over MAX_JSON_BYTES (never read), else None."""
    if ext != ".json" or size <= MAX_JSON_BYTES:
        return None
    mb = f"{size / 2**20:.1f}".replace(".", ",")  # Vietnamese decimal comma
    return ("file_too_large", f"tệp JSON {mb} MB, tối đa {MAX_JSON_BYTES // 2**20} MB: "
            "hãy xuất riêng từng trường hoặc từng học kỳ")  # fmt: skip


@dataclass
class FileResult:
    """The outcome of parsing one file (before it is stored)."""

    source_file: str
    sha256: str
    size: int
    status: str  # loaded | partly_loaded | quarantined
    reason_code: str | None = None
    reason: str | None = None
    sheets: list[SheetResult] = field(default_factory=list)
    parts: list[Part] | None = None  # its rows for the raw tables, ready to store (`pack`)
    # sheets not parsed (hidden ones, near misses, others): (sheet, reason code, Vietnamese detail)
    unread_sheets: list[tuple[str, str, str]] = field(default_factory=list)
    kept_previous: list[tuple[str, str]] = field(
        default_factory=list
    )  # registry (school code, year) listed twice: the previous entry is kept (`duplicate_school_codes`)

    @property
    def rows_read(self) -> int:
        """Source data rows (JSON: one per record of the export, e.g. a user's metric)."""
        return sum(s.rows_read for s in self.sheets)

    @property
    def rows_kept(self) -> int:
        """Source rows loaded (read and not rejected); 0 for a quarantined file."""
        return 0 if self.status == "quarantined" else sum(s.rows_kept for s in self.sheets)

    @property
    def rows_rejected(self) -> int:
        """Source rows with at least one reject: rows read = kept + rejected for a loaded file."""
        return sum(s.rows_rejected for s in self.sheets)

    @property
    def records_written(self) -> int:
        """Records written to the raw tables: more than the rows kept where a layout explodes a list
        cell, melts metric columns or reshapes a wide grade book (one record per mark)."""
        return 0 if self.status == "quarantined" else sum(s.records for s in self.sheets)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def delivery_of(rel: Path) -> tuple[str | None, str | None]:
    """`<school year>/<school code>/<file>` → (year, school); `province` gives no school."""
    parts = rel.parts
    year = parts[0] if parts and _YEAR_DIR.match(parts[0]) else None
    school = None
    if year and len(parts) >= 3 and parts[1] != "province":
        school = parts[1]
    return year, school


def iter_inbox(inbox: Path, year: str | None = None) -> Iterable[Path]:
    """`walk_inbox` as paths."""
    inbox = Path(inbox)
    return [inbox / rel for rel in walk_inbox(inbox, year)]


def relative(path: Path, inbox: Path) -> str:
    """`path.relative_to(inbox).as_posix()` of a path found under the inbox (string work, no pathlib)."""
    s, root = str(path), str(inbox)
    if s.startswith(root + os.sep):
        return s[len(root) + 1 :].replace(os.sep, "/")
    return path.relative_to(inbox).as_posix()


def parse_order(rel: str) -> tuple:
    """The order files are parsed and stored in (`rel`: the path relative to the inbox): the province
    folders first (the registry must be known before school files are read), then by file name across
    schools, so that a parse batch holds files that most likely share their layouts (each school exports
    the same file names) and their sheets are parsed together. Only the order of the work depends on
    names; layouts are still found by header."""
    parts = rel.split("/")
    return (0 if "province" in parts else 1, parts[-1].casefold(), rel)


def choose(matches: list[HeaderMatch]) -> tuple[HeaderMatch | None, str | None]:
    """Most mapped header cells wins; same-entity ties go to the first listed; else ambiguous."""
    if not matches:
        return None, "unrecognized_layout"
    best = max(m.score for m in matches)
    top = [m for m in matches if m.score == best]
    if len({m.layout.entity for m in top}) > 1:
        return None, "ambiguous_layout"
    return top[0], None


@dataclass
class ParseJob:
    """One file to parse: where it is, its name relative to the inbox, its context, and (when the caller
    already has them) its sha256 and content."""

    path: Path
    rel: str
    ctx: ParseContext
    sha: str | None = None
    data: bytes | None = None
    max_cells: int | None = None  # the cap on a sheet's cells (None: `safety.MAX_CELLS`)


@dataclass
class _Located:
    """A file read and its sheets' layouts found, waiting for the batch's parse."""

    res: FileResult
    found: list[tuple[Grid, HeaderMatch]]
    errors: list[str]
    cut: tuple[int, int, int] | None = None  # a CSV's cut last line: (row, its fields, the widest row's)


def parse_file(
    path: Path,
    rel: str,
    ctx: ParseContext,
    layouts: tuple[Layout, ...] | None = None,
    sha: str | None = None,
    data: bytes | None = None,
) -> FileResult:
    """Read, detect and parse one file. Never raises for bad input: the result says what happened.

    `data` is the file's content when the caller has already read it (for its hash): the file is
    then not read again; without it a spreadsheet or CSV is read once, for its hash and its grids."""
    return parse_files([ParseJob(path, rel, ctx, sha, data)], layouts)[0]


def parse_files(jobs: list[ParseJob], layouts: tuple[Layout, ...] | None = None) -> list[FileResult]:
    """`parse_file` of several files at once, with the same results: each file is read and its sheets'
    layouts found on their own; then the sheets of every file that share a layout and its canonical
    columns are parsed together (one pass of value parsing, checks and reshaping over all their rows),
    which is where the time of small files went. A file whose parse fails is parsed again on its own,
    so an error in one file never touches another."""
    layouts = layouts or load_layouts()
    results: list[FileResult | None] = [None] * len(jobs)
    located: dict[int, _Located] = {}
    for i, job in enumerate(jobs):
        loc = _locate(job, layouts)
        if isinstance(loc, FileResult):
            results[i] = loc
        else:
            located[i] = loc
    if located:
        sheets: dict[int, list[SheetResult] | BaseException]
        try:
            sheets = dict(_finish(jobs, located))
        except BaseException as exc:  # one file's data broke the batch: parse each file alone
            if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            sheets = {i: exc for i in located} if len(located) == 1 else _finish_each(jobs, located)
        for i, loc in located.items():
            results[i] = _conclude(loc, sheets[i], jobs[i].path, jobs[i].ctx)
    return results  # type: ignore[return-value]


def _locate(job: ParseJob, layouts: tuple[Layout, ...]) -> FileResult | _Located:
    """Read a file and find the layout of each sheet; a finished (quarantined or JSON) result when there
    is nothing left to parse together with other files."""
    path, rel, ctx, sha, data = job.path, job.rel, job.ctx, job.sha, job.data
    size = path.stat().st_size if data is None else len(data)
    ext = path.suffix.lower()
    if data is None and ext in EXCEL_TYPES | CSV_TYPES and 0 < size <= MAX_FILE_BYTES:
        try:
            data = path.read_bytes()
        except OSError:
            data = None
    if not sha:
        sha = hashlib.sha256(data).hexdigest() if data is not None else sha256_of(path)
    res = FileResult(rel, sha, size, "quarantined")
    try:
        if ext not in SUPPORTED:
            raise FileRejected("unsupported_type", ext)
        if size == 0:
            raise FileRejected("empty_file")
        if size > MAX_FILE_BYTES:
            raise FileRejected("file_too_large")
        too_large = json_too_large(ext, size)
        if too_large:
            raise FileRejected(*too_large)
        if ext == ".json":
            from connectors import json_layouts

            res.sheets = json_layouts.parse_json_file(path, ctx)
            return _conclude(_Located(res, [], []), res.sheets, path, ctx)
        if ext in EXCEL_TYPES:  # the worksheet width peek of the pre-flight checks, on these bytes
            blocked = check_sheet_widths(data if data is not None else path, job.max_cells)
            if blocked:
                raise FileRejected(*blocked)
        hidden: list[tuple[str, str]] = []
        grids = read_grids(path, data, hidden)
        res.unread_sheets = [(name, "hidden_sheet", reason_text("hidden_sheet")
                              + (" (trang ẩn sâu — very hidden)" if state == "veryhidden" else " (trang ẩn)"))
                             for name, state in hidden]  # fmt: skip
        if ext in CSV_TYPES:  # a CSV has no sheets: its rows and rejects carry a blank sheet
            for g in grids:
                g.sheet = ""
        found, errors = locate_sheets(grids, layouts, res.unread_sheets)
        elsewhere = [m.layout for _, m in found if m.layout.read_by]
        found = [(g, m) for g, m in found if not m.layout.read_by]
        if not found and elsewhere:  # recognised, read by another step: listed, not loaded, not quarantined
            res.status, res.reason_code = "loaded", elsewhere[0].read_by
            res.reason = f"{reason_text(str(elsewhere[0].read_by))} ({elsewhere[0].id})"
            res.unread_sheets = []  # the step that reads the file accounts for its sheets (not the ingest)
            return res
        if not found:
            near = [u for u in res.unread_sheets if u[1] == "incomplete_header"]
            if near and not errors:  # a near miss names the header it lacks (issue 19)
                raise FileRejected("incomplete_header", near[0][2])
            shown = ", ".join(f"“{n}”" for n, _ in hidden)
            raise FileRejected(errors[0] if errors else "unrecognized_layout",
                               f"các trang ẩn không được đọc: {shown}" if hidden else "")  # fmt: skip
        return _Located(res, found, errors, cut_last_line(data, grids) if ext in CSV_TYPES else None)
    except BaseException as exc:
        return _rejected(res, exc, path, rel)


def cut_last_line(data: bytes | None, grids: list[Grid]) -> tuple[int, int, int] | None:
    """(row, fields, widest row's fields) when a CSV's last line is cut: the file does not end with a line
    break and its last line has fewer fields than the widest row (a file copied or saved while it was
    being written, or cut by a size limit). A field's own delimiters inside quotes count as fields, so
    a doubtful line is kept, not rejected."""
    if not data or not grids or data.endswith((b"\n", b"\r")):
        return None
    cells = grids[0].cells
    if cells.empty:
        return None
    last = data.rsplit(b"\n", 1)[-1].rsplit(b"\r", 1)[-1]
    fields = max(last.count(b","), last.count(b";")) + 1
    width = len(cells.columns)
    return (int(cells.index[-1]), fields, width) if fields < width else None


def _rejected(res: FileResult, exc: BaseException, path: Path, rel: str) -> FileResult:
    """The file quarantined for `exc`: a `FileRejected` reason, or `unreadable_file` for anything else
    (a parser bug or a Rust panic in a reader must not stop the run)."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise exc
    res.status = "quarantined"
    res.sheets = []
    if isinstance(exc, FileRejected):
        res.reason_code = exc.code
        detail = _scrub(exc.detail, path, rel)
        if isinstance(exc.__cause__, json.JSONDecodeError):
            err = exc.__cause__
            detail = f"lỗi cú pháp JSON ở dòng {err.lineno}, cột {err.colno}: {native(err.msg)}"
        elif exc.code in ("unreadable_file", "bad_encoding") and detail.isascii():  # a reader's own text
            detail = native(detail)
        res.reason = reason_text(exc.code) + (f" ({detail})" if detail else "")
        return res
    if isinstance(exc, RecursionError):  # json.loads of arrays or objects nested ~1,000 deep
        res.reason_code = "unreadable_file"
        res.reason = f"{reason_text('unreadable_file')} (cấu trúc lồng nhau quá sâu: quá nhiều cấp [ hoặc {{ lồng nhau)"
        return res
    if isinstance(exc, MemoryError):  # the worker's address-space limit, met in Python code
        res.reason_code = "file_too_large"
        res.reason = f"{reason_text('file_too_large')} (vượt giới hạn bộ nhớ khi đọc tệp)"
        return res
    res.reason_code = "unreadable_file"
    detail = _scrub(f"{type(exc).__name__}: {str(exc)[:200]}", path, rel)
    res.reason = f"{reason_text('unreadable_file')} ({native(detail)})"
    return res


def native(text: str) -> str:
    """A library's own (English) error text, wrapped in a Vietnamese sentence that says what it is."""
    return f"thông báo gốc của trình đọc tệp, bằng tiếng Anh: “{text}”"


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
                    return (f"tiêu đề ghi “{line.strip()}” nhưng tên này không khớp trường nào trong danh sách "
                            "trường của Sở: sửa tên trường cho đúng danh sách, hoặc đặt tệp vào thư mục của trường")  # fmt: skip
    return None


def _conclude(
    loc: _Located, sheets: list[SheetResult] | BaseException, path: Path, ctx: ParseContext | None = None
) -> FileResult:
    """The file's status from its parsed sheets (or the error that stopped its parse)."""
    res = loc.res
    if isinstance(sheets, BaseException):
        return _rejected(res, sheets, path, res.source_file)
    res.sheets = sheets
    res.kept_previous = duplicate_school_codes(res, loc.found, ctx)
    if loc.cut is not None:
        reject_cut_line(res, loc.cut)
    if res.source_file.lower().endswith(tuple(CSV_TYPES)):
        reject_nul_rows(res, loc.found)
    file_errors = [s for s in res.sheets if s.file_error]
    if file_errors:
        res.reason_code = file_errors[0].file_error
        detail = file_errors[0].file_error_detail
        res.reason = reason_text(str(res.reason_code)) + (f" ({detail})" if detail else "")
        named = unmatched_school_name(loc.found, ctx) if res.reason_code == "school_unresolved" else None
        if named:  # the file names a school the registry does not hold: say so rather than where we looked
            res.reason = f"{reason_text('school_unresolved').split(' (')[0]} ({named})"
        return res
    other = other_school(res.sheets, ctx)
    if other:
        res.reason_code = "folder_mismatch"
        res.reason = f"{reason_text('folder_mismatch')} ({other})"
        return res
    if res.rows_read == 0:
        res.reason_code = "empty_file"
        res.reason = reason_text("empty_file")
        return res
    if res.rows_rejected > 0.5 * res.rows_read:
        res.reason_code = "too_many_rejects"
        res.reason = f"{reason_text('too_many_rejects')} ({res.rows_rejected}/{res.rows_read} dòng)"
        return res
    res.status = "partly_loaded" if res.rows_rejected else "loaded"
    return res


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
        s.rejects.append(RowIssue.reject(res.source_file, s.sheet, row, "truncated_row", entity=s.layout.entity,
                                         expected=f"{width} cột, dòng chỉ có {fields} cột"))  # fmt: skip


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
            s.rejects.append(RowIssue.reject(res.source_file, s.sheet, r, "nul_character", entity=s.layout.entity,
                                             canonical=match.mapping.get(col, ""), column=col,
                                             header=" / ".join(match.paths.get(col, [])),
                                             value=value.replace("\x00", "␀")))  # fmt: skip
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
            for code, year in alone.rows[["school_code", "school_year"]].astype(str).itertuples(index=False):
                rows_of.setdefault((code, year), []).append(r)
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
        for (code, year), rows in sorted(rows_of.items()):
            listed = ", ".join(str(r) for r in sorted(rows))
            expected = (f"mỗi trường một dòng (mã {code} ở các dòng {listed}, năm học {year}); "
                        "tạm giữ thông tin trường này của lần nạp trước")  # fmt: skip
            s.rejects += [RowIssue.reject(res.source_file, s.sheet, r, "duplicate_school_code", entity="school",
                                          canonical="school_code", column=col, header=header, value=code,
                                          expected=expected) for r in sorted(rows)]  # fmt: skip
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
        if province_wide(s.layout) or "school_code" not in s.rows.columns or s.rows.empty:
            continue
        codes = s.rows["school_code"].dropna().astype(str)
        for code, n in codes[codes != folder].value_counts().items():
            counts[str(code)] = counts.get(str(code), 0) + int(n)
    if not counts:
        return None
    names = {code: name for name, code in (ctx.school_names if ctx else {}).items()}
    shown = ", ".join(
        f"{c}{f' – {names[c]}' if c in names else ''} ({n} dòng)" for c, n in sorted(counts.items())
    )
    return f"nội dung tệp ghi trường {shown}, còn tệp nằm trong thư mục trường {folder}"


def _finish_each(
    jobs: list[ParseJob], located: dict[int, _Located]
) -> dict[int, list[SheetResult] | BaseException]:
    """`_finish` of each file alone; a file that fails gets its error instead of sheets."""
    out: dict[int, list[SheetResult] | BaseException] = {}
    for i, loc in located.items():
        try:
            out.update(_finish(jobs, {i: loc}))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            out[i] = exc
    return out


def _finish(jobs: list[ParseJob], located: dict[int, _Located]) -> dict[int, list[SheetResult]]:
    """Parse the located sheets of several files: sheets of one group (TT22 grade books with the same
    mark columns, plain tables with the same canonical columns) together, the others one by one.
    Returns each file's sheet results in sheet order."""
    members = [(i, n, grid, match) for i, loc in located.items() for n, (grid, match) in enumerate(loc.found)]
    out: dict[tuple[int, int], SheetResult] = {}
    for idxs in group_sheets([m[3] for m in members]):
        got = parse_sheets([members[x][2] for x in idxs], [members[x][3] for x in idxs],
                           [jobs[members[x][0]].ctx for x in idxs])  # fmt: skip
        for x, r in zip(idxs, got, strict=True):
            out[(members[x][0], members[x][1])] = r
    return {i: [out[(i, n)] for n in range(len(loc.found))] for i, loc in located.items()}


def group_sheets(matches: list[HeaderMatch]) -> list[list[int]]:
    """Positions of the sheets to parse together: one list per `shapes.sheet_group_key` (a sheet
    whose layout cannot share a group is a list of one)."""
    groups: dict[tuple, list[int]] = {}
    for x, match in enumerate(matches):
        groups.setdefault(sheet_group_key(match, x), []).append(x)
    return list(groups.values())


def _scrub(detail: str, path: Path, rel: str) -> str:
    """Library messages name absolute paths; reports must only name the file relative to the inbox."""
    detail = (detail or "").replace(str(path), rel).replace(str(path.parent), "")
    return " ".join(detail.split())[:200]


def locate_sheets(
    grids: list[Grid], layouts: tuple[Layout, ...], unread: list[tuple[str, str, str]] | None = None
) -> tuple[list[tuple[Grid, HeaderMatch]], list[str]]:
    """The sheets that carry a signature with their chosen layout, and the ambiguity errors of the
    others; each other sheet is added to `unread` with why (`sheet_not_read`)."""
    found: list[tuple[Grid, HeaderMatch]] = []
    errors: list[str] = []
    for grid in grids:
        match, err = (None, "empty_sheet") if grid.empty else choose(find_headers(grid, layouts))
        if match is None:
            if err == "ambiguous_layout":
                errors.append(err)
            if unread is not None:
                code, detail = (
                    ("ambiguous_layout", "") if err == "ambiguous_layout" else sheet_not_read(grid, layouts)
                )
                unread.append((grid.sheet, code, detail))
            continue
        found.append((grid, match))
    return found, errors


def parse_grids(grids: list[Grid], ctx: ParseContext, layouts: tuple[Layout, ...]) -> list[SheetResult]:
    """Parse every sheet of one file that carries a signature; raise when none does (or when it is
    ambiguous)."""
    found, errors = locate_sheets(grids, layouts)
    if not found:
        raise FileRejected(errors[0] if errors else "unrecognized_layout")
    job = ParseJob(Path(ctx.file), ctx.file, ctx)
    return _finish([job], {0: _Located(FileResult(ctx.file, "", 0, "quarantined"), found, errors)})[0]


# ---------------------------------------------------------------------------------------------
@dataclass
class IngestSummary:
    """Counts of one ingest run (per file actions and rows)."""

    run_id: str
    files_seen: int = 0
    ingested: int = 0
    replaced: int = 0
    skipped: int = 0
    quarantined: int = 0
    retired: int = 0
    rows_kept: int = 0  # source rows (see FileResult)
    rows_rejected: int = 0
    records_written: int = 0  # records written to the raw tables
    rows_by_entity: dict[str, int] = field(default_factory=dict)  # records written per entity
    changed_files: list[str] = field(default_factory=list)
    compacted: dict[str, tuple[int, int]] = field(default_factory=dict)  # raw table → (dead rows, live rows)
    deferred: list[str] = field(default_factory=list)  # files still being written, left for the next run

    @property
    def changed(self) -> bool:
        return bool(self.ingested or self.replaced or self.quarantined or self.retired)


def school_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """norm(name) → school_code of the registry's schools. The match ignores case, spacing and diacritics
    (so «Tân Hòa» and «Tân Hoà», two spellings of one name, meet); a name that two schools share once
    normalised is left out, so a row naming it is rejected rather than given to either school."""
    rows = con.execute("SELECT DISTINCT name, school_code FROM raw_school WHERE name IS NOT NULL").fetchall()
    codes: dict[str, set[str]] = {}
    for n, c in rows:
        codes.setdefault(norm(n), set()).add(c)
    return {k: next(iter(v)) for k, v in codes.items() if len(v) == 1}


def school_platforms(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """school_code → management_platform (latest year) from the registry."""
    rows = con.execute(
        "SELECT school_code, arg_max(management_platform, school_year) FROM raw_school "
        "WHERE management_platform IS NOT NULL GROUP BY school_code"
    ).fetchall()
    return dict(rows)


def ensure_manifest_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Columns added to `ingest_manifest` after its first release (warehouses created earlier get them
    here): `records_written` = records in the raw tables, next to the source-row counts."""
    con.execute("ALTER TABLE ingest_manifest ADD COLUMN IF NOT EXISTS records_written BIGINT")
    con.execute("ALTER TABLE ingest_manifest ADD COLUMN IF NOT EXISTS sheets_report VARCHAR")  # issue 19


@dataclass
class StoreItem:
    """A parsed file waiting to be stored, with what `store_files` needs to know about it."""

    res: FileResult
    year: str | None
    school: str | None
    replaced: bool
    prev_entities: list[str] | None = None
    fresh: bool = False


def store_file(con: duckdb.DuckDBPyConnection, res: FileResult, run_id: str, year: str | None,
               school: str | None, replaced: bool, prev_entities: list[str] | None = None,
               fresh: bool = False) -> None:  # fmt: skip
    """Write one parsed file atomically: old rows out, new rows, rejects and manifest in.

    Old rows are removed from the raw tables of `prev_entities` (the entities of its manifest row)
    when given, else from every raw table; `fresh` (the manifest never knew the file) skips that."""
    store_files(con, [StoreItem(res, year, school, replaced, prev_entities, fresh)], run_id)


@dataclass(eq=False)
class Part:
    """Rows for one raw table from one or several files of a parse batch, ready to store: an Arrow IPC
    stream (compact to send between processes: a pickled Arrow slice would carry the whole buffer it
    views), or a DataFrame Arrow cannot type (a column mixing numbers and text). The rows carry their
    `source_file`; `files` lists those files."""

    entity: str
    data: bytes | pd.DataFrame
    files: frozenset[str]

    def rows_of(self, files: set[str]) -> pa.Table | pd.DataFrame:
        """The rows of the given files (all of the part's rows when it holds no other file)."""
        data = self.__dict__.get("_decoded")
        if data is None:
            data = pa.ipc.open_stream(self.data).read_all() if isinstance(self.data, bytes) else self.data
            self.__dict__["_decoded"] = data
        if self.files <= files:
            return data
        if isinstance(data, pd.DataFrame):
            return data[data["source_file"].isin(files)]
        return data.filter(
            pc.is_in(data["source_file"], value_set=pa.array(sorted(files), type=data["source_file"].type))
        )


def pack(results: list[FileResult]) -> list[FileResult]:
    """Hand parsed files' rows over for storing (the parse workers do it, so that the storing process only
    passes Arrow to DuckDB): the records of every kept file become Parts, one per raw table and group of
    sheets parsed together (or per sheet layout of a file parsed alone), with the provenance columns
    (`ingested_at` is added when they are stored). The sheets keep their counts, not their rows."""
    buckets: dict[tuple, list[tuple[FileResult, SheetResult]]] = {}
    for res in results:
        if res.parts is not None:
            continue
        res.parts = []
        for s in res.sheets if res.status != "quarantined" else []:
            if s.rows.empty:
                continue
            layout = s.layout
            if s.parent is not None:  # a slice of a grouped parse's frame: one part for the group
                key: tuple = ("group", id(s.parent[0]), layout.entity, layout.id, layout.source_system)
            else:  # sheets of one file and layout with the same columns and dtypes
                key = ("file", id(res), layout.entity, layout.id, layout.source_system, tuple(s.rows.columns),
                       tuple(map(str, s.rows.dtypes)))  # fmt: skip
            buckets.setdefault(key, []).append((res, s))
    for key, members in buckets.items():
        sheets = [s for _, s in members]
        if key[0] == "group":
            parent = sheets[0].parent[0]  # type: ignore[index]
            spans = [(s.parent[1], s.parent[2]) for s in sheets]  # type: ignore[index]
            whole = spans[0][0] == 0 and spans[-1][1] == len(parent) and \
                all(b == a2 for (_, b), (a2, _) in itertools.pairwise(spans))  # fmt: skip
            idx = None if whole else np.concatenate([np.arange(a, b) for a, b in spans])
            frame = parent.copy(deep=False) if idx is None else parent.iloc[idx]
        else:
            frame = (
                pd.concat([s.rows for s in sheets], ignore_index=True) if len(sheets) > 1 else sheets[0].rows
            )
            frame = frame.copy(deep=False)
        lengths = [len(s.rows) for s in sheets]
        frame["source_file"] = np.repeat(np.array([r.source_file for r, _ in members], dtype=object), lengths)
        frame["file_sha256"] = np.repeat(np.array([r.sha256 for r, _ in members], dtype=object), lengths)
        frame["layout_id"] = key[3]
        if "source_system" not in frame.columns:
            frame["source_system"] = key[4]
        part = Part(key[2], _ipc(frame), frozenset(r.source_file for r, _ in members))
        for res in {id(r): r for r, _ in members}.values():
            res.parts.append(part)  # type: ignore[union-attr]
    for res in results:
        for s in res.sheets:
            s.n_records = s.records
            s.rows = _HANDED_OVER  # one shared empty frame: cheap to send back from a parse process
            s.parent = None
    return results


_HANDED_OVER = pd.DataFrame()


def _ipc(frame: pd.DataFrame) -> bytes | pd.DataFrame:
    """A frame as an Arrow IPC stream; the frame itself when Arrow cannot type one of its columns."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
        return frame
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def store_files(con: duckdb.DuckDBPyConnection, items: list[StoreItem], run_id: str) -> None:
    """Write several parsed files in one transaction (so each is atomic: a crash never leaves half a
    file, its manifest row goes in with its rows): old rows out, then one INSERT per raw table for
    all their rows (each file's frames still cast on their own), rejects, warnings, manifest, events."""
    if not items:
        return
    now = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        old = [(it.res.source_file, it.prev_entities) for it in items if not it.fresh]
        by_entity: dict[str, list[pa.Table | pd.DataFrame]] = {}
        kept = previous_entries(con, [it for it in items if not it.fresh])
        if kept is not None:
            by_entity["school"] = [kept]
        if old:  # files the manifest knew: remove what they contributed before
            raw_store.delete_files_rows(con, old)
        rejects: list[dict] = []  # one frame for the batch's rejects (and one for its warnings)
        warnings: list[dict] = []
        manifest: list[dict] = []
        events: list[tuple[str, str, str]] = []
        pack([it.res for it in items if it.res.parts is None])  # parsed here (no pool)
        files_of: dict[int, tuple[Part, set[str]]] = {}  # a part → the files of this transaction it holds
        for it in items:
            for part in it.res.parts or []:
                files_of.setdefault(id(part), (part, set()))[1].add(it.res.source_file)
        for part, files in files_of.values():  # a file parsed again (registry change) has new parts
            by_entity.setdefault(part.entity, []).append(part.rows_of(files))
        for it in items:
            res = it.res
            rejects.extend(
                {"source_sheet": r.sheet, "source_row": r.row, "column_letter": r.column, "header": r.header,
                 "canonical_column": r.canonical, "value": r.value, "reason_code": r.reason_code,
                 "message": r.message, "stage": "ingest", "entity": s.layout.entity, "layout_id": s.layout.id,
                 "source_file": res.source_file, "file_sha256": res.sha256, "recorded_at": now,
                 "school_code": it.school, "school_year": it.year, "check_name": r.reason_code}
                for s in res.sheets for r in s.rejects
            )  # fmt: skip
            warnings.extend(
                {"source_file": res.source_file, "file_sha256": res.sha256, "source_sheet": w.sheet,
                 "source_row": w.row, "reason_code": w.reason_code, "detail": w.detail}
                for s in res.sheets for w in s.warnings
            )  # fmt: skip
            layouts = sorted({s.layout.id for s in res.sheets})
            entities = sorted({s.layout.entity for s in res.sheets})
            manifest.append(
                {
                    "source_file": res.source_file, "file_sha256": res.sha256, "size_bytes": res.size,
                    "delivery_year": it.year, "delivery_school": it.school, "layout_ids": ",".join(layouts),
                    "entities": ",".join(entities), "status": res.status, "reason_code": res.reason_code,
                    "reason": res.reason, "rows_read": res.rows_read, "rows_kept": res.rows_kept,
                    "rows_rejected": res.rows_rejected, "records_written": res.records_written,
                    "rows_skipped": sum(s.rows_skipped for s in res.sheets),
                    "duplicates_dropped": sum(s.duplicates_dropped for s in res.sheets),
                    "ingested_at": now, "run_id": run_id,
                    "sheets_report": sheets_report(res.sheets, res.unread_sheets),
                }
            )  # fmt: skip
            action = (
                "quarantined" if res.status == "quarantined" else ("replaced" if it.replaced else "ingested")
            )
            events.append((res.source_file, res.sha256, action))
        # one statement per entity of the batch; the raw tables are sets, so DuckDB may append in parallel
        con.execute("SET SESSION preserve_insertion_order = false")
        try:
            for entity, parts in by_entity.items():
                raw_store.insert_many(con, entity, parts, ingested_at=now)
        finally:
            con.execute("RESET SESSION preserve_insertion_order")
        raw_store.insert_frames(con, "dq_quarantine_rows", [pd.DataFrame(rejects)] if rejects else [])
        raw_store.insert_frames(con, "ingest_warnings", [pd.DataFrame(warnings)] if warnings else [])
        raw_store.upsert_manifest_rows(con, manifest)
        raw_store.log_events(con, run_id, events)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def previous_entries(con: duckdb.DuckDBPyConnection, items: list[StoreItem]) -> pa.Table | None:
    """The registry rows these files stored before for the (school code, year) pairs they now list twice
    (`FileResult.kept_previous`), as they were (their file, row and time): stored again with the new
    version, the school keeps its previous entry until the registry is corrected. None when there are
    none (a code listed twice in the first registry has no entry: its school's files wait for one)."""
    keys = [f"{it.res.source_file}|{code}|{year}" for it in items if it.res.status != "quarantined"
            for code, year in it.res.kept_previous]  # fmt: skip
    if not keys:
        return None
    table = con.sql(
        "SELECT * FROM raw_school WHERE list_contains($keys::VARCHAR[], concat_ws('|', source_file, school_code, "
        "school_year))",
        params={"keys": keys},
    ).to_arrow_table()
    return table if table.num_rows else None


def _blocked_sha(blocked: tuple[str, str], path: Path) -> str:
    """The manifest's hash of a file the pre-flight checks blocked (its bytes are never read)."""
    return "blocked:" + hashlib.sha256(f"{blocked[0]}|{path.lstat().st_size}".encode()).hexdigest()[:16]


INGEST_WORKERS = 2  # parse processes at once (the machine has 2 cores); 0 parses in this process, uncontained
PARSE_BATCH_FILES = 64  # files parsed together (their sheets of one layout in one pass)
PARSE_BATCH_BYTES = 16 * 1024 * 1024  # ... or fewer files when they are this large
HOLD_BYTES = 256 * 1024 * 1024  # file contents kept from hashing to parsing (beyond: read again)
STORE_BATCH_FILES = 64  # parsed files stored per transaction (each file stays atomic)
STORE_BATCH_ROWS = 200_000  # ... or fewer files when they hold this many rows


# ---------------------------------------------------------------------------------------------
# Step 1: plan — one typed decision per inbox file
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManifestEntry:
    """What the manifest knew of a file before this run."""

    sha256: str
    status: str
    entities: tuple[str, ...]


@dataclass
class FileDecision:
    """A new or changed file to take (parse, or quarantine when `blocked`), with what the plan learnt:
    its hash, the pre-flight block, its previous manifest entry and (bounded) the bytes read to hash it."""

    path: Path
    rel: str
    sha256: str
    blocked: tuple[str, str] | None
    prev: ManifestEntry | None
    data: bytes | None = None

    @property
    def delivery(self) -> tuple[str | None, str | None]:
        return delivery_of(Path(self.rel))

    @property
    def prev_entities(self) -> list[str] | None:
        return list(self.prev.entities) if self.prev is not None else None


@dataclass
class Plan:
    """The decisions of one run, in parse order, the unchanged files' events and every file seen."""

    todo: list[FileDecision] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    deferred: list[str] = field(default_factory=list)  # files still being written: left for the next run


def manifest_state(con: duckdb.DuckDBPyConnection) -> dict[str, ManifestEntry]:
    """The manifest's entry of every file it knows."""
    rows = con.execute("SELECT source_file, file_sha256, status, entities FROM ingest_manifest").fetchall()
    return {r[0]: ManifestEntry(r[1], r[2], tuple(e for e in (r[3] or "").split(",") if e)) for r in rows}


def _unchanged(prev: ManifestEntry | None, sha: str) -> bool:
    """The manifest holds this file with this hash (and has not retired it): nothing to do."""
    return prev is not None and prev.sha256 == sha and prev.status != "retired"


def _stat(path: Path) -> tuple[int, int, float]:
    """(size, mtime in ns, mtime in s) of a file (its target when a link); (-1, -1, 0.0) when gone."""
    try:
        st = os.stat(path)
    except OSError:
        return -1, -1, 0.0
    return st.st_size, st.st_mtime_ns, st.st_mtime


def plan_files(inbox: Path, year: str | None, known: dict[str, ManifestEntry], summary: IngestSummary,
               settle_s: float = 0.0) -> Plan:  # fmt: skip
    """Decide per file, in parse order: the path checks (no read), the hash, unchanged → skipped; only a
    file whose hash the manifest does not hold gets the content checks (zip directory, width…). File
    contents read for the hash are kept for the parse up to HOLD_BYTES. A file still being written —
    modified less than `settle_s` seconds ago, or whose size or mtime changed while it was hashed — is
    deferred: neither read nor retired, its previous version (if any) stays, the next run takes it."""
    plan, checks, held = Plan(), PathChecks(inbox), 0
    copies = _ContentIndex()
    now = dt.datetime.now().timestamp()
    unreadable: list[str] = []
    files = sorted(walk_inbox(inbox, year, unreadable), key=parse_order)
    for folder in unreadable:
        unreadable_folder(inbox, folder, known, plan, summary)
    for rel_raw in files:
        path, rel = inbox / rel_raw, file_key(rel_raw)
        plan.seen.add(rel)
        summary.files_seen += 1
        prev = known.get(rel)
        blocked, resolved, size = checks.check(path, rel_raw)
        if not blocked:
            blocked = unexpected_folder(rel) or json_too_large(path.suffix.lower(), size)
        if blocked:  # never read a file that must not be parsed (links out of the inbox, FIFOs, too large)
            sha, data = _blocked_sha(blocked, path), None
        else:
            before = _stat(path)
            if settle_s > 0 and now - before[2] < settle_s:  # written a moment ago: maybe not finished
                plan.deferred.append(rel)
                continue
            try:
                sha, data = _hash(path, size, hold=held + size <= HOLD_BYTES)
            except PermissionError:  # the file is fine, the account running the pipeline may not read it
                blocked = ("permission_denied", "")
                sha, data = _blocked_sha(blocked, path), None
            if not blocked and _stat(path)[:2] != before[:2]:  # written to while it was read
                plan.deferred.append(rel)
                continue
        if not blocked and not _unchanged(prev, sha) and resolved is not None and size:
            blocked = check_content(resolved, path.suffix.lower(), size)
            if blocked:  # zip bombs, encrypted or broken workbooks…: never parsed
                sha, data = _blocked_sha(blocked, path), None
        if not blocked and sha and size and path.suffix.lower() in SUPPORTED:  # files that would be read
            copies.add(rel, path, sha, prev)
        if _unchanged(prev, sha):
            summary.skipped += 1
            plan.skipped.append((rel, sha, "skipped"))
            continue
        held += len(data or b"")
        plan.todo.append(FileDecision(path, rel, sha, blocked, prev, data))
    copies.mark(plan, summary)
    return plan


@dataclass
class _ContentIndex:
    """Files of one delivery folder (year and school, or province) with the same bytes: the first by
    (name length, name) is read, every other one is a copy (`… - Copy.xlsx`, `(1).xls`) quarantined as
    `duplicate_file` naming it, so that nothing is counted twice. A copy keeps that verdict in the
    manifest (its hash there is the blocked one) and is read again on its own once the original goes."""

    groups: dict[tuple[str | None, str | None, str], list[tuple[str, Path, ManifestEntry | None]]] = field(
        default_factory=dict
    )

    def add(self, rel: str, path: Path, sha: str, prev: ManifestEntry | None) -> None:
        self.groups.setdefault((*delivery_of(Path(rel)), sha + path.suffix.lower()), []).append(
            (rel, path, prev)
        )

    def mark(self, plan: Plan, summary: IngestSummary) -> None:
        taken = {d.rel: d for d in plan.todo}
        for members in self.groups.values():
            if len(members) < 2:
                continue
            keep = min(members, key=lambda m: (len(m[0]), m[0]))[0]
            for rel, path, prev in members:
                if rel == keep:
                    continue
                blocked = ("duplicate_file", f"trùng từng byte với tệp {keep}")
                sha = _blocked_sha(blocked, path)
                if prev is not None and prev.sha256 == sha:  # already quarantined as this copy
                    if rel in taken:
                        plan.todo.remove(taken.pop(rel))
                        summary.skipped += 1
                        plan.skipped.append((rel, sha, "skipped"))
                    continue
                if rel in taken:
                    taken[rel].blocked, taken[rel].sha256, taken[rel].data = blocked, sha, None
                else:  # unchanged, loaded earlier: now a copy, its rows go
                    plan.skipped = [e for e in plan.skipped if e[0] != rel]
                    summary.skipped -= 1
                    taken[rel] = FileDecision(path, rel, sha, blocked, prev)
                    plan.todo.append(taken[rel])
        plan.todo.sort(key=lambda d: parse_order(d.rel))


def unreadable_folder(
    inbox: Path, folder: str, known: dict[str, ManifestEntry], plan: Plan, summary: IngestSummary
) -> None:
    """A folder of the inbox the walk could not list (permission denied): a manifest row of its own
    (`<folder>/`, quarantined as `unreadable_folder`, naming it) so that the data-quality report says
    which school's delivery was not read, and the files loaded from it before are kept, not retired (as
    for a file still being written: a permission fixed tomorrow must not have wiped the school today).
    The inbox itself unreadable is an error of the set-up, not of a school: it stops the run."""
    if not folder:
        raise PermissionError(f"cannot list the inbox folder {inbox}")
    rel = file_key(folder) + "/"
    plan.seen.add(rel)
    plan.seen.update(k for k in known if k.startswith(rel))
    summary.files_seen += 1
    blocked = ("unreadable_folder", f"thư mục “{rel}”")
    path = inbox / folder
    sha, prev = _blocked_sha(blocked, path), known.get(rel)
    if _unchanged(prev, sha):
        summary.skipped += 1
        plan.skipped.append((rel, sha, "skipped"))
        return
    plan.todo.append(FileDecision(path, rel, sha, blocked, prev))


def unexpected_folder(rel: str) -> tuple[str, str] | None:
    """The block of a file in a top-level folder that is not a school year (`2024_2025`, `Nam hoc 2024`):
    read, its rows would count in whatever year its content names, beside that year's own files."""
    top, sep, _ = rel.partition("/")
    return None if not sep or _YEAR_DIR.match(top) else ("unexpected_folder", f"thư mục “{top}”")


def _hash(path: Path, size: int, hold: bool) -> tuple[str, bytes | None]:
    """(sha256, the content when `hold` and it fits a parse) of a file that passed the path checks; ("",
    None) when it cannot be read, but `PermissionError` is raised (the plan says so: `permission_denied`)."""
    try:
        if hold and size <= MAX_FILE_BYTES:  # read once: hash and parse
            data = path.read_bytes()
            return hashlib.sha256(data).hexdigest(), data
        return sha256_of(path), None
    except PermissionError:
        raise
    except OSError:
        return "", None


# ---------------------------------------------------------------------------------------------
# Step 2: the school registry — the province folder's registry files first, then a snapshot
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Registry:
    """A snapshot of the school registry (school names and platforms) that every school file of the run
    is parsed with: parsing a file is a function of its bytes, the layouts and this snapshot."""

    names: dict[str, str] = field(default_factory=dict)
    platforms: dict[str, str] = field(default_factory=dict)
    codes: dict[str, frozenset[str]] = field(default_factory=dict)  # school year → its schools' codes

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Registry:
        rows = con.execute("SELECT DISTINCT school_year, school_code FROM raw_school").fetchall()
        codes: dict[str, set[str]] = {}
        for year, code in rows:
            codes.setdefault(str(year), set()).add(str(code))
        return cls(school_names(con), school_platforms(con), {y: frozenset(c) for y, c in codes.items()})

    def unknown_school(self, d: FileDecision) -> tuple[str, str] | None:
        """The block of a file delivered in a school folder whose code the registry of that year does not
        hold (None when it does, or when no registry of that year has arrived: nothing to judge by)."""
        year, school = d.delivery
        known = self.codes.get(year or "")
        if not school or not known or school in known:
            return None
        return ("unknown_school", f"thư mục {school} — năm học {year}")

    def context(self, rel: str, hash_key: str) -> ParseContext:
        fy, fs = delivery_of(Path(rel))
        return ParseContext(file=rel, folder_year=fy, folder_school=fs, school_names=self.names,
                            hash_key=hash_key, platform_by_school=self.platforms)  # fmt: skip


def is_registry_file(d: FileDecision, layouts: tuple[Layout, ...], max_cells: int | None = None) -> bool:
    """A spreadsheet of the province folder one of whose sheets is laid out as the school registry (read
    and its headers located; a file that cannot be read, or is too large to, is not the registry)."""
    if not _registry_candidate(d):
        return False
    try:
        if d.path.suffix.lower() in EXCEL_TYPES and check_sheet_widths(d.data or d.path, max_cells):
            return False
        found, _ = locate_sheets(read_grids(d.path, d.data), layouts)
    except BaseException as exc:  # the parse step reports it
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return False
    return any(m.layout.entity == "school" for _, m in found)


def _registry_candidate(d: FileDecision) -> bool:
    return not d.blocked and d.delivery[1] is None and d.path.suffix.lower() in EXCEL_TYPES | CSV_TYPES


def _registry_probe(args: tuple[list[FileDecision], int | None]) -> list[bool]:
    """Worker side of `split_registry`: `is_registry_file` of each file."""
    layouts = load_layouts()
    return [is_registry_file(d, layouts, args[1]) for d in args[0]]


def split_registry(
    todo: list[FileDecision], limits: Limits | None = None, workers: int | None = None
) -> tuple[list[FileDecision], list[FileDecision]]:
    """(the registry files of the province folder, every other file), each in plan order. The files are
    read in a worker under `limits` (in this process when `workers` is 0); when the worker dies, each
    file alone, and a file whose worker dies alone is not the registry (the parse step quarantines it)."""
    limits = limits or Limits()
    cands = [d for d in todo if _registry_candidate(d)]
    if not cands:
        flags: list[bool] = []
    elif workers == 0:
        flags = _registry_probe((cands, limits.max_cells))
    else:
        try:
            flags = run_alone(_registry_probe, (cands, limits.max_cells), limits)
        except WorkerFailed:
            flags = []
            for d in cands:
                try:
                    flags += run_alone(_registry_probe, ([d], limits.max_cells), limits)
                except WorkerFailed:
                    flags.append(False)
    picked = {id(d) for d, flag in zip(cands, flags, strict=True) if flag}
    return [d for d in todo if id(d) in picked], [d for d in todo if id(d) not in picked]


# ---------------------------------------------------------------------------------------------
# Step 3: parsed files — an iterator that hides the pool, its window and its fallback
# ---------------------------------------------------------------------------------------------
def _parse_job(jobs: list[ParseJob]) -> list[FileResult]:
    """Worker side of the parse pool (module level so that it pickles): one batch of files, packed."""
    return pack(parse_files(jobs, load_layouts()))


def parse_batches(todo: list[FileDecision]) -> list[list[int]]:
    """The files to parse (todo positions, in order; blocked files are not parsed) cut into batches of
    at most PARSE_BATCH_FILES files and PARSE_BATCH_BYTES."""
    batches: list[list[int]] = []
    cur: list[int] = []
    cur_bytes = 0
    for i, d in enumerate(todo):
        if d.blocked:
            continue
        size = len(d.data or b"")
        if cur and (len(cur) >= PARSE_BATCH_FILES or cur_bytes + size > PARSE_BATCH_BYTES):
            batches.append(cur)
            cur, cur_bytes = [], 0
        cur.append(i)
        cur_bytes += size
    if cur:
        batches.append(cur)
    return batches


class ParsedFiles:
    """Files in order with their parse results, all parsed with one registry snapshot. Each batch of files
    is parsed in its own worker process under `limits` (`connectors.workers`), up to `workers` batches at
    once, ahead of the storing; `workers` 0 parses in this process (no containment). A batch whose worker
    dies (a native abort, a limit) is parsed again file by file, each alone: its other files load as
    they would have, and a file whose worker dies alone is quarantined naming what stopped it
    (`file_too_large` for a memory or CPU limit, `reader_crashed` otherwise)."""

    def __init__(self, todo: list[FileDecision], registry: Registry, hash_key: str, workers: int | None,
                 progress: Callable[[str], None] | None = None, limits: Limits | None = None) -> None:  # fmt: skip
        self.todo, self.registry, self.hash_key, self.progress = todo, registry, hash_key, progress
        self.limits = limits or Limits()
        self.batches = parse_batches(self.todo)
        self.batch_of = {i: b for b, idxs in enumerate(self.batches) for i in idxs}
        self.workers = INGEST_WORKERS if workers is None else workers
        self.running: dict[int, Worker] = {}  # batch → its worker
        self.parsed: dict[int, FileResult] = {}  # todo position → its result, until taken
        self.consumed = -1  # the last batch whose files have all been taken

    def __enter__(self) -> ParsedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for w in self.running.values():
            w.cancel()
        self.running.clear()

    def __iter__(self) -> Iterator[tuple[FileDecision, FileResult]]:
        for i, d in enumerate(self.todo):
            if self.progress:
                self.progress(d.rel)
            yield d, self._take(i, d)

    def _take(self, i: int, d: FileDecision) -> FileResult:
        if d.blocked:
            size = d.path.lstat().st_size
            return FileResult(d.rel, d.sha256, size, "quarantined", d.blocked[0],
                              f"{reason_text(d.blocked[0])} ({d.blocked[1]})")  # fmt: skip
        b = self.batch_of[i]
        if i not in self.parsed:
            self._collect(b, i)
        res = self.parsed.pop(i)
        d.data = None  # the content is no longer needed
        if self.batches[b][-1] == i:  # the batch is all taken: the window moves on
            self.consumed = max(self.consumed, b)
        return res

    def _jobs(self, idxs: list[int]) -> list[ParseJob]:
        return [ParseJob(self.todo[i].path, self.todo[i].rel, self.registry.context(self.todo[i].rel, self.hash_key),
                         self.todo[i].sha256 or None, self.todo[i].data, self.limits.max_cells)
                for i in idxs]  # fmt: skip

    def _submit_ahead(self) -> None:
        """Keep `workers` batches in their workers."""
        if self.workers <= 0:
            return
        for b in range(self.consumed + 1, len(self.batches)):
            if len(self.running) >= self.workers:
                return
            if b not in self.running and not any(i in self.parsed for i in self.batches[b]):
                self.running[b] = Worker(_parse_job, self._jobs(self.batches[b]), self.limits)

    def _collect(self, b: int, start: int) -> None:
        """Results of batch b's files from todo position `start` on, into `parsed`."""
        idxs = [i for i in self.batches[b] if i >= start]
        if self.workers <= 0:
            got = parse_files(self._jobs(idxs), load_layouts())
        else:
            self._submit_ahead()
            w = self.running.pop(b, None) or Worker(_parse_job, self._jobs(idxs), self.limits)
            try:
                got = w.result()[-len(idxs) :]
            except WorkerFailed as exc:
                got = self._alone(idxs, exc)
            self._submit_ahead()
        for i, res in zip(idxs, got, strict=True):
            self.parsed[i] = res

    def _alone(self, idxs: list[int], failure: WorkerFailed) -> list[FileResult]:
        """The files of a batch whose worker died, each parsed alone; one that dies alone is quarantined."""
        if len(idxs) == 1:
            return [self._stopped(idxs[0], failure)]
        out: list[FileResult] = []
        for i in idxs:
            try:
                out += Worker(_parse_job, self._jobs([i]), self.limits).result()
            except WorkerFailed as exc:
                out.append(self._stopped(i, exc))
        return out

    def _stopped(self, i: int, failure: WorkerFailed) -> FileResult:
        """A file whose worker died while it was read alone, quarantined with what stopped it."""
        d = self.todo[i]
        try:
            size = d.path.lstat().st_size
            sha = d.sha256 or sha256_of(d.path)
        except OSError:
            size, sha = len(d.data or b""), d.sha256
        crash = failure.crash
        if failure.memory:
            code, detail = (
                "file_too_large",
                f"vượt giới hạn bộ nhớ {self.limits.memory_bytes // 2**20} MiB khi đọc",
            )
        elif crash is not None and crash.cpu_exhausted:
            code, detail = "file_too_large", f"đọc tệp quá {self.limits.cpu_seconds} giây CPU"
        elif crash is not None:
            code, detail = "reader_crashed", f"tiến trình đọc tệp bị dừng: {crash.signal_name}"
        else:
            code, detail = "reader_crashed", f"lỗi khi đọc tệp: {_scrub(failure.error, d.path, d.rel)}"
        return FileResult(d.rel, sha, size, "quarantined", code, f"{reason_text(code)} ({detail})")


# ---------------------------------------------------------------------------------------------
# Step 4: the batch writer — parsed files stored a transaction per batch, each file atomic
# ---------------------------------------------------------------------------------------------
class BatchWriter:
    """Collects parsed files and stores them together (`store_files`: one transaction) once
    STORE_BATCH_FILES files or STORE_BATCH_ROWS rows are waiting, or when asked to flush."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str) -> None:
        self.con, self.run_id = con, run_id
        self.items: list[StoreItem] = []
        self.rows = 0

    def add(self, d: FileDecision, res: FileResult) -> None:
        """Queue one file (stored now when the batch is full)."""
        fy, fs = d.delivery
        self.items.append(StoreItem(res, fy, fs, replaced=d.prev is not None, prev_entities=d.prev_entities,
                                    fresh=d.prev is None))  # fmt: skip
        self.rows += sum(s.records for s in res.sheets) + len(res.sheets)
        if len(self.items) >= STORE_BATCH_FILES or self.rows >= STORE_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        store_files(self.con, self.items, self.run_id)
        self.items, self.rows = [], 0


def _block_unknown_school(
    d: FileDecision, registry: Registry, summary: IngestSummary, unchanged: list[tuple[str, str, str]]
) -> bool:
    """Quarantine a file of a school folder the registry does not know (`unknown_school`): its rows would
    make a phantom school in every output. True when it is already quarantined so (nothing to take)."""
    blocked = None if d.blocked else registry.unknown_school(d)
    if blocked is None:
        return False
    sha = _blocked_sha(blocked, d.path)
    if d.prev is not None and d.prev.sha256 == sha:  # quarantined so last time, still so: unchanged
        summary.skipped += 1
        unchanged.append((d.rel, sha, "skipped"))
        return True
    d.blocked, d.sha256, d.data = blocked, sha, None
    return False


def take_files(con: duckdb.DuckDBPyConnection, todo: list[FileDecision], registry: Registry, hash_key: str,
               workers: int | None, progress: Callable[[str], None] | None, summary: IngestSummary,
               limits: Limits | None = None) -> None:  # fmt: skip
    """Parse the files with one registry snapshot (in workers under `limits`) and store them in order,
    a batch per transaction."""
    if not todo:
        return
    writer = BatchWriter(con, summary.run_id)
    with ParsedFiles(todo, registry, hash_key, workers, progress, limits) as parsed:
        for d, res in parsed:
            writer.add(d, res)
            _count(summary, d, res)
        writer.flush()


def _count(summary: IngestSummary, d: FileDecision, res: FileResult) -> None:
    """A taken file in the run's counts."""
    summary.changed_files.append(d.rel)
    if res.status == "quarantined":
        summary.quarantined += 1
    elif d.prev is not None:
        summary.replaced += 1
    else:
        summary.ingested += 1
    summary.rows_kept += res.rows_kept
    summary.rows_rejected += res.rows_rejected
    summary.records_written += res.records_written
    if res.status != "quarantined":
        for s in res.sheets:
            summary.rows_by_entity[s.layout.entity] = (
                summary.rows_by_entity.get(s.layout.entity, 0) + s.records
            )


# ---------------------------------------------------------------------------------------------
# Steps 5 and 6: retire the files that disappeared, finalise the cross-file work
# ---------------------------------------------------------------------------------------------
def _retires(rel: str, entry: ManifestEntry, seen: set[str], year: str | None) -> bool:
    """A file the manifest holds that `retire_missing` retires in this run (gone from the inbox)."""
    fy, _ = delivery_of(Path(rel))
    return rel not in seen and entry.status != "retired" and not (year and fy and fy != year)


def retire_missing(con: duckdb.DuckDBPyConnection, known: dict[str, ManifestEntry], seen: set[str],
                   year: str | None, summary: IngestSummary) -> None:  # fmt: skip
    """Files the manifest holds that are no longer in the inbox (of this year): their rows leave, each in
    its own transaction, and the manifest marks them retired."""
    for rel, entry in known.items():
        if not _retires(rel, entry, seen, year):
            continue
        con.execute("BEGIN TRANSACTION")
        keep_entries_listed_twice(con, rel)
        raw_store.delete_file_rows(con, rel)
        con.execute(
            "UPDATE ingest_manifest SET status = 'retired', rows_kept = 0, records_written = 0, run_id = ?, "
            "ingested_at = ? WHERE source_file = ?",
            [summary.run_id, dt.datetime.now(), rel],
        )
        raw_store.log_event(con, summary.run_id, rel, entry.sha256, "retired")
        con.execute("COMMIT")
        summary.retired += 1
        summary.changed_files.append(rel)


def keep_entries_listed_twice(con: duckdb.DuckDBPyConnection, rel: str) -> None:
    """Before a retired file's rows leave: its registry entries for a (school code, year) that another
    registry file now lists twice (`duplicate_school_code`) and that no other file holds pass to that
    file (the first by name), as they were, so the school keeps its previous entry until the registry is
    corrected, as when the previous entry came from the same file (`previous_entries`): the registry
    renamed (`DanhSachTruong.xlsx` → `DanhSachTruong_2025.xlsx`) with a code listed twice must not drop
    the school. The entry then lives and goes with that file's rows (replaced once it is corrected)."""
    con.execute(
        """
        UPDATE raw_school AS r SET source_file = q.source_file
        FROM (SELECT value AS school_code, school_year, min(source_file) AS source_file FROM dq_quarantine_rows
              WHERE reason_code = 'duplicate_school_code' AND source_file <> $rel GROUP BY ALL) AS q
        WHERE r.source_file = $rel AND r.school_code = q.school_code
          AND (q.school_year IS NULL OR q.school_year = r.school_year)
          AND NOT EXISTS (SELECT 1 FROM raw_school o WHERE o.school_code = r.school_code
                          AND o.school_year = r.school_year AND o.source_file <> $rel)
        """,
        {"rel": rel},
    )


def finalise(con: duckdb.DuckDBPyConnection, summary: IngestSummary) -> None:
    """After any change, or when a run stopped before finishing it (`ingest_pending`): cross-file
    references resolved again, raw tables compacted once their deleted rows pile up; then the pending
    mark goes."""
    if summary.changed or raw_store.is_pending(con, "finalise"):
        from connectors import references

        references.resolve_all(con)
        summary.compacted = raw_store.compact_raw_tables(con)
    raw_store.clear_pending(con, "finalise")


DEFERRED = "deferred:"  # `ingest_pending` step of a file deferred because it was still being written


def mark_deferred(con: duckdb.DuckDBPyConnection, year: str | None, files: list[str]) -> None:
    """Record the files this run deferred in `ingest_pending` (`DEFERRED` + file key, since when), in place
    of those of the last run of the same year(s): the no-change check of the next `cds run` sees them
    (`pipelines.inbox_state`) and the data-quality report lists them."""
    prefix = DEFERRED + (f"{year}/" if year else "")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "DELETE FROM ingest_pending WHERE starts_with(step, ?) AND NOT list_contains(?::VARCHAR[], step)",
            [prefix, [DEFERRED + f for f in files]],
        )
        for f in files:
            con.execute(
                "INSERT INTO ingest_pending VALUES (?, ?) ON CONFLICT DO NOTHING",
                [DEFERRED + f, dt.datetime.now()],
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def ingest_inbox(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    year: str | None = None,
    hash_key: str = "",
    run_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
    settle_s: float = 0.0,
) -> IngestSummary:
    """Ingest every new or changed file of the inbox (for one delivery year when given), in steps: plan
    (a decision per file; files modified less than `settle_s` seconds ago are deferred to the next run,
    `plan_files`); the school registry (the province folder's registry files parsed and stored
    first, then one snapshot every other file is parsed with); parsed files (in worker processes under
    `limits`, `workers` at once, default INGEST_WORKERS; 0 parses in this process, uncontained) and the
    batch writer (plan order, a batch of files per transaction); retire; finalise."""
    if workers != 0:
        warm_up()  # the workers' forkserver imports its modules while the files are planned
    raw_store.ensure_schema(con)
    ensure_manifest_columns(con)
    summary = IngestSummary(run_id or uuid.uuid4().hex[:12])
    known = manifest_state(con)
    plan = plan_files(Path(inbox), year, known, summary, settle_s)
    summary.deferred = plan.deferred
    raw_store.log_events(
        con, summary.run_id, [*plan.skipped, *((rel, "", "deferred") for rel in plan.deferred)]
    )
    mark_deferred(con, year, plan.deferred)
    if plan.todo or any(_retires(rel, e, plan.seen, year) for rel, e in known.items()):
        raw_store.mark_pending(con, "finalise")  # committed before any file is: a kill leaves it set
    first, rest = split_registry(plan.todo, limits, workers)
    take_files(
        con, first, Registry.load(con), hash_key, 1 if workers != 0 else 0, progress, summary, limits
    )  # registry 1st
    registry = Registry.load(con)
    unchanged: list[tuple[str, str, str]] = []
    rest = [d for d in rest if not _block_unknown_school(d, registry, summary, unchanged)]
    raw_store.log_events(con, summary.run_id, unchanged)
    take_files(con, rest, registry, hash_key, workers, progress, summary, limits)
    retire_missing(con, known, plan.seen, year, summary)
    finalise(con, summary)
    return summary
