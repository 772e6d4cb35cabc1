"""Rewrite references to the shared domain notes into references to the project's own documents.

What belongs here: the mapping from the names of documents that live outside the repository to the
documents under `docs/` (same section numbers for the export contract; a section chosen by context for
the indicator notes), and the command that applies it to the tracked text files. Idempotent: a
reference already pointing into `docs/` is never matched again.

    python docs/rewrite_references.py                # every tracked text file; then deletes the pending list
    python docs/rewrite_references.py tests README.md # only these paths (prefixes of tracked files)
    python docs/rewrite_references.py --check         # list what would change, exit 1 if anything would

Rules, in order (each name only where it is not already part of a longer name or a path):

- ``EXPORTS.md §3.6`` → ``docs/exports.md §3.6`` (the numbering of `docs/exports.md` is the contract's);
- ``REAL_EXPORTS.md …`` → ``docs/real_exports.md …``, only when that document exists;
- ``INDICATORS.md`` → ``docs/indicators.md §N`` where the words after it name a section (see
  `INDICATOR_SECTIONS`), else ``docs/indicators.md`` (the whole document).

`docs/references_pending.txt` lists the path prefixes that still hold references to rewrite (files other
helpers were editing when the documents were written); `tests/unit/test_doc_references.py` tolerates an
outside reference only there. A run over paths removes them from the list; a run over the whole tree
deletes the list, so the test then checks every file.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PENDING = ROOT / "docs" / "references_pending.txt"
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".sql", ".toml", ".txt", ".cfg", ".ini", ".html", ".j2"}
#: Files that name the outside documents on purpose (they describe this rewrite).
SELF = {"docs/rewrite_references.py", "tests/unit/test_doc_references.py"}

_NOT_PART = r"(?<![\w/])"
EXPORTS_RX = re.compile(_NOT_PART + r"EXPORTS\.md")
REAL_EXPORTS_RX = re.compile(_NOT_PART + r"REAL_EXPORTS\.md")
INDICATORS_RX = re.compile(_NOT_PART + r"INDICATORS\.md")

#: Words following an `INDICATORS.md` reference → the section of `docs/indicators.md` they mean.
#: The words are matched right after the name, past `,`, `(`, spaces and an opening quote.
INDICATOR_SECTIONS: list[tuple[str, str]] = [
    (r"Structure and levels", "§1"),
    (r"The criteria|criteria table", "§2"),
    (r"Definitions the rules use", "§3"),
    (r"CSDL export, else platform list", "§3.2"),
    (r"Computing, rounding", "§4"),
    (r"Reconciliation with the", "§5"),
]
_LEAD = r"[\s,(\"'“]*"


def indicators_target(text: str, end: int) -> str:
    """The replacement of an `INDICATORS.md` reference ending at `end` of `text`."""
    after = text[end : end + 120]
    for words, section in INDICATOR_SECTIONS:
        if re.match(_LEAD + "(?:" + words + ")", after):
            return f"docs/indicators.md {section}"
    return "docs/indicators.md"


def rewrite_text(text: str, real_exports_doc: bool) -> str:
    """`text` with every outside reference rewritten (unchanged when there is none)."""
    text = EXPORTS_RX.sub("docs/exports.md", text)
    if real_exports_doc:
        text = REAL_EXPORTS_RX.sub("docs/real_exports.md", text)
    out: list[str] = []
    last = 0
    for m in INDICATORS_RX.finditer(text):
        out.append(text[last : m.start()])
        out.append(indicators_target(text, m.end()))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def tracked_files(root: Path = ROOT) -> list[str]:
    """Tracked (and new, not ignored) files, relative and `/`-separated."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted({f for f in listing.splitlines() if f})


def is_text(rel: str) -> bool:
    p = Path(rel)
    return p.suffix.lower() in TEXT_SUFFIXES or p.name in {"Makefile", "README"}


def selected(files: list[str], prefixes: list[str]) -> list[str]:
    """The text files among `files` under one of `prefixes` (all of them when none is given)."""
    norm = [p.rstrip("/") for p in prefixes]
    return [
        f
        for f in files
        if is_text(f) and f not in SELF and (not norm or any(f == p or f.startswith(p + "/") for p in norm))
    ]


def update_pending(prefixes: list[str]) -> None:
    """Drop the rewritten prefixes from the pending list; delete the list after a whole-tree run."""
    if not PENDING.exists():
        return
    if not prefixes:
        PENDING.unlink()
        return
    done = [p.rstrip("/") for p in prefixes]
    keep = []
    for line in PENDING.read_text(encoding="utf-8").splitlines():
        entry = line.strip().rstrip("/")
        if entry and not entry.startswith("#") and any(entry == d or entry.startswith(d + "/") for d in done):
            continue
        keep.append(line)
    PENDING.write_text("\n".join(keep) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Rewrite references to the shared domain notes into docs/.")
    ap.add_argument("paths", nargs="*", help="limit to these paths (prefixes of tracked files)")
    ap.add_argument("--check", action="store_true", help="only list the files that would change")
    args = ap.parse_args(argv)
    real_doc = (ROOT / "docs" / "real_exports.md").is_file()
    changed = []
    for rel in selected(tracked_files(), args.paths):
        path = ROOT / rel
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite_text(text, real_doc)
        if new != text:
            changed.append(rel)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for rel in changed:
        print(("would rewrite " if args.check else "rewrote ") + rel)
    if args.check:
        return 1 if changed else 0
    update_pending(args.paths)
    print(f"{len(changed)} file(s) rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
