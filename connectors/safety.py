"""Pre-flight checks on an inbox file before any parser touches it, so that a hostile or broken file
ends in a clear quarantine reason (docs/exports.md §1.6) instead of a hang, a crash or a memory blow-up.

Checked, in order:

- the path: links leading out of the inbox, broken or looping links, names that are not valid text,
  anything that is not a regular file (devices, FIFOs: reading them would block or never end);
- the size (`MAX_FILE_BYTES`);
- workbooks: a compound (CFB) container that holds an `EncryptionInfo` stream is a
  password-protected workbook; a compound file whose sectors or stream sizes point nowhere is
  broken (calamine panics on some); a zip container is read through its central directory only (member
  count, declared sizes and ratios, declared sizes that cannot be true, macros) and each worksheet's
  XML is streamed once for its used range (`sheet_extent`: first and last value rows, widest value
  column): beyond `MAX_COLUMNS` columns or `MAX_CELLS` cells (what a reader would allocate) it is
  `file_too_large`;
- CSV: nothing but a BOM, separators and blanks (empty); the number of fields of the first lines.

Each check returns `(reason_code, detail)`; the detail is Vietnamese, meant for the school's data
officer. `check_path` (no read) and `check_content` (reads the file) are the two halves of `preflight`:
the connector hashes a file between them and skips the second half for a file it already knows. The
connector runs the worksheet check (`check_sheet_widths`) in the worker process that then parses the
file (`connectors.workers`), on the bytes it parses, right before the reader gets them; `preflight` runs
every check. Nothing here parses cell values or follows a declared `<dimension>` (it may be wrong, §1.1).
"""

from __future__ import annotations

import html
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_ZIP_MEMBERS = 2000
MAX_COLUMNS = 1000
MAX_CELLS = 20_000_000  # cells of one sheet's used range (first to last value row × widest column)
SHEET_PEEK_BYTES = 4 * 1024 * 1024
CSV_PEEK_BYTES = 1024 * 1024
CSV_PEEK_LINES = 40

CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ENCRYPTION_MARKERS = tuple(n.encode("utf-16-le") for n in ("EncryptionInfo", "EncryptedPackage"))
_CELL_RC = re.compile(
    rb'<(?:\w+:)?c r="([A-Z]{1,3})([0-9]+)"[^>]*?(?<!/)>\s*'  # a cell and its reference
    rb"(?:<(?:\w+:)?f[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*)?"  # an optional formula
    rb"<(?:\w+:)?(?:v|is)\b"  # then its value
)
_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
_WIDE_AT = re.compile(rb'r="[A-Z]{3}[0-9]')  # a cell reference of 3 letters (beyond column ZZ)
_TWO_LETTER_COLUMNS = 26 + 26 * 26  # the widest column with a 2-letter name (ZZ)

Blocked = tuple[str, str]
_WORKBOOKS = frozenset({".xlsx", ".xlsm", ".xls"})


def preflight(path: Path, inbox: Path) -> Blocked | None:
    """(reason_code, detail) when the file must not be parsed, else None: `check_path`, then
    `check_content`."""
    blocked, resolved, size = check_path(path, inbox)
    if blocked or resolved is None or not size:
        return blocked  # an empty file: the parser reports empty_file
    ext = path.suffix.lower()
    return check_content(resolved, ext, size) or (check_sheet_widths(resolved) if ext in _WORKBOOKS else None)


