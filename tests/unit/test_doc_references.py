"""Every reference to the project's documents resolves inside the repository.

- A reference `docs/<name>.md` names a document that exists; `docs/<name>.md §3.6` (and the sections
  chained after it: `§1.6 and §4`, `§1.2–§1.6`, `§1.1, §3.8, §3.9 B`) names a heading of that
  document that carries the number (`## §3.6 …`); a capital letter after the number (`§3.6 D`)
  names a variant heading (`#### §3.6 D …`).
- Inside `docs/exports.md` and `docs/indicators.md`, a bare `§x` names a heading of the same document.
- No tracked file refers to a document outside the repository (the shared domain and design notes),
  except the paths still listed in `docs/references_pending.txt` (files other work was editing when the
  documents were written; `python docs/rewrite_references.py` rewrites them and deletes the list).
- The rewrite the pending list waits for would produce only references that resolve.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PENDING = DOCS / "references_pending.txt"
#: Documents whose bare `§x` references are checked against their own headings.
SELF_CHECKED = ("exports", "indicators")
#: Files that name the outside documents on purpose (the rewrite and this test).
SELF = {"docs/rewrite_references.py", "tests/unit/test_doc_references.py"}

DOC_REF = re.compile(r"docs/([A-Za-z0-9_\-]+)\.md")
SECTION = re.compile(r"§([A-Z]?\d+(?:\.\d+)*)(?:[ \t]+([A-Z])(?!\w))?")
CHAIN_SEP = re.compile(r"\s*(?:,|;|–|—|-|/|\band\b|\bor\b|\bto\b)\s*(?=§)")
HEADING = re.compile(r"^#{1,6}[ \t]+§([A-Z]?\d+(?:\.\d+)*)\.?(?:[ \t]+([A-Z])(?!\w))?", re.MULTILINE)
OUTSIDE = re.compile(r"(?<![\w/])(?:REAL_EXPORTS|EXPORTS|INDICATORS|ARCHITECTURE|STYLE)\.md")


def _load_rewriter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rewrite_references", DOCS / "rewrite_references.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REWRITER = _load_rewriter()


@cache
def text_files() -> tuple[str, ...]:
    """Tracked (and new, not ignored) text files, as the rewrite script sees them."""
    return tuple(f for f in REWRITER.tracked_files(ROOT) if REWRITER.is_text(f) and (ROOT / f).is_file())


def read(rel: str) -> str:
    return (ROOT / rel).read_text(encoding="utf-8", errors="replace")


def sections_of(text: str) -> set[str]:
    """Section ids of a document's headings: `3.6`, and `3.6 D` for a variant heading."""
    out: set[str] = set()
    for m in HEADING.finditer(text):
        out.add(m.group(1))
        if m.group(2):
            out.add(f"{m.group(1)} {m.group(2)}")
    return out


def references(text: str) -> list[tuple[int, int, str, list[str]]]:
    """(start, end, document, section ids) of every `docs/<name>.md [§…]` reference in `text`."""
    found = []
    for m in DOC_REF.finditer(text):
        pos, ids = m.end(), []
        gap = re.match(r"[ \t]*(?=§)", text[pos:])
        if gap:
            pos += gap.end()
            while True:
                s = SECTION.match(text, pos)
                if not s:
                    break
                ids.append(s.group(1) + (f" {s.group(2)}" if s.group(2) else ""))
                pos = s.end()
                sep = CHAIN_SEP.match(text, pos)
                if not sep:
                    break
                pos = sep.end()
        found.append((m.start(), pos, m.group(1), ids))
    return found


def unresolved(rel: str, text: str) -> list[str]:
    """What a file cites that does not exist, as `file:line: reference`."""
    bad = []
    for start, _, doc, ids in references(text):
        line = text.count("\n", 0, start) + 1
        path = DOCS / f"{doc}.md"
        if not path.is_file():
            bad.append(f"{rel}:{line}: docs/{doc}.md (no such document)")
            continue
        have = sections_of(path.read_text(encoding="utf-8"))
        bad += [f"{rel}:{line}: docs/{doc}.md §{i}" for i in ids if i not in have]
    return bad


def pending_prefixes() -> list[str]:
    if not PENDING.exists():
        return []
    lines = PENDING.read_text(encoding="utf-8").splitlines()
    return [ln.strip().rstrip("/") for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def is_pending(rel: str, prefixes: list[str]) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in prefixes)


def test_every_document_reference_resolves() -> None:
    """Every tracked file but the two that hold made-up references as examples (checked below)."""
    bad = [b for rel in text_files() if rel not in SELF for b in unresolved(rel, read(rel))]
    assert not bad, "references to a missing document or section:\n" + "\n".join(bad)


