"""Pre-flight checks on an inbox file before any parser touches it: symlinks leading out of the inbox,
names that are not valid text, oversized files and zip bombs. Each returns a reason code that
quarantines the file with a clear message; none of them reads more than the file's directory entry
and, for zip containers, its central directory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
MAX_ZIP_RATIO = 200


def preflight(path: Path, inbox: Path) -> tuple[str, str] | None:
    """(reason_code, detail) when the file must not be parsed, else None."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "unreadable_file", "đường dẫn không tồn tại hoặc là liên kết hỏng"
    if not resolved.is_relative_to(inbox.resolve()):
        return "unsafe_path", "liên kết trỏ ra ngoài thư mục nhận"
    try:
        str(path.relative_to(inbox)).encode("utf-8")
    except UnicodeEncodeError:
        return "unsafe_path", "tên tệp không phải văn bản UTF-8 hợp lệ"
    size = resolved.stat().st_size
    if size > MAX_FILE_BYTES:
        return "file_too_large", f"{size} byte"
    if path.suffix.lower() in {".xlsx", ".xlsm"} and size:
        try:
            with zipfile.ZipFile(resolved) as zf:
                total = sum(i.file_size for i in zf.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None  # the reader reports a broken container as unreadable_file
        if total > MAX_UNZIPPED_BYTES or (size and total / size > MAX_ZIP_RATIO and total > 50 * 1024 * 1024):
            return "file_too_large", f"giải nén ra {total} byte từ {size} byte"
    return None