def check_path(
    path: Path, inbox: Path, inbox_resolved: Path | None = None
) -> tuple[Blocked | None, Path | None, int]:
    """The checks that need no read of the file (what it is, where it leads, its size): (blocked,
    resolved path, size in bytes). A file that passes can be read safely (to hash it, for instance);
    `inbox_resolved` saves resolving the inbox once per file."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return ("unreadable_file", "đường dẫn không tồn tại, là liên kết hỏng hoặc liên kết vòng"), None, 0
    if not resolved.is_relative_to(inbox_resolved or inbox.resolve()):
        return ("unsafe_path", "liên kết trỏ ra ngoài thư mục nhận"), None, 0
    try:
        str(path.relative_to(inbox)).encode("utf-8")
    except UnicodeEncodeError:
        return ("unsafe_path", "tên tệp không phải văn bản UTF-8 hợp lệ"), None, 0
    try:
        st = resolved.stat()
    except OSError:
        return ("unreadable_file", "không đọc được thông tin tệp"), None, 0
    if not stat.S_ISREG(st.st_mode):
        return ("unsafe_path", "không phải tệp thông thường (thiết bị, ống dẫn hoặc socket)"), None, 0
    size = st.st_size
    if size > MAX_FILE_BYTES:
        return ("file_too_large", f"{size} byte, tối đa {MAX_FILE_BYTES} byte"), resolved, size
    return None, resolved, size


class PathChecks:
    """`check_path` for the many files of one inbox walk, with each folder resolved once: a regular file
    that is not a link resolves to its folder's real path plus its name, so only links, special files and
    unreadable entries take the full check (same results as `check_path` for every file)."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.inbox_resolved = inbox.resolve()
        self._folders: dict[Path, tuple[Path, bool] | None] = {}  # folder → (real path, inside the inbox)

    def check(self, path: Path, rel: str) -> tuple[Blocked | None, Path | None, int]:
        """`check_path(path, inbox)`; `rel` is the path relative to the inbox as text."""
        try:
            st = os.lstat(path)
        except OSError:
            st = None
        folder = self._folder(path.parent) if st is not None and stat.S_ISREG(st.st_mode) else None
        if st is None or folder is None:  # a link, a FIFO, a device, a broken entry: the full check
            return check_path(path, self.inbox, self.inbox_resolved)
        real, inside = folder
        if not inside:
            return ("unsafe_path", "liên kết trỏ ra ngoài thư mục nhận"), None, 0
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            return ("unsafe_path", "tên tệp không phải văn bản UTF-8 hợp lệ"), None, 0
        resolved = real / path.name
        if st.st_size > MAX_FILE_BYTES:
            return (
                ("file_too_large", f"{st.st_size} byte, tối đa {MAX_FILE_BYTES} byte"),
                resolved,
                st.st_size,
            )
        return None, resolved, st.st_size

    def _folder(self, folder: Path) -> tuple[Path, bool] | None:
        if folder not in self._folders:
            try:
                real = folder.resolve(strict=True)
                self._folders[folder] = (real, (real / "x").is_relative_to(self.inbox_resolved))
            except (OSError, RuntimeError):
                self._folders[folder] = None
        return self._folders[folder]


def check_content(resolved: Path, ext: str, size: int) -> Blocked | None:
    """The checks that read the file (container structure, declared sizes, width) of a regular file
    of `size` bytes (> 0) that passed `check_path`; `ext` is its lower-case suffix."""
    try:
        if ext in {".xlsx", ".xlsm", ".xls"}:
            with resolved.open("rb") as fh:
                head = fh.read(8)
            if head == CFB_MAGIC:
                return _check_cfb(resolved) or _check_cfb_structure(resolved, size)
            if head.startswith(b"PK"):
                return _check_zip(resolved, size)
        elif ext == ".csv":
            return _check_csv(resolved)
    except OSError:
        return "unreadable_file", "không đọc được tệp"
    return None


def _check_cfb(path: Path) -> Blocked | None:
    """A compound file named `.xlsx`: encrypted OOXML when it holds the encryption streams."""
    with path.open("rb") as fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            block = tail + chunk
            if any(m in block for m in _ENCRYPTION_MARKERS):
                return (
                    "unreadable_file",
                    "tệp được đặt mật khẩu (mã hóa); hãy gỡ mật khẩu, lưu lại rồi gửi lại",
                )
            tail = chunk[-40:]
    return None  # another compound file (e.g. a renamed .xls): the reader decides


