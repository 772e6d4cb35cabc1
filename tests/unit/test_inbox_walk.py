"""The connector's inbox walk (`connectors.inbox.walk_inbox`, one `os.walk`) lists exactly what the
earlier `Path.rglob` walk listed, on a tree with hidden and `_` folders, other years, links to files and
folders, a dangling link, a FIFO and loose files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from connectors.inbox import walk_inbox

pytestmark = pytest.mark.unit
YEAR = "2024-2025"
_YEAR_DIR = re.compile(r"^\d{4}-\d{4}$")


def _rglob_walk(inbox: Path, school_year: str | None) -> list[str]:
    """The walk as the connector did it before (reference)."""
    files = []
    for p in inbox.rglob("*"):
        rel = p.relative_to(inbox)
        if any(part.startswith(("_", ".")) for part in rel.parts):
            continue
        if p.is_dir():
            continue
        y = rel.parts[0] if _YEAR_DIR.match(rel.parts[0]) else None
        if school_year and y and y != school_year:
            continue
        files.append(p)
    order = sorted(
        files, key=lambda p: (0 if "province" in p.relative_to(inbox).parts else 1, str(p.relative_to(inbox)))
    )
    return [p.relative_to(inbox).as_posix() for p in order]


def _drop(inbox: Path, rel: str) -> None:
    p = inbox / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("x")


def test_walk_lists_what_the_rglob_walk_listed(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for rel in [
        f"{YEAR}/province/DanhSachTruong.xlsx",
        f"{YEAR}/08000001/a.csv",
        f"{YEAR}/08000001/.hidden",
        f"{YEAR}/08000001/_tmp.csv",
        f"{YEAR}/_staging/b.csv",
        f"{YEAR}/.git/c.csv",
        f"{YEAR}/08000001/2023-2024/d.csv",
        "2023-2024/08000002/e.csv",
        "2022-2023",
        "loose.csv",
        "misc/notes.txt",
        f"{YEAR}/08000002/sub/deep/f.xlsx",
    ]:
        _drop(inbox, rel)
    (inbox / YEAR / "08000003").symlink_to(inbox / YEAR / "08000001", target_is_directory=True)
    (inbox / YEAR / "08000001" / "gone.csv").symlink_to(tmp_path / "missing.csv")
    (inbox / YEAR / "08000001" / "alias.csv").symlink_to(inbox / YEAR / "08000001" / "a.csv")
    os.mkfifo(inbox / YEAR / "08000001" / "pipe.csv")
    for school_year in (YEAR, "2023-2024", None):
        assert walk_inbox(inbox, school_year) == _rglob_walk(inbox, school_year), school_year
    assert f"{YEAR}/08000001/pipe.csv" in walk_inbox(inbox, YEAR)
