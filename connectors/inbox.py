"""The inbox layout (docs/exports.md §1.7): which files under `<school year>/<school code or province>/` the
connector reads. Only the standard library: the operations code walks the inbox too (change checks, the
sensor) without loading the parsing stack."""

from __future__ import annotations

import os
import re
from pathlib import Path

_YEAR_DIR = re.compile(r"^\d{4}-\d{4}$")


def walk_inbox(inbox: Path, year: str | None = None) -> list[str]:
    """The files under the inbox (paths relative to it, `/`-separated) that the connector reads for
    `year` (all years when None), sorted with the province folders first so that the registry is known
    before school files are read. One `os.walk`: names starting with `_` or `.` are skipped (a folder's
    whole content with it), another year's folder is not entered, links to folders are not followed;
    every other entry (files, links to files, dangling links, FIFOs, devices) is listed: the pre-flight
    checks decide about it."""
    root = str(inbox)
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        parts = () if rel_dir == "." else tuple(rel_dir.split(os.sep))
        dirnames[:] = [d for d in dirnames if not d.startswith(("_", "."))
                       and not (year and not parts and _YEAR_DIR.match(d) and d != year)]  # fmt: skip
        for name in filenames:
            if name.startswith(("_", ".")):
                continue
            rel = (*parts, name)
            if year and _YEAR_DIR.match(rel[0]) and rel[0] != year:
                continue
            out.append("/".join(rel))
    return sorted(out, key=lambda rel: (0 if "province" in rel.split("/") else 1, rel))