def _check_cfb_structure(path: Path, size: int) -> Blocked | None:
    """Sector numbers and stream sizes of a compound file that point nowhere: calamine panics on some
    (a Rust panic is not an `Exception` and would stop the whole ingest), so they never reach it."""
    bad = ("unreadable_file", "cấu trúc tệp Excel 97-2003 (CFB) bị hỏng")
    with path.open("rb") as fh:
        header = fh.read(512)
        if len(header) < 512:
            return bad
        shift, mini_shift = struct.unpack_from("<HH", header, 30)
        n_fat, first_dir = struct.unpack_from("<II", header, 44)
        cutoff, first_minifat, n_minifat = struct.unpack_from("<III", header, 56)
        if shift not in (9, 12) or mini_shift != 6 or cutoff != 4096:
            return bad
        sec = 1 << shift
        n_sectors = (size - sec) // sec + (1 if (size - sec) % sec else 0)

        def ok(i: int) -> bool:
            return i < n_sectors

        difat = struct.unpack_from("<109I", header, 76)[: min(n_fat, 109)]
        if not n_fat or not all(ok(i) for i in difat) or not ok(first_dir):
            return bad
        fat: list[int] = []
        for i in difat:
            fh.seek(sec + i * sec)
            fat += struct.unpack(f"<{sec // 4}I", fh.read(sec).ljust(sec, b"\0"))
        entries = b""
        cur, seen = first_dir, 0
        while cur < 0xFFFFFFFA and seen < 64:  # the first 64 directory sectors are plenty
            if not ok(cur) or cur >= len(fat):
                return bad
            fh.seek(sec + cur * sec)
            entries += fh.read(sec)
            cur, seen = fat[cur], seen + 1
    root_size = 0
    for k in range(len(entries) // 128):
        entry = entries[k * 128 : (k + 1) * 128]
        kind = entry[66]
        start, stream_size = struct.unpack_from("<IQ", entry, 116)
        if sec == 512:
            stream_size &= 0xFFFFFFFF
        if kind == 5:
            root_size = stream_size
        elif kind == 2 and stream_size:
            if stream_size < cutoff and (not root_size or not n_minifat or not ok(first_minifat)):
                return bad
            if stream_size >= cutoff and (not ok(start) or stream_size > size):
                return bad
    return None


def _check_zip(path: Path, size: int) -> Blocked | None:
    """Central directory only (the worksheet width peek is `check_sheet_widths`)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                return "file_too_large", f"tệp nén có {len(infos)} mục, tối đa {MAX_ZIP_MEMBERS}"
            total = sum(i.file_size for i in infos)
            if total > MAX_UNZIPPED_BYTES or (total / size > MAX_ZIP_RATIO and total > 50 * 1024 * 1024):
                return "file_too_large", f"giải nén ra {total} byte từ {size} byte"
            for i in infos:
                # deflate never grows data by more than a few bytes per 16 kB block: a member whose
                # compressed size exceeds its declared size lies about it (a disguised zip bomb)
                if i.compress_type == zipfile.ZIP_DEFLATED and i.compress_size > i.file_size * 1.01 + 1024:
                    return "unreadable_file", "tệp nén khai báo sai kích thước (nghi là bom nén)"
            if any(i.filename.lower().endswith("vbaproject.bin") for i in infos):
                return (
                    "unsupported_type",
                    "tệp chứa macro (vbaProject.bin); hãy lưu lại dạng .xlsx không có macro",
                )
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        ValueError,
        RuntimeError,
    ):
        return None  # the reader reports a broken container as unreadable_file
    return None


def check_sheet_widths(source: Path | bytes, max_cells: int | None = None) -> Blocked | None:
    """A zip workbook (path or content; anything else passes) with a worksheet holding a value beyond
    `MAX_COLUMNS` columns, or whose used range (rows of its first to its last value cell × its widest
    value column) is more than `max_cells` cells (default `MAX_CELLS`; 0: no cap), which is what a
    reader allocates for it before it reads a cell (after `check_content` passed: the member sizes are
    sane). See `sheet_extent` for what is scanned."""
    import io

    cap = MAX_CELLS if max_cells is None else max_cells
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            names = sheet_names(zf)
            for i in zf.infolist():
                if not _WORKSHEET.match(i.filename):
                    continue
                with zf.open(i) as fh:
                    first, last, width = sheet_extent(fh, cap)
                shown = names.get(i.filename.lower(), i.filename)
                if width > MAX_COLUMNS:
                    return (
                        "file_too_large",
                        f"trang tính “{shown}” có dữ liệu ở cột thứ {width}, tối đa {MAX_COLUMNS} cột",
                    )
                rows = last - first + 1 if last else 0
                if cap and rows * width > cap:
                    return (
                        "file_too_large",
                        f"trang tính “{shown}” có vùng dữ liệu {rows} dòng × {width} cột = {rows * width} ô "
                        f"(từ dòng {first} đến dòng {last}), tối đa {cap} ô; hãy xóa các ô thừa ở xa "
                        "vùng dữ liệu rồi lưu lại",
                    )
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        ValueError,
        RuntimeError,
        OSError,
        zlib.error,
    ):
        return None  # the reader reports a broken container as unreadable_file
    return None


def sheet_extent(fh: IO[bytes], max_cells: int = 0) -> tuple[int, int, int]:
    """(row of the first value cell, row of the last value cell, widest value column, 1-based; zeros
    for a sheet without values) of a worksheet XML stream, read once in `SHEET_PEEK_BYTES` chunks.

    The rows come from the first chunk holding a value cell and the last chunk (rows are written in
    order, which is what readers assume too); columns beyond ZZ are looked for in the whole stream (a
    fast search for a three-letter reference, then the cell at each hit); narrower columns in the first
    and last chunks only, and only when the rows times ZZ's 702 columns could pass `max_cells` (0:
    always). A wide value in the middle of a long sheet with no three-letter reference is missed: the
    worker's address-space limit is what stops that one."""
    first = 0
    wide = 0
    head = b""
    prev = b""
    chunk = fh.read(SHEET_PEEK_BYTES)
    head = chunk
    while chunk:
        if not first:
            m = _CELL_RC.search(chunk)
            first = int(m.group(2)) if m else 0
        wide = max(wide, _wide_column(prev[-512:] + chunk))
        nxt = fh.read(SHEET_PEEK_BYTES)
        if not nxt:
            break
        prev, chunk = chunk, nxt
    tail = (prev[-SHEET_PEEK_BYTES // 4 :] + chunk) if chunk is not head else head
    last = 0
    for window in (tail[-256 * 1024 :], tail):
        rows = [int(r) for _, r in _CELL_RC.findall(window)]
        if rows:
            last = max(rows)
            break
    if not first:
        return 0, 0, 0
    last = max(last, first)
    width = wide
    if not width and (not max_cells or (last - first + 1) * _TWO_LETTER_COLUMNS > max_cells):
        width = max(max_value_column(head), max_value_column(tail))
    elif not width:
        width = _TWO_LETTER_COLUMNS  # an upper bound that cannot pass the cap
    return first, last, width


def _wide_column(xml: bytes) -> int:
    """The widest value column among cells with a three-letter reference (beyond ZZ) in `xml`."""
    best = 0
    for hit in _WIDE_AT.finditer(xml):
        start = xml.rfind(b"<", max(0, hit.start() - 16), hit.start())
        m = _CELL_RC.match(xml, start) if start >= 0 else None
        if m:
            best = max(best, _column_number(m.group(1)))
    return best


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member (lower-case) → the sheet's name as the workbook shows it (best effort)."""
    try:
        book = zf.read("xl/workbook.xml")[: 1 << 20].decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels")[: 1 << 20].decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, zlib.error):
        return {}
    target = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)
    }
    target |= {
        m.group(2): m.group(1)
        for m in re.finditer(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)
    }
    out: dict[str, str] = {}
    for m in re.finditer(r'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"', book):
        t = target.get(m.group(2), "").lstrip("/")
        t = t if t.startswith("xl/") else "xl/" + t
        out[t.lower()] = html.unescape(m.group(1))
    return out


