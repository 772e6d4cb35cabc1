"""Step 2 of an ingest run: the school registry. The province folder's registry files are found (read in a
worker) so that they are parsed and stored first; then one snapshot (`Registry`) that every other file of
the run is parsed with, and the block of a school folder the registry does not know."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors.filedrop.files import (
    delivery_of,
)
from connectors.filedrop.parse import (
    locate_sheets,
)
from connectors.filedrop.plan import (
    FileDecision,
)
from connectors.layouts import Layout, load_layouts
from connectors.normalize import norm
from connectors.readers import CSV_TYPES, EXCEL_TYPES, read_grids
from connectors.safety import check_sheet_widths
from connectors.sheet_parser import (
    ParseContext,
)
from connectors.workers import Limits, WorkerFailed, run_alone


def school_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """norm(name) → school_code of the registry's schools. The match ignores case, spacing and diacritics
    (so «Tân Hòa» and «Tân Hoà», two spellings of one name, meet); a name that two schools share once
    normalised is left out, so a row naming it is rejected rather than given to either school."""
    rows = con.execute("SELECT DISTINCT name, school_code FROM raw_school WHERE name IS NOT NULL").fetchall()
    codes: dict[str, set[str]] = {}
    for n, c in rows:
        codes.setdefault(norm(n), set()).add(c)
    return {k: next(iter(v)) for k, v in codes.items() if len(v) == 1}


def school_platforms(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """school_code → management_platform (latest year) from the registry."""
    rows = con.execute(
        "SELECT school_code, arg_max(management_platform, school_year) FROM raw_school "
        "WHERE management_platform IS NOT NULL GROUP BY school_code"
    ).fetchall()
    return dict(rows)


@dataclass(frozen=True)
class Registry:
    """A snapshot of the school registry (school names and platforms) that every school file of the run
    is parsed with: parsing a file is a function of its bytes, the layouts and this snapshot."""

    names: dict[str, str] = field(default_factory=dict)
    platforms: dict[str, str] = field(default_factory=dict)
    codes: dict[str, frozenset[str]] = field(default_factory=dict)  # school year → its schools' codes

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Registry:
        rows = con.execute("SELECT DISTINCT school_year, school_code FROM raw_school").fetchall()
        codes: dict[str, set[str]] = {}
        for school_year, code in rows:
            codes.setdefault(str(school_year), set()).add(str(code))
        return cls(school_names(con), school_platforms(con), {y: frozenset(c) for y, c in codes.items()})

    def unknown_school(self, d: FileDecision) -> tuple[str, str] | None:
        """The block of a file delivered in a school folder whose code the registry of that year does not
        hold (None when it does, or when no registry of that year has arrived: nothing to judge by)."""
        school_year, school = d.delivery
        known = self.codes.get(school_year or "")
        if not school or not known or school in known:
            return None
        return ("unknown_school", f"thư mục {school} — năm học {school_year}")

    def context(self, rel: str, hash_key: str) -> ParseContext:
        fy, fs = delivery_of(Path(rel))
        return ParseContext(
            file=rel,
            folder_year=fy,
            folder_school=fs,
            school_names=self.names,
            hash_key=hash_key,
            platform_by_school=self.platforms,
        )


def is_registry_file(d: FileDecision, layouts: tuple[Layout, ...], max_cells: int | None = None) -> bool:
    """A spreadsheet of the province folder one of whose sheets is laid out as the school registry (read
    and its headers located; a file that cannot be read, or is too large to, is not the registry)."""
    if not _registry_candidate(d):
        return False
    try:
        if d.path.suffix.lower() in EXCEL_TYPES and check_sheet_widths(d.data or d.path, max_cells):
            return False
        found, _ = locate_sheets(read_grids(d.path, d.data), layouts)
    except BaseException as exc:  # the parse step reports it
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return False
    return any(m.layout.entity == "school" for _, m in found)


def _registry_candidate(d: FileDecision) -> bool:
    return not d.blocked and d.delivery[1] is None and d.path.suffix.lower() in EXCEL_TYPES | CSV_TYPES


def _registry_probe(args: tuple[list[FileDecision], int | None]) -> list[bool]:
    """Worker side of `split_registry`: `is_registry_file` of each file."""
    layouts = load_layouts()
    return [is_registry_file(d, layouts, args[1]) for d in args[0]]


def split_registry(
    todo: list[FileDecision], limits: Limits | None = None, workers: int | None = None
) -> tuple[list[FileDecision], list[FileDecision]]:
    """(the registry files of the province folder, every other file), each in plan order. The files are
    read in a worker under `limits` (in this process when `workers` is 0); when the worker dies, each
    file alone, and a file whose worker dies alone is not the registry (the parse step quarantines it)."""
    limits = limits or Limits()
    cands = [d for d in todo if _registry_candidate(d)]
    if not cands:
        flags: list[bool] = []
    elif workers == 0:
        flags = _registry_probe((cands, limits.max_cells))
    else:
        try:
            flags = run_alone(_registry_probe, (cands, limits.max_cells), limits)
        except WorkerFailed:
            flags = []
            for d in cands:
                try:
                    flags += run_alone(_registry_probe, ([d], limits.max_cells), limits)
                except WorkerFailed:
                    flags.append(False)
    picked = {id(d) for d, flag in zip(cands, flags, strict=True) if flag}
    return [d for d in todo if id(d) in picked], [d for d in todo if id(d) not in picked]
