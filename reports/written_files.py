"""Which output files a run may leave as they are: the bookkeeping of files written from a content
fingerprint (the warehouse table `ops_export_files`, created by `warehouse.tables.OPS_EXPORT_FILES_DDL`).

What belongs here: the fingerprint of what a file is made from (`fingerprint`: the values themselves, plus
`code_version`: the source of the `reports` package, its templates, the modules outside it whose code the
writers run and the writing libraries' versions) and `WrittenFiles`, which says whether a file must be written
again and records what was written. A file is left as it is only when its fingerprint equals the recorded one
AND the file on disk still holds the bytes recorded for it (their SHA-256): a missing, edited or truncated
file is always written again, so the outputs are those of a full re-render. Files are named relative to the
folder given (e.g. the year's pack folder), so a copied output folder with its warehouse keeps its
bookkeeping.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from connectors.filedrop.files import sha256_of
from warehouse.tables import OPS_EXPORT_FILES_DDL

_REPORTS = Path(__file__).resolve().parent
# modules outside `reports` whose code the writers run on the values they are given (the connectors'
# reason texts, the indicator set's accessors): part of the code's version
_USED_SOURCES = (
    _REPORTS.parent / "connectors" / "messages.py",
    _REPORTS.parent / "indicator_sets" / "model.py",
)
_LIBRARIES = ("xlsxwriter", "jinja2", "markupsafe", "pandas")


@cache
def code_version() -> str:
    """SHA-256 of every source file of the `reports` package and its templates and of the modules it
    runs (`_USED_SOURCES`), with the versions of the libraries that write the files: a change to any of
    them writes every file again."""
    h = hashlib.sha256()
    for path in sorted([*_REPORTS.glob("*.py"), *(_REPORTS / "templates").rglob("*"), *_USED_SOURCES]):
        if path.is_file():
            h.update(path.relative_to(_REPORTS.parent).as_posix().encode())
            h.update(path.read_bytes())
    for lib in _LIBRARIES:
        h.update(f"{lib}=={importlib.metadata.version(lib)}".encode())
    return h.hexdigest()


def _canonical(value: Any) -> Any:
    """A value as plain Python whose `repr` is exact (floats round-trip; column types and index
    included); a frame's columns are taken whole (`tolist`), their cells' `repr` being exact."""
    if isinstance(value, pd.DataFrame):
        return (
            "frame",
            [str(c) for c in value.columns],
            [str(t) for t in value.dtypes],
            value.index.tolist(),
            [value.iloc[:, j].tolist() for j in range(value.shape[1])],
        )
    if isinstance(value, pd.Series):
        return ("series", str(value.dtype), value.index.tolist(), value.tolist())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            [(f.name, _canonical(getattr(value, f.name))) for f in dataclasses.fields(value)],
        )
    if isinstance(value, dict):
        return ("dict", [(_canonical(k), _canonical(v)) for k, v in value.items()])
    if isinstance(value, set | frozenset):
        return ("set", sorted(repr(_canonical(v)) for v in value))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_canonical(v) for v in value])
    return value


def rows_by(frame: pd.DataFrame | None, column: str) -> tuple[Any, dict[str, str]]:
    """A frame taken apart by the value of one column, for fingerprints of its groups without a frame
    per group: (its column names and types, {value: the `repr` of that value's rows as tuples, in their
    order}). Rows whose `column` is missing belong to no group; the index is left out. Each row's values
    are taken whole (`tolist`), their `repr` being exact, as `fingerprint` takes a frame's."""
    if frame is None:
        return None, {}
    head = ([str(c) for c in frame.columns], [str(t) for t in frame.dtypes])
    if column not in frame.columns or frame.empty:
        return head, {}
    groups: dict[str, list[tuple]] = {}
    columns = [frame.iloc[:, j].tolist() for j in range(frame.shape[1])]
    for value, row in zip(frame[column].tolist(), zip(*columns, strict=True), strict=True):
        if value is not None and not (isinstance(value, float) and value != value) and value is not pd.NA:
            groups.setdefault(str(value), []).append(row)
    return head, {value: repr(rows) for value, rows in groups.items()}


def fingerprint(*parts: Any) -> str:
    """SHA-256 of the values a file is made from (frames, dataclasses, lists, dicts, scalars) and of
    `code_version()`. Two calls agree exactly when every value, its type and every column type agree."""
    h = hashlib.sha256(code_version().encode())
    for part in parts:
        h.update(repr(_canonical(part)).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def file_sha(path: Path) -> str | None:
    """SHA-256 of a file's bytes (the file drop's one hash of a file), or None when there is no such file."""
    try:
        return sha256_of(path)
    except FileNotFoundError:
        return None


@dataclasses.dataclass
class WrittenFiles:
    """The files of one kind (e.g. `school_pack`) of one school year written under the folder `out`, as
    recorded in `ops_export_files`, and what this run wrote or left."""

    school_year: str
    kind: str
    out: Path
    recorded: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)  # name → (fp, sha)
    written: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    kept: set[str] = dataclasses.field(default_factory=set)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, school_year: str, kind: str, out: Path) -> WrittenFiles:
        con.execute(OPS_EXPORT_FILES_DDL)
        rows = con.execute(
            "SELECT output, fingerprint, file_sha256 FROM ops_export_files "
            "WHERE school_year = ? AND kind = ?",
            [school_year, kind],
        ).fetchall()
        return cls(school_year, kind, Path(out), {r[0]: (r[1], r[2]) for r in rows})

    def _name(self, path: Path) -> str:
        return path.resolve().relative_to(self.out.resolve()).as_posix()

    def up_to_date(self, paths: Iterable[Path], fp: str) -> bool:
        """True when every one of `paths` was recorded with fingerprint `fp` and still holds the bytes
        recorded for it; those files are then counted as kept."""
        names = [(self._name(p), p) for p in paths]
        for name, path in names:
            rec = self.recorded.get(name)
            if rec is None or rec[0] != fp or file_sha(path) != rec[1]:
                return False
        self.kept.update(name for name, _ in names)
        return True

    def wrote(self, path: Path, fp: str) -> None:
        """Record that `path` was just written from fingerprint `fp` (with the SHA-256 of its bytes)."""
        sha = file_sha(path)
        if sha is not None:
            self.written[self._name(path)] = (fp, sha)

    def save(self, con: duckdb.DuckDBPyConnection) -> None:
        """Store the files written by this run (kept ones keep their row); a file recorded but neither
        written nor kept this run (a school no longer listed) is forgotten."""
        con.execute(OPS_EXPORT_FILES_DDL)
        stale = [n for n in self.recorded if n not in self.written and n not in self.kept]
        gone = pd.DataFrame({"output": [*stale, *self.written]}, dtype="string")
        rows = pd.DataFrame(
            [(name, fp, sha) for name, (fp, sha) in self.written.items()],
            columns=["output", "fingerprint", "file_sha256"],
            dtype="string",
        )
        con.register("_gone", gone)
        con.register("_written", rows)
        try:
            con.execute(
                "DELETE FROM ops_export_files WHERE school_year = ? AND kind = ? "
                "AND output IN (SELECT output FROM _gone)",
                [self.school_year, self.kind],
            )
            con.execute(
                "INSERT INTO ops_export_files "
                "SELECT ?, ?, output, fingerprint, file_sha256, now() FROM _written",
                [self.school_year, self.kind],
            )
        finally:
            con.unregister("_gone")
            con.unregister("_written")