def max_value_column(xml: bytes) -> int:
    """1-based index of the rightmost cell that holds a value (or inline string) in worksheet XML;
    formatted empty cells (`<c r="Z9" s="1"/>`) do not count."""
    return max((_column_number(letters) for letters in {c for c, _ in _CELL_RC.findall(xml)}), default=0)


def _check_csv(path: Path) -> Blocked | None:
    """Too many fields in the first lines (a header a person could not have typed)."""
    with path.open("rb") as fh:
        head = fh.read(CSV_PEEK_BYTES)
    if len(head) < CSV_PEEK_BYTES and not head.removeprefix(b"\xef\xbb\xbf").strip(b" \t\r\n,;"):
        return "empty_file", "chỉ có dấu BOM, dấu phân cách hoặc khoảng trắng"
    lines = head.splitlines()[:CSV_PEEK_LINES]
    if len(head) == CSV_PEEK_BYTES and len(lines) <= 1:
        return "file_too_large", f"dòng đầu dài hơn {CSV_PEEK_BYTES} byte"
    width = max((max(ln.count(b","), ln.count(b";")) + 1 for ln in lines), default=0)
    if width > MAX_COLUMNS:
        return "file_too_large", f"tệp CSV có {width} cột, tối đa {MAX_COLUMNS} cột"
    return None
