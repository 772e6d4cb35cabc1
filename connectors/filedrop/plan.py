"""Step 1 of an ingest run: the plan, one typed decision per inbox file (path checks, the hash, unchanged
files skipped, the content pre-flight checks of new or changed files, files still being written deferred,
byte-identical copies quarantined), and the run's counts (`IngestSummary`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors.filedrop.files import (
    MAX_FILE_BYTES,
    _blocked_sha,
    delivery_of,
    json_too_large,
    parse_order,
    sha256_of,
    unexpected_folder,
)
from connectors.inbox import file_key, walk_inbox
from connectors.readers import SUPPORTED
from connectors.safety import PathChecks, check_content


@dataclass
class IngestSummary:
    """Counts of one ingest run (per file actions and rows)."""

    run_id: str
    files_seen: int = 0
    ingested: int = 0
    replaced: int = 0
    skipped: int = 0
    quarantined: int = 0
    retired: int = 0
    rows_kept: int = 0  # source rows (see FileResult)
    rows_rejected: int = 0
    records_written: int = 0  # records written to the raw tables
    rows_by_entity: dict[str, int] = field(default_factory=dict)  # records written per entity
    changed_files: list[str] = field(default_factory=list)
    compacted: dict[str, tuple[int, int]] = field(default_factory=dict)  # raw table → (dead rows, live rows)
    deferred: list[str] = field(default_factory=list)  # files still being written, left for the next run

    @property
    def changed(self) -> bool:
        return bool(self.ingested or self.replaced or self.quarantined or self.retired)


HOLD_BYTES = 256 * 1024 * 1024  # file contents kept from hashing to parsing (beyond: read again)


@dataclass(frozen=True)
class ManifestEntry:
    """What the manifest knew of a file before this run."""

    sha256: str
    status: str
    entities: tuple[str, ...]


@dataclass
class FileDecision:
    """A new or changed file to take (parse, or quarantine when `blocked`), with what the plan learnt:
    its hash, the pre-flight block, its previous manifest entry and (bounded) the bytes read to hash it."""

    path: Path
    rel: str
    sha256: str
    blocked: tuple[str, str] | None
    prev: ManifestEntry | None
    data: bytes | None = None

    @property
    def delivery(self) -> tuple[str | None, str | None]:
        return delivery_of(Path(self.rel))

    @property
    def prev_entities(self) -> list[str] | None:
        return list(self.prev.entities) if self.prev is not None else None


@dataclass
class Plan:
    """The decisions of one run, in parse order, the unchanged files' events and every file seen."""

    todo: list[FileDecision] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    deferred: list[str] = field(default_factory=list)  # files still being written: left for the next run


def manifest_state(con: duckdb.DuckDBPyConnection) -> dict[str, ManifestEntry]:
    """The manifest's entry of every file it knows."""
    rows = con.execute("SELECT source_file, file_sha256, status, entities FROM ingest_manifest").fetchall()
    return {r[0]: ManifestEntry(r[1], r[2], tuple(e for e in (r[3] or "").split(",") if e)) for r in rows}


def _unchanged(prev: ManifestEntry | None, sha: str) -> bool:
    """The manifest holds this file with this hash (and has not retired it): nothing to do."""
    return prev is not None and prev.sha256 == sha and prev.status != "retired"


def _stat(path: Path) -> tuple[int, int, float]:
    """(size, mtime in ns, mtime in s) of a file (its target when a link); (-1, -1, 0.0) when gone."""
    try:
        st = os.stat(path)
    except OSError:
        return -1, -1, 0.0
    return st.st_size, st.st_mtime_ns, st.st_mtime


def plan_files(
    inbox: Path,
    school_year: str | None,
    known: dict[str, ManifestEntry],
    summary: IngestSummary,
    settle_s: float = 0.0,
) -> Plan:
    """Decide per file, in parse order: the path checks (no read), the hash, unchanged → skipped; only a
    file whose hash the manifest does not hold gets the content checks (zip directory, width…). File
    contents read for the hash are kept for the parse up to HOLD_BYTES. A file still being written —
    modified less than `settle_s` seconds ago, or whose size or mtime changed while it was hashed — is
    deferred: neither read nor retired, its previous version (if any) stays, the next run takes it."""
    plan, checks, held = Plan(), PathChecks(inbox), 0
    copies = _ContentIndex()
    now = dt.datetime.now().timestamp()
    unreadable: list[str] = []
    files = sorted(walk_inbox(inbox, school_year, unreadable), key=parse_order)
    for folder in unreadable:
        unreadable_folder(inbox, folder, known, plan, summary)
    for rel_raw in files:
        path, rel = inbox / rel_raw, file_key(rel_raw)
        plan.seen.add(rel)
        summary.files_seen += 1
        prev = known.get(rel)
        blocked, resolved, size = checks.check(path, rel_raw)
        if not blocked:
            blocked = unexpected_folder(rel) or json_too_large(path.suffix.lower(), size)
        if blocked:  # never read a file that must not be parsed (links out of the inbox, FIFOs, too large)
            sha, data = _blocked_sha(blocked, path), None
        else:
            before = _stat(path)
            if settle_s > 0 and now - before[2] < settle_s:  # written a moment ago: maybe not finished
                plan.deferred.append(rel)
                continue
            try:
                sha, data = _hash(path, size, hold=held + size <= HOLD_BYTES)
            except PermissionError:  # the file is fine, the account running the pipeline may not read it
                blocked = ("permission_denied", "")
                sha, data = _blocked_sha(blocked, path), None
            if not blocked and _stat(path)[:2] != before[:2]:  # written to while it was read
                plan.deferred.append(rel)
                continue
        if not blocked and not _unchanged(prev, sha) and resolved is not None and size:
            blocked = check_content(resolved, path.suffix.lower(), size)
            if blocked:  # zip bombs, encrypted or broken workbooks…: never parsed
                sha, data = _blocked_sha(blocked, path), None
        if not blocked and sha and size and path.suffix.lower() in SUPPORTED:  # files that would be read
            copies.add(rel, path, sha, prev)
        if _unchanged(prev, sha):
            summary.skipped += 1
            plan.skipped.append((rel, sha, "skipped"))
            continue
        held += len(data or b"")
        plan.todo.append(FileDecision(path, rel, sha, blocked, prev, data))
    copies.mark(plan, summary)
    return plan


