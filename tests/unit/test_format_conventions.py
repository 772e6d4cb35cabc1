"""Formatting conventions of the packages that hold them (issue 23): a `# fmt: skip` says why, next to it.

The line-length rule itself is ruff's (E501, on for every package: pyproject.toml exempts none); this
file checks what ruff cannot: that every formatter opt-out carries its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "quality",
    "reports",
    "indicator_sets",
    "lakehouse",
    "warehouse",
    "connectors",
    "pipelines",
    "tests",
    "benchmarks",
    "sample_exports",
    "docs",
]
SKIP = re.compile(r"#\s*fmt:\s*(skip|off)\s*$")
#: how many lines above a skipped statement its reason may stand (a comment naming `fmt: skip`)
REASON_WITHIN = 8


def unexplained_skips(text: str) -> list[int]:
    """Line numbers of statements ending in `# fmt: skip` (or `# fmt: off`) with no comment line naming
    `fmt: skip` among the REASON_WITHIN lines above."""
    lines = text.splitlines()
    bad = []
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("#") and SKIP.search(line):
            above = lines[max(0, i - REASON_WITHIN) : i]
            if not any(s.lstrip().startswith("#") and "fmt: skip" in s for s in above):
                bad.append(i + 1)
    return bad


def test_an_unexplained_skip_is_found() -> None:
    bare = 'X = ("a",\n     "b")  # fmt: skip\n'
    explained = '# fmt: skip below: the words read as a list\nX = ("a",\n     "b")  # fmt: skip\n'
    assert unexplained_skips(bare) == [2]
    assert unexplained_skips(explained) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_fmt_skip_says_why(package: str) -> None:
    found = {
        str(p.relative_to(ROOT)): lines
        for p in sorted((ROOT / package).rglob("*.py"))
        if (lines := unexplained_skips(p.read_text(encoding="utf-8")))
    }
    assert not found, f"`# fmt: skip` without a comment saying why (file: lines): {found}"
