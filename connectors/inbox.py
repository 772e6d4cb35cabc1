"""The inbox layout (docs/exports.md §1.7): which files under `<school year>/<school code or province>/` the
connector reads, and the key a file is known by (`file_key`). Only the standard library: the operations
code walks the inbox too (change checks, the sensor) without loading the parsing stack."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

_YEAR_DIR = re.compile(r"^\d{4}-\d{4}$")


def walk_inbox(inbox: Path, school_year: str | None = None, unreadable: list[str] | None = None) -> list[str]:
    """The files under the inbox (paths relative to it, `/`-separated) that the connector reads for
    `year` (all years when None), sorted with the province folders first so that the registry is known
    before school files are read. One `os.walk`: names starting with `_` or `.` are skipped (a folder's
    whole content with it), another year's folder is not entered, links to folders are not followed;
    every other entry (files, links to files, dangling links, FIFOs, devices) is listed: the pre-flight
    checks decide about it. A folder that cannot be listed (permission denied) is appended to
    `unreadable` when given (its path relative to the inbox; "" for the inbox itself) and the walk goes
    on with the others."""
    root = str(inbox)
    out: list[str] = []

    def failed(exc: OSError) -> None:
        if unreadable is not None and exc.filename is not None:
            rel_dir = os.path.relpath(os.fsdecode(exc.filename), root)
            unreadable.append("" if rel_dir == "." else rel_dir.replace(os.sep, "/"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=failed):
        rel_dir = os.path.relpath(dirpath, root)
        parts = () if rel_dir == "." else tuple(rel_dir.split(os.sep))
        dirnames[:] = [
            d
            for d in dirnames
            if not d.startswith(("_", "."))
            and not (school_year and not parts and _YEAR_DIR.match(d) and d != school_year)
        ]
        for name in filenames:
            if name.startswith(("_", ".")):
                continue
            rel = (*parts, name)
            if school_year and _YEAR_DIR.match(rel[0]) and rel[0] != school_year:
                continue
            out.append("/".join(rel))
    return sorted(out, key=lambda rel: (0 if "province" in rel.split("/") else 1, rel))


_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cn", "Cs"})


def file_key(rel: str) -> str:
    """The name a file is known by in the manifest, the raw tables and every report: its path relative
    to the inbox (as `walk_inbox` gives it, undecodable bytes kept as surrogate escapes) in an escaped
    form that is one-to-one with the path's raw bytes and shows people what differs between two names
    that print alike. A backslash is doubled; a byte that is not UTF-8 is `\\xNN`; a character that
    prints as nothing or as a blank (zero-width, bidi and other format marks, controls, every space but
    the plain one) is `\\uXXXX`; in a name that is not in NFC, the combining marks are `\\uXXXX` (so
    the NFD spelling of a Vietnamese name never looks like its NFC twin). An ordinary name (UTF-8, NFC,
    no backslash, nothing invisible) is its own key."""
    if rel.isascii() and rel.isprintable() and "\\" not in rel:
        return rel
    nfc = unicodedata.is_normalized("NFC", rel)
    out: list[str] = []
    for ch in rel:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif (ch != " " and unicodedata.category(ch) in _INVISIBLE) or (
            not nfc and unicodedata.combining(ch)
        ):
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    return "".join(out)
