"""Parsing a batch of files: each file read and its sheets' layouts found on their own (`_locate`), the
sheets of every file that share a layout parsed together (`_finish`), then each file's verdict
(`_conclude`: loaded, partly loaded or quarantined, with its Vietnamese reason). A bad file never touches
another. The file-level row checks after the parse live in `connectors.filedrop.verdicts`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.filedrop.files import (
    MAX_FILE_BYTES,
    json_too_large,
    sha256_of,
)
from connectors.filedrop.verdicts import (
    duplicate_school_codes,
    other_school,
    reject_cut_line,
    reject_nul_rows,
    unmatched_school_name,
)
from connectors.layouts import Layout, load_layouts
from connectors.messages import reason_text
from connectors.parsing.shapes import parse_sheets, sheet_group_key
from connectors.readers import CSV_TYPES, EXCEL_TYPES, SUPPORTED, FileRejected, read_grids
from connectors.safety import check_sheet_widths
from connectors.sheet_parser import (
    Grid,
    HeaderMatch,
    ParseContext,
    SheetResult,
    find_headers,
    sheet_not_read,
)

if TYPE_CHECKING:
    from connectors.filedrop.store import Part


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
        _check_type_and_size(ext, size)
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
        res.unread_sheets = [(name, "hidden_sheet", _hidden_text(state)) for name, state in hidden]
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
            raise FileRejected(
                errors[0] if errors else "unrecognized_layout",
                f"các trang ẩn không được đọc: {shown}" if hidden else "",
            )
        return _Located(res, found, errors, cut_last_line(data, grids) if ext in CSV_TYPES else None)
    except BaseException as exc:
        return _rejected(res, exc, path, rel)


def _check_type_and_size(ext: str, size: int) -> None:
    """Raise the `FileRejected` of a file not read for its type or size (empty, too large)."""
    if ext not in SUPPORTED:
        raise FileRejected("unsupported_type", ext)
    if size == 0:
        raise FileRejected("empty_file")
    if size > MAX_FILE_BYTES:
        raise FileRejected("file_too_large")
    too_large = json_too_large(ext, size)
    if too_large:
        raise FileRejected(*too_large)


def _hidden_text(state: str) -> str:
    """The Vietnamese reason a hidden sheet (`hidden` or `veryhidden`) is not read."""
    return reason_text("hidden_sheet") + (
        " (trang ẩn sâu — very hidden)" if state == "veryhidden" else " (trang ẩn)"
    )


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
        res.reason = (
            f"{reason_text('unreadable_file')} "
            "(cấu trúc lồng nhau quá sâu: quá nhiều cấp [ hoặc { lồng nhau)"
        )
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
        got = parse_sheets(
            [members[x][2] for x in idxs],
            [members[x][3] for x in idxs],
            [jobs[members[x][0]].ctx for x in idxs],
        )
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
