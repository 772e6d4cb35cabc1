"""Shared parts of the real-export writers (docs/real_exports.md R1–R9): the expected-reading model, header
rectangles, tick characters, vnEdu local ids, and writing a grid to `.xls` / `.xlsx` with the container
and dimension quirks real files have.

The expected reading (`Expected`) is what a correct parser must get from a file: layout family, metadata
and where it sits, per sheet the header tiers and each column's canonical meaning, the records (values
per pupil, rows per school) and the non-empty columns. `docs/real_exports.md` documents the format.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from collections.abc import Container
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .real_container import phpexcel_container, workbook_stream
from .sheets import Grid
from .writers import ZIP_DATE, write_xls, write_xlsx

#: The Wingdings check mark vnEdu writes (shown as ✓ in Excel), then the other vendors' ticks.
TICK = "\uf0fc"
TICKS: tuple[str | int, ...] = (TICK, "✓", "✔", "x", "X", 1)
#: The 63 two-digit province codes (GSO, before the 2025 merger; the 34 kept codes are among them).
_CODES = (
    "01 02 04 06 08 10 11 12 14 15 17 19 20 22 24 25 26 27 30 31 33 34 35 36 37 38 40 42 44 "
    "45 46 48 49 51 52 54 56 58 60 62 64 66 67 68 70 72 74 75 77 79 80 82 83 84 86 87 89 91 92 93 94 95 96"
)
PROVINCE_CODES = frozenset(_CODES.split(" "))
#: Two-digit prefixes that are no province code and do not start with 0 (a number keeps all 10 digits).
LOCAL_PREFIXES = tuple(f"{k:02d}" for k in range(10, 100) if f"{k:02d}" not in PROVINCE_CODES)
EXPECTED_VERSION = 1


def vnedu_local_id(rng: random.Random, used: set[str]) -> str:
    """A 10-digit vnEdu local pupil id whose first two digits are no province code (unique in `used`)."""
    while True:
        v = rng.choice(LOCAL_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if v not in used:
            used.add(v)
            return v


def col_letter(c: int) -> str:
    """0-based column index → Excel letters."""
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def year_spaced(year: str) -> str:
    """`2024-2025` → `2024 - 2025` (how vnEdu titles write the school year)."""
    return year.replace("-", " - ")


# ----------------------------------------------------------------------------------------- expected
@dataclass
class ExpectedColumn:
    """One column: its letter, header path (tier labels, top first, merged parents filled in) and meaning.

    `meaning` is a canonical column (`local_id`, `moet_id`, `full_name`, `dob`, …), a mark
    `<component>:<subject>` (`level:TOAN`, `test_score:TOAN`, `competence:NL_TUCHU`, `quality:PC_YEUNUOC`,
    `avg_sem:KHTN`, `tx1:TOAN`, …), a tick (`final:HTXS`, `award:year_end`, `not_promoted`, `female`),
    or `ignore` (STT) / `note` (free text nobody reads).
    """

    letter: str
    path: list[str]
    meaning: str


@dataclass
class ExpectedSheet:
    name: str
    read: bool  # False: a code-list sheet the parser may ignore (it still has to name it)
    header_rows: list[int] = field(default_factory=list)  # 1-based sheet rows of the header tiers
    first_data_row: int | None = None
    columns: list[ExpectedColumn] = field(default_factory=list)
    non_empty: list[str] = field(default_factory=list)  # letters of columns with a non-blank data cell
    metadata: dict[str, Any] = field(default_factory=dict)  # sheet-level metadata (class, subject, block)
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Expected:
    """How a correct parser reads one file (see docs/real_exports.md)."""

    structure: str  # R1 … R9
    file: str  # file name (relative inbox path when written by the generator)
    fmt: str  # xls | xlsx
    entity: str  # canonical entity of the records
    layout: str  # suggested layout family (a name, not a binding id)
    metadata: dict[str, Any]  # school_year, period, semester, school_code …: value and where it sits
    sheets: list[ExpectedSheet]
    container: str = "valid"  # valid | phpexcel_single_chain (xlrd refuses unless tolerant)
    declared_dimension: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    quarantine: str | None = None  # the whole file's expected outcome when it cannot be read
    version: int = EXPECTED_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, default=_json_default) + "\n"

    def n_records(self) -> int:
        return sum(len(s.records) for s in self.sheets)


def _json_default(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def read_expected(path: Path) -> Expected:
    """An `Expected` back from its JSON (as written by `write_expected`)."""
    d = json.loads(path.read_text(encoding="utf-8"))
    sheets = [
        ExpectedSheet(**{**s, "columns": [ExpectedColumn(**c) for c in s["columns"]]})
        for s in d.pop("sheets")
    ]
    return Expected(**d, sheets=sheets)


def write_expected(path: Path, exp: Expected) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(exp.to_json(), encoding="utf-8")


# ------------------------------------------------------------------------------------------- header
@dataclass(frozen=True)
class Rect:
    """A header label in its merged rectangle (0-based, inclusive); the label sits in the top-left cell."""

    r0: int
    c0: int
    r1: int
    c1: int
    label: str


class Canvas:
    """A sheet being laid out: cells by (row, col), header rectangles (written and merged), merges."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], Any] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.rects: list[Rect] = []

    def put(self, r: int, c: int, v: Any) -> None:
        if v is not None and v != "":
            self.cells[(r, c)] = v

    def row(self, r: int, values: list[Any], c0: int = 0) -> None:
        for k, v in enumerate(values):
            self.put(r, c0 + k, v)

    def merge(self, r0: int, c0: int, r1: int, c1: int) -> None:
        if (r0, c0) != (r1, c1):
            self.merges.append((r0, c0, r1, c1))

    def rect(self, r0: int, c0: int, r1: int, c1: int, label: str) -> None:
        self.rects.append(Rect(r0, c0, r1, c1, label))
        self.put(r0, c0, label)
        self.merge(r0, c0, r1, c1)

    def path(self, c: int, rows: range) -> list[str]:
        """Header path of column `c` over the tier `rows`: each rectangle covering it, top first, once."""
        out: list[str] = []
        for r in rows:
            for x in self.rects:
                if x.r0 == r and x.c0 <= c <= x.c1:
                    out.append(x.label)
        return out

    def grid(self) -> Grid:
        if not self.cells:
            return Grid([], list(self.merges), [])
        nrow = max(r for r, _c in self.cells) + 1
        rows: list[list[Any]] = [[] for _ in range(nrow)]
        for (r, c), v in sorted(self.cells.items()):
            row = rows[r]
            row.extend([None] * (c + 1 - len(row)))
            row[c] = v
        return Grid(rows, list(self.merges), [])

    def non_empty(self, cols: Container[int], rows: Container[int]) -> list[str]:
        """Letters of the columns in `cols` with a non-blank cell in `rows`."""
        seen = {c for (r, c), v in self.cells.items() if r in rows and c in cols and str(v).strip()}
        return [col_letter(c) for c in sorted(seen)]


# ------------------------------------------------------------------------------------------- files
def write_book(path: Path, sheets: list[tuple[str, Grid]], fmt: str, container: str = "valid") -> None:
    """Write grids as `.xlsx` or `.xls`; `container='phpexcel_single_chain'` rebuilds the `.xls` container
    with the defect of `real_container.phpexcel_container` (xlrd refuses it unless tolerant)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        write_xlsx(path, sheets)
        return
    write_xls(path, sheets)
    if container == "phpexcel_single_chain":
        path.write_bytes(phpexcel_container(workbook_stream(path.read_bytes())))
    elif container != "valid":
        raise ValueError(f"unknown container {container!r}")


_DIM = re.compile(rb'<dimension ref="[^"]*"/>')


def set_xlsx_dimension(path: Path, ref: str) -> None:
    """Rewrite every sheet's declared `<dimension ref>` to `ref` (a wrong one), keeping the zip
    deterministic."""
    zin = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _DIM.sub(f'<dimension ref="{ref}"/>'.encode(), data, count=1)
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            zout.writestr(zi, data)
    path.write_bytes(out.getvalue())
