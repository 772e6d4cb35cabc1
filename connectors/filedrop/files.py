"""Where an inbox file belongs and what it is, before any read of its content: its delivery (school
year and school folder), its key relative to the inbox, the order files are parsed in, its hash, and the
blocks decided from its path and size alone (a JSON file over MAX_JSON_BYTES, a file outside a school-year
folder). No parsing and no warehouse here."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from connectors.inbox import walk_inbox

_YEAR_DIR = re.compile(r"^\d{4}-\d{4}$")
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024 * 1024


def json_too_large(ext: str, size: int) -> tuple[str, str] | None:
    """The block of a JSON file over MAX_JSON_BYTES (never read), else None."""
    if ext != ".json" or size <= MAX_JSON_BYTES:
        return None
    mb = f"{size / 2**20:.1f}".replace(".", ",")  # Vietnamese decimal comma
    return (
        "file_too_large",
        f"tệp JSON {mb} MB, tối đa {MAX_JSON_BYTES // 2**20} MB: hãy xuất riêng từng trường hoặc từng học kỳ",
    )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def delivery_of(rel: Path) -> tuple[str | None, str | None]:
    """`<school year>/<school code>/<file>` → (year, school); `province` gives no school."""
    parts = rel.parts
    school_year = parts[0] if parts and _YEAR_DIR.match(parts[0]) else None
    school = None
    if school_year and len(parts) >= 3 and parts[1] != "province":
        school = parts[1]
    return school_year, school


def iter_inbox(inbox: Path, school_year: str | None = None) -> Iterable[Path]:
    """`walk_inbox` as paths."""
    inbox = Path(inbox)
    return [inbox / rel for rel in walk_inbox(inbox, school_year)]


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


def unexpected_folder(rel: str) -> tuple[str, str] | None:
    """The block of a file in a top-level folder that is not a school year (`2024_2025`, `Nam hoc 2024`):
    read, its rows would count in whatever year its content names, beside that year's own files."""
    top, sep, _ = rel.partition("/")
    return None if not sep or _YEAR_DIR.match(top) else ("unexpected_folder", f"thư mục “{top}”")


def _blocked_sha(blocked: tuple[str, str], path: Path) -> str:
    """The manifest's hash of a file the pre-flight checks blocked (its bytes are never read)."""
    return "blocked:" + hashlib.sha256(f"{blocked[0]}|{path.lstat().st_size}".encode()).hexdigest()[:16]