@pytest.mark.parametrize("doc", SELF_CHECKED)
def test_bare_sections_inside_a_document_resolve(doc: str) -> None:
    text = (DOCS / f"{doc}.md").read_text(encoding="utf-8")
    have = sections_of(text)
    explicit = [(a, b) for a, b, _, _ in references(text)]
    bad = []
    for m in SECTION.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if HEADING.match(text, line_start) or any(a <= m.start() < b for a, b in explicit):
            continue
        sid = m.group(1) + (f" {m.group(2)}" if m.group(2) else "")
        if sid not in have:
            bad.append(f"docs/{doc}.md:{text.count(chr(10), 0, m.start()) + 1}: §{sid}")
    assert not bad, bad


def test_no_reference_to_documents_outside_the_repository() -> None:
    prefixes = pending_prefixes()
    bad = []
    for rel in text_files():
        if rel in SELF or is_pending(rel, prefixes):
            continue
        text = read(rel)
        for m in OUTSIDE.finditer(text):
            bad.append(f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}")
    assert not bad, (
        "references to documents outside the repository (run `python docs/rewrite_references.py`, "
        "or write the section into docs/):\n" + "\n".join(bad)
    )


def test_the_pending_rewrite_would_resolve() -> None:
    """The references the final rewrite produces in the pending files all exist in docs/ already."""
    real_doc = (DOCS / "real_exports.md").is_file()
    prefixes = pending_prefixes()
    bad = []
    for rel in text_files():
        if rel in SELF or not is_pending(rel, prefixes):
            continue
        text = read(rel)
        new = REWRITER.rewrite_text(text, real_doc)
        if new != text:
            bad += unresolved(rel, new)
    assert not bad, "after the rewrite these would not resolve:\n" + "\n".join(bad)


def test_checker_catches_missing_documents_and_sections() -> None:
    text = (
        "see docs/exports.md §3.6 D and §4, docs/exports.md §3.99, docs/exports.md §3.6 Z/B, "
        "docs/no_such_doc.md §1 and docs/indicators.md §5"
    )
    assert [ids for _, _, _, ids in references(text)] == [["3.6 D", "4"], ["3.99"], ["3.6 Z"], ["1"], ["5"]]
    assert unresolved("x.py", text) == [
        "x.py:1: docs/exports.md §3.99",
        "x.py:1: docs/exports.md §3.6 Z",
        "x.py:1: docs/no_such_doc.md (no such document)",
    ]
    sample = "EXPORTS.md §1, REAL_EXPORTS.md, docs/exports.md, MY_STYLE.md"
    assert [m.group(0) for m in OUTSIDE.finditer(sample)] == ["EXPORTS.md", "REAL_EXPORTS.md"]


def test_rewrite_maps_each_kind_of_reference_and_is_idempotent() -> None:
    src = (
        "EXPORTS.md §1.2–§1.6; (EXPORTS.md §3.6 A/B/C); REAL_EXPORTS.md R4; "
        'INDICATORS.md,\n"Reconciliation with the school\'s own score"; '
        'INDICATORS.md ("Definitions the rules use"); '
        "per INDICATORS.md (CSDL export, else platform list); notes (INDICATORS.md); docs/exports.md §2"
    )
    once = REWRITER.rewrite_text(src, False)
    assert once == (
        "docs/exports.md §1.2–§1.6; (docs/exports.md §3.6 A/B/C); REAL_EXPORTS.md R4; "
        'docs/indicators.md §5,\n"Reconciliation with the school\'s own score"; '
        'docs/indicators.md §3 ("Definitions the rules use"); '
        "per docs/indicators.md §3.2 (CSDL export, else platform list); notes (docs/indicators.md); "
        "docs/exports.md §2"
    )
    assert REWRITER.rewrite_text(once, False) == once
    assert REWRITER.rewrite_text("REAL_EXPORTS.md R4", True) == "docs/real_exports.md R4"
    assert unresolved("x.py", once) == []


def test_outside_reference_check_is_not_vacuous() -> None:
    """The repository's references are found: the checks above look at real text."""
    cited = {doc for rel in text_files() for _, _, doc, _ in references(read(rel))}
    assert {"exports", "indicators"} <= cited


def test_readme_links_the_documents() -> None:
    """The README's folder tree has a `docs/` entry naming both documents."""
    tree = re.search(r"^docs/ +(.*\n(?: {20,}.*\n)*)", read("README.md"), re.MULTILINE)
    assert tree, "no docs/ line in the README's folder tree"
    assert "exports.md" in tree.group(1) and "indicators.md" in tree.group(1)
    assert subprocess.run(["git", "check-ignore", "-q", "docs/exports.md"], cwd=ROOT).returncode != 0
