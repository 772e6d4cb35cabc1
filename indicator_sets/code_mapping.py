"""School codes across the 2025 reform: the code-mapping file and the year-over-year join it drives.

Since 1 July 2025 there are no districts: a school once under a Phòng GD&ĐT is under a commune or the
Sở, and a merged province brings two registries, whose school codes may repeat. The Sở keeps one CSV
(setting `CDS_CODE_MAPPING`) with one row per school whose code changed:

    old_school_code,old_managing_unit,new_school_code
    08000002,Phòng GD&ĐT huyện Thử Nghiệm,08100002

(Vietnamese headers `Mã trường cũ`, `Đơn vị quản lý cũ`, `Mã trường mới` are read alike). The old code
and the old managing unit together name the school: the same old code under two old units are two
schools. What belongs here: reading and validating the file (`load_code_mapping`: every problem with
its row, in Vietnamese), `previous_code`, the one rule that finds a school's code in last year's data,
and `across_reform`, last year's rows under this year's codes (what every year-over-year comparison
reads: the reviewer page, the feedback packs and last year's verification factor).
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

COLUMNS = ("old_school_code", "old_managing_unit", "new_school_code")
ALIASES = {
    "mã trường cũ": "old_school_code",
    "đơn vị quản lý cũ": "old_managing_unit",
    "mã trường mới": "new_school_code",
}


def _norm(text: object) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text or "")).split()).casefold()


@dataclass(frozen=True)
class MappingRow:
    old_code: str
    old_unit: str
    new_code: str
    line: int  # row in the file (the header is row 1)


@dataclass
class CodeMapping:
    rows: list[MappingRow] = field(default_factory=list)

    def previous_code(self, code: str, previous_units: Mapping[str, str]) -> str | None:
        """The school's code in last year's data: the old code mapped to `code` whose old managing unit
        is the unit last year's registry gives that old code (`previous_units`: code → managing unit);
        `code` itself when no row maps to it; None when rows map to it but none matches last year's
        registry (the school cannot be joined across the reform: no comparison, rather than a wrong one)."""
        rows = [r for r in self.rows if r.new_code == code]
        if not rows:
            return code
        for r in rows:
            unit = previous_units.get(r.old_code)
            if unit is not None and _norm(unit) == _norm(r.old_unit):
                return r.old_code
        return None

    def rekey(
        self, previous: pd.DataFrame, codes: Iterable[str], previous_units: Mapping[str, str]
    ) -> pd.DataFrame:
        """Last year's rows (with a `school_code` column) under this year's codes: for each of `codes`,
        the rows of its `previous_code`, relabelled. A school the mapping names but cannot match gets no
        rows; an old code both kept by one school and mapped to another serves only the school whose
        previous code it is (`previous_code` decides, one rule)."""
        if previous is None or previous.empty:
            return previous
        parts = []
        for code in dict.fromkeys(str(c) for c in codes):
            old = self.previous_code(code, previous_units)
            if old is None:
                continue
            rows = previous[previous["school_code"].astype(str) == old]
            if len(rows):
                parts.append(rows.assign(school_code=code))
        if not parts:
            return previous.iloc[0:0]
        return pd.concat(parts, ignore_index=True)


def previous_units(con: duckdb.DuckDBPyConnection, school_year: str) -> dict[str, str]:
    """School code → managing unit in `year`'s registry (raw_school); empty when the year has none."""
    try:
        rows = con.execute(
            "SELECT school_code, any_value(managing_unit) FROM raw_school WHERE school_year = ? GROUP BY ALL",
            [school_year],
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return {str(c): str(u) for c, u in rows if u is not None}


def across_reform(
    con: duckdb.DuckDBPyConnection,
    previous_year: str,
    previous: pd.DataFrame,
    codes: Iterable[str],
    path: Path | None,
) -> pd.DataFrame:
    """`previous` (rows of `previous_year`) under this year's `codes` through the mapping file at `path`
    (setting CDS_CODE_MAPPING); unchanged without a mapping. An invalid file raises `CodeMappingError`."""
    if path is None or previous is None or previous.empty:
        return previous
    return load_code_mapping(path).rekey(previous, codes, previous_units(con, previous_year))


class CodeMappingError(ValueError):
    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"Tệp ánh xạ mã trường {path.name}: " + "; ".join(problems))


def load_code_mapping(path: Path) -> CodeMapping:
    """Read and validate the mapping file; raises `CodeMappingError` listing every problem (row and
    column named) — a partly wrong mapping is not used at all, since a wrong join is worse than none."""
    problems: list[str] = []
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CodeMappingError(Path(path), [f"không đọc được tệp ({exc.__class__.__name__})"]) from exc
    reader = csv.reader(text.splitlines())
    header = next(reader, [])
    names = [ALIASES.get(_norm(h), _norm(h)) for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise CodeMappingError(Path(path), [f"thiếu cột {', '.join(missing)} ở dòng tiêu đề"])
    idx = {c: names.index(c) for c in COLUMNS}
    rows: list[MappingRow] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        got = {c: (cells[i].strip() if i < len(cells) else "") for c, i in idx.items()}
        empty = [c for c in COLUMNS if not got[c]]
        if empty:
            problems.append(f"dòng {line}: cột {', '.join(empty)} để trống")
            continue
        bad = [c for c in ("old_school_code", "new_school_code") if not got[c].isalnum()]
        if bad:
            problems.append(f"dòng {line}: mã trường '{got[bad[0]]}' (cột {bad[0]}) chỉ được gồm chữ và số")
            continue
        rows.append(
            MappingRow(got["old_school_code"], got["old_managing_unit"], got["new_school_code"], line)
        )
    seen_old: dict[tuple[str, str], MappingRow] = {}
    seen_new: dict[str, MappingRow] = {}
    for r in rows:
        key = (r.old_code, _norm(r.old_unit))
        if key in seen_old:
            problems.append(
                f"dòng {r.line}: trường {r.old_code} ({r.old_unit}) đã có ở dòng {seen_old[key].line}"
            )
        seen_old.setdefault(key, r)
        if (
            r.new_code in seen_new
            and (seen_new[r.new_code].old_code, _norm(seen_new[r.new_code].old_unit)) != key
        ):
            problems.append(
                f"dòng {r.line}: mã mới {r.new_code} đã dùng cho trường khác ở dòng "
                f"{seen_new[r.new_code].line} (hai trường không thể có chung một mã mới)"
            )
        seen_new.setdefault(r.new_code, r)
    olds = {r.old_code for r in rows}
    for r in rows:
        if r.new_code in olds and r.new_code != r.old_code:
            problems.append(
                f"dòng {r.line}: mã mới {r.new_code} cũng là một mã cũ trong tệp (ánh xạ nối tiếp "
                "không được hỗ trợ: ghi thẳng mã cũ nhất sang mã mới nhất)"
            )
    if problems:
        raise CodeMappingError(Path(path), problems)
    return CodeMapping(rows)
