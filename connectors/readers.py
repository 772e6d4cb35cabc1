"""Read a file into sheet grids of text cells: .xlsx/.xls through fastexcel (Arrow), .csv through the
csv module after encoding and delimiter detection. Raises `FileRejected` with a reason code.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.sheet_parser import Grid

EXCEL_TYPES = {".xlsx", ".xlsm", ".xls"}
CSV_TYPES = {".csv"}
JSON_TYPES = {".json"}
SUPPORTED = EXCEL_TYPES | CSV_TYPES | JSON_TYPES


class FileRejected(Exception):
    """A whole file cannot be read; `code` is an docs/exports.md §1.6 file-level reason."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def read_excel_grids(
    path: Path, data: bytes | None = None, hidden: list[tuple[str, str]] | None = None
) -> list[Grid]:
    """Every visible sheet of a workbook as a Grid (rows keep their sheet row numbers, columns their true
    0-based Excel column index even when leading columns are empty). Hidden and very hidden sheets are
    not read (a very hidden sheet of last year's rooms must not count): each is added to `hidden` as
    (sheet name, `hidden` or `veryhidden`); an `.xlsx` sheet's state comes from the workbook part,
    before the sheet is loaded.

    Tolerant open (docs/exports.md §1.1): fastexcel/calamine first; for a `.xls` it cannot open (corrupt
    compound container), xlrd with `ignore_workbook_corruption=True`; only then `unreadable_file`.
    `data` is the file's content when the caller has already read it (it is not read again).
    """
    import fastexcel

    try:
        reader = fastexcel.read_excel(data if data is not None else str(path))
    except BaseException as exc:  # calamine may panic (a BaseException) on broken containers
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        if path.suffix.lower() == ".xls":
            return _read_xls_xlrd(path, exc, data, hidden)
        raise FileRejected("unreadable_file", str(exc)[:200]) from exc
    grids: list[Grid] = []
    states = xlsx_sheet_states(data if data is not None else path)
    errors = xlsx_error_cells(data if data is not None else path)
    for name in reader.sheet_names:
        if states.get(name, "visible") != "visible":
            if hidden is not None:
                hidden.append((name, states[name]))
            continue
        try:
            sheet = reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0)
            if str(sheet.visible).lower() != "visible":  # a .xls sheet: known once loaded
                if hidden is not None:
                    hidden.append((name, str(sheet.visible).lower()))
                continue
            table = sheet.to_arrow()
            # fastexcel drops leading empty columns: keep each column's absolute index
            cols = [c.absolute_index for c in sheet.available_columns()]
        except BaseException as exc:  # calamine may panic (a BaseException) on broken sheets
            if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            if "empty" in str(exc).lower():
                continue
            if path.suffix.lower() == ".xls":
                return _read_xls_xlrd(path, exc, data, hidden)
            raise FileRejected("unreadable_file", f"{name}: {str(exc)[:200]}") from exc
        values, found = _arrow_matrix(table)
        filled: np.ndarray | None = found
        columns: list[int] = cols if len(cols) == values.shape[1] else list(range(values.shape[1]))
        if errors.get(name):  # cells change: the grid finds its non-blank cells itself
            values, columns = _put_errors(values, columns, errors[name])
            filled = None
        grids.append(Grid(name, values=values, columns=columns, nonblank=filled))
    return grids


def xlsx_sheet_states(source: Path | bytes) -> dict[str, str]:
    """Sheet name → `hidden` / `veryhidden` for the sheets of a zip workbook that are not visible (from
    `xl/workbook.xml`; empty for anything else)."""
    import html
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            book = zf.read("xl/workbook.xml")[: 4 << 20].decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError, EOFError, NotImplementedError):
        return {}
    out: dict[str, str] = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", book):
        name, state = re.search(r'\bname="([^"]*)"', tag), re.search(r'\bstate="([^"]*)"', tag)
        if name and state and state.group(1).lower() in ("hidden", "veryhidden"):
            out[html.unescape(name.group(1))] = state.group(1).lower()
    return out


_ERROR_V = re.compile(rb"<(?:\w+:)?v>([^<]{1,40})</(?:\w+:)?v>")
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')