@dataclass
class _ContentIndex:
    """Files of one delivery folder (year and school, or province) with the same bytes: the first by
    (name length, name) is read, every other one is a copy (`… - Copy.xlsx`, `(1).xls`) quarantined as
    `duplicate_file` naming it, so that nothing is counted twice. A copy keeps that verdict in the
    manifest (its hash there is the blocked one) and is read again on its own once the original goes."""

    groups: dict[tuple[str | None, str | None, str], list[tuple[str, Path, ManifestEntry | None]]] = field(
        default_factory=dict
    )

    def add(self, rel: str, path: Path, sha: str, prev: ManifestEntry | None) -> None:
        self.groups.setdefault((*delivery_of(Path(rel)), sha + path.suffix.lower()), []).append(
            (rel, path, prev)
        )

    def mark(self, plan: Plan, summary: IngestSummary) -> None:
        taken = {d.rel: d for d in plan.todo}
        for members in self.groups.values():
            if len(members) < 2:
                continue
            keep = min(members, key=lambda m: (len(m[0]), m[0]))[0]
            for rel, path, prev in members:
                if rel == keep:
                    continue
                blocked = ("duplicate_file", f"trùng từng byte với tệp {keep}")
                sha = _blocked_sha(blocked, path)
                if prev is not None and prev.sha256 == sha:  # already quarantined as this copy
                    if rel in taken:
                        plan.todo.remove(taken.pop(rel))
                        summary.skipped += 1
                        plan.skipped.append((rel, sha, "skipped"))
                    continue
                if rel in taken:
                    taken[rel].blocked, taken[rel].sha256, taken[rel].data = blocked, sha, None
                else:  # unchanged, loaded earlier: now a copy, its rows go
                    plan.skipped = [e for e in plan.skipped if e[0] != rel]
                    summary.skipped -= 1
                    taken[rel] = FileDecision(path, rel, sha, blocked, prev)
                    plan.todo.append(taken[rel])
        plan.todo.sort(key=lambda d: parse_order(d.rel))


def unreadable_folder(
    inbox: Path, folder: str, known: dict[str, ManifestEntry], plan: Plan, summary: IngestSummary
) -> None:
    """A folder of the inbox the walk could not list (permission denied): a manifest row of its own
    (`<folder>/`, quarantined as `unreadable_folder`, naming it) so that the data-quality report says
    which school's delivery was not read, and the files loaded from it before are kept, not retired (as
    for a file still being written: a permission fixed tomorrow must not have wiped the school today).
    The inbox itself unreadable is an error of the set-up, not of a school: it stops the run."""
    if not folder:
        raise PermissionError(f"cannot list the inbox folder {inbox}")
    rel = file_key(folder) + "/"
    plan.seen.add(rel)
    plan.seen.update(k for k in known if k.startswith(rel))
    summary.files_seen += 1
    blocked = ("unreadable_folder", f"thư mục “{rel}”")
    path = inbox / folder
    sha, prev = _blocked_sha(blocked, path), known.get(rel)
    if _unchanged(prev, sha):
        summary.skipped += 1
        plan.skipped.append((rel, sha, "skipped"))
        return
    plan.todo.append(FileDecision(path, rel, sha, blocked, prev))


def _hash(path: Path, size: int, hold: bool) -> tuple[str, bytes | None]:
    """(sha256, the content when `hold` and it fits a parse) of a file that passed the path checks; ("",
    None) when it cannot be read, but `PermissionError` is raised (the plan says so: `permission_denied`)."""
    try:
        if hold and size <= MAX_FILE_BYTES:  # read once: hash and parse
            data = path.read_bytes()
            return hashlib.sha256(data).hexdigest(), data
        return sha256_of(path), None
    except PermissionError:
        raise
    except OSError:
        return "", None