def xlsx_error_cells(source: Path | bytes) -> dict[str, list[tuple[int, int, str]]]:
    """Sheet name → its cells holding a cached formula error (`t="e"`: `#DIV/0!`, `#REF!`, `#N/A`…) as
    (1-based row, 0-based column, error text), for a zip workbook (empty for anything else). Readers give
    these cells as blanks; `read_excel_grids` puts the error text back, so that a value the layout parses
    is rejected naming the cell, not loaded as missing."""
    import zipfile

    from connectors.safety import sheet_names

    out: dict[str, list[tuple[int, int, str]]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            names = sheet_names(zf)
            for member, name in names.items():
                info = next((i for i in zf.infolist() if i.filename.lower() == member), None)
                if info is None:
                    continue
                xml = zf.read(info)
                pos = xml.find(b't="e"')
                while pos >= 0:
                    start, end = xml.rfind(b"<", 0, pos), xml.find(b">", pos)
                    ref = _REF.search(xml, start, end)
                    close = xml.find(b"</", end)
                    v = _ERROR_V.search(xml, end, close + 64) if close >= 0 else None
                    if ref and v and not xml[start:end].endswith(b"/"):
                        col = 0
                        for ch in ref.group(1):
                            col = col * 26 + ch - 64
                        out.setdefault(name, []).append(
                            (int(ref.group(2)), col - 1, v.group(1).decode("utf-8", "replace"))
                        )
                    pos = xml.find(b't="e"', pos + 5)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError, EOFError, NotImplementedError):
        return {}
    return out


def _put_errors(
    values: np.ndarray, columns: list[int], errors: list[tuple[int, int, str]]
) -> tuple[np.ndarray, list[int]]:
    """The error texts written into their cells (a column the reader dropped as empty is added)."""
    for row, col, text in errors:
        if not 1 <= row <= values.shape[0]:
            continue
        if col not in columns:
            at = int(np.searchsorted(np.asarray(columns), col))
            blank = np.empty((values.shape[0], 1), dtype=object)
            values = np.concatenate([values[:, :at], blank, values[:, at:]], axis=1)
            columns = [*columns[:at], col, *columns[at:]]
        values[row - 1, columns.index(col)] = text
    return values, columns


def _arrow_matrix(table: object) -> tuple[np.ndarray, np.ndarray]:
    """An Arrow table of text columns → one object matrix of str/None cells (no per-cell pandas work),
    and which cells hold text other than whitespace (`Grid.nonblank`, found in Arrow while the cells
    are still Arrow strings: one trim over all the text columns; a column of nulls holds none)."""
    n_rows, n_cols = table.num_rows, table.num_columns  # type: ignore[attr-defined]
    arr = np.empty((n_rows, n_cols), dtype=object)
    filled = np.zeros((n_cols, n_rows), dtype=bool)
    texts: list[int] = []
    chunks: list[pa.Array] = []
    for j, col in enumerate(table.columns):  # type: ignore[attr-defined]
        if col.type == pa.null():
            continue  # all None: `arr` holds None already
        if col.type != pa.string():
            col = col.cast(pa.string())
        arr[:, j] = col.to_numpy(zero_copy_only=False) if n_rows else []
        texts.append(j)
        chunks.extend(getattr(col, "chunks", [col]))
    if n_rows and texts:
        trimmed = pc.utf8_trim_whitespace(pa.concat_arrays(chunks))
        lengths = pc.binary_length(trimmed).to_numpy(zero_copy_only=False)  # a null cell: NaN
        filled[texts] = (lengths > 0).reshape(len(texts), n_rows)
    return arr, np.ascontiguousarray(filled.T)


def _read_xls_xlrd(
    path: Path,
    first_error: BaseException,
    data: bytes | None = None,
    hidden: list[tuple[str, str]] | None = None,
) -> list[Grid]:
    """Fallback for BIFF8 files whose compound container is corrupt (vendor `.xls` exports)."""
    import xlrd

    try:
        if data is not None:
            book = xlrd.open_workbook(
                file_contents=data, ignore_workbook_corruption=True, logfile=io.StringIO()
            )
        else:
            book = xlrd.open_workbook(str(path), ignore_workbook_corruption=True, logfile=io.StringIO())
    except Exception as exc:
        raise FileRejected("unreadable_file", f"{str(first_error)[:100]}; xlrd: {str(exc)[:100]}") from exc
    grids: list[Grid] = []
    for sh in book.sheets():
        if sh.visibility:  # 1 hidden, 2 very hidden
            if hidden is not None:
                hidden.append((sh.name, "veryhidden" if sh.visibility == 2 else "hidden"))
            continue
        if sh.nrows == 0:
            continue
        cols = []
        for c in range(sh.ncols):
            values = sh.col_values(c)
            types = sh.col_types(c)
            cols.append([_xlrd_text(v, t) for v, t in zip(values, types, strict=False)])
        frame = pd.DataFrame(dict(enumerate(cols)), dtype="object")
        frame = frame.where(frame.notna(), None)
        frame.index = np.arange(1, len(frame) + 1)
        grids.append(Grid(sh.name, frame))
    return grids


def _xlrd_text(value: object, ctype: int) -> str | None:
    """xlrd cell → text as fastexcel would give it (numbers without a `.0` tail)."""
    if ctype in (0, 6) or value == "":  # empty, blank
        return None
    if ctype in (2, 3):  # number, date serial
        f = float(value)  # type: ignore[arg-type]
        return str(int(f)) if f.is_integer() else repr(f)
    if ctype == 4:
        return "TRUE" if value else "FALSE"
    return str(value)


RESAVE_UTF8 = (
    "hãy mở tệp bằng Excel, chọn Tệp → Lưu thành → kiểu “CSV UTF-8 (Comma delimited) (*.csv)” rồi gửi lại "
    "(tệp soạn bằng Unikey/Vietkey với bảng mã cũ: chuyển mã sang Unicode bằng công cụ chuyển mã của "
    "Unikey trước)"
)


def decode_csv(data: bytes) -> str:
    """UTF-8 with or without BOM; anything else is `bad_encoding`, with the encoding it most likely is
    (`legacy_encoding`) and how to save it as UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = legacy_encoding(data)
        where = f"byte {exc.start}"
        detail = f"có vẻ là bảng mã cũ {guess}" if guess else "không phải UTF-8"
        raise FileRejected("bad_encoding", f"{detail} ({where}); {RESAVE_UTF8}") from exc


def legacy_encoding(data: bytes) -> str | None:
    """The legacy Vietnamese 8-bit encoding a text most likely uses, as people name it, or None: UTF-16
    (a BOM or every other byte zero), Windows-1258 (its combining tone-mark bytes after vowels), else, with
    bytes above 0x7F, TCVN3 (ABC) or VNI (which only the font tells apart)."""
    head = data[: 1 << 20]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[1:200:2].count(0) > 50:
        return "UTF-16"
    high = sum(1 for b in head if b > 0x7F)
    if not high:
        return None
    tones = re.findall(
        rb"[AEIOUYaeiouy\xc2\xe2\xc3\xe3\xca\xea\xd4\xf4\xd5\xf5\xdd\xfd][\xcc\xec\xd2\xde\xf2]", head
    )
    if len(tones) * 3 >= high:
        return "Windows-1258"
    return "TCVN3 (ABC) hoặc VNI"


def read_csv_grid(path: Path, data: bytes | None = None) -> list[Grid]:
    """One Grid for a CSV; the delimiter is `,` or `;`, whichever splits the header into more fields."""
    text = decode_csv(path.read_bytes() if data is None else data)
    if "\r" in text:  # universal newlines: CR-only or mixed line ends (a CR inside quotes becomes LF)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.splitlines()[:40]
    best = ","
    best_n = 0
    for delim in (",", ";"):
        n = max((len(next(csv.reader([ln], delimiter=delim))) for ln in lines if ln.strip()), default=0)
        if n > best_n:
            best, best_n = delim, n
    rows = list(csv.reader(io.StringIO(text), delimiter=best))
    width = max((len(r) for r in rows), default=0)
    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype="object")
    frame = frame.where(frame.notna() & (frame != ""), None)
    frame.index = np.arange(1, len(frame) + 1)
    return [Grid(path.stem, frame)]


def read_grids(
    path: Path, data: bytes | None = None, hidden: list[tuple[str, str]] | None = None
) -> list[Grid]:
    """Grids of a spreadsheet or CSV file (`data`: its content, when already read; `hidden`: see
    `read_excel_grids`)."""
    ext = path.suffix.lower()
    if ext in EXCEL_TYPES:
        return read_excel_grids(path, data, hidden)
    if ext in CSV_TYPES:
        return read_csv_grid(path, data)
    raise FileRejected("unsupported_type", ext or "(no extension)")
