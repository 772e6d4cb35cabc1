"""SQL audits (`dbt_like_sql/audits/*.sql`): cross-row business invariants as queries returning the
offending rows. What belongs here: reading an audit's header (purpose, grain, the asset it checks and
whether it blocks), running it for one school year, and the count + markdown preview that the asset
checks publish. The SQL itself stays in the `.sql` files; the Dagster wiring is in
`pipelines/assets/checks.py`.

Header keys of an audit file (one `-- key: value` line each): `purpose`, `vi` (the same in Vietnamese: the
text people read in the Dagster UI and the data-quality report), `grain`, `asset` (the asset key the check
is attached to) and `blocking` (`true` stops downstream assets when offending rows exist).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from pandas.api.typing import NaTType, NAType

from warehouse.sql_models import SQL_ROOT, SqlModel, discover_audits

PREVIEW_ROWS = 10


@dataclass(frozen=True)
class Audit:
    """One audit query and how it is exposed as an asset check."""

    model: SqlModel
    asset: str
    blocking: bool

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def title_vi(self) -> str:
        """The Vietnamese description (`-- vi:` header), for the UI and the data-quality report."""
        return _header(self.model.sql, "vi") or self.model.purpose

    @property
    def description(self) -> str:
        return f"{self.title_vi} (mỗi dòng: {self.model.grain})"


@dataclass(frozen=True)
class AuditResult:
    """What one audit found for one school year."""

    name: str
    count: int
    rows: pd.DataFrame

    @property
    def passed(self) -> bool:
        return self.count == 0

    def preview_markdown(self, n: int = PREVIEW_ROWS) -> str:
        return to_markdown(self.rows.head(n))


def _header(text: str, key: str) -> str:
    m = re.search(rf"^--\s*{key}\s*:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
    return m.group(1).strip() if m else ""


def load_audits(root: Path = SQL_ROOT) -> dict[str, Audit]:
    """Every audit with its target asset and blocking flag (both required in the header)."""
    out: dict[str, Audit] = {}
    for name, model in discover_audits(root).items():
        asset = _header(model.sql, "asset")
        blocking = _header(model.sql, "blocking").lower()
        if not asset or blocking not in ("true", "false"):
            raise ValueError(f"audit {name}: header needs '-- asset: <key>' and '-- blocking: true|false'")
        out[name] = Audit(model=model, asset=asset, blocking=blocking == "true")
    return out


def run_audit(con: duckdb.DuckDBPyConnection, audit: Audit, school_year: str | None = None) -> AuditResult:
    """Run one audit (optionally for one school year); missing input tables count as no rows."""
    body = audit.model.sql.strip().rstrip(";")
    missing = [t for t in audit.model.reads if not _table_exists(con, t)]
    if missing:
        return AuditResult(audit.name, 0, pd.DataFrame())
    if school_year is None:
        rows = con.execute(body).df()
    else:
        rows = con.execute(f"SELECT * FROM (\n{body}\n) AS audit WHERE school_year = ?", [school_year]).df()
    return AuditResult(audit.name, len(rows), rows)


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    (n,) = con.execute(q, [name]).fetchone() or (0,)
    return bool(n)


def _cell(
    v: str | float | dt.date | dt.timedelta | list[Any] | tuple[Any, ...] | NAType | NaTType | None,
) -> str:
    if v is None or (not isinstance(v, (str, list, tuple)) and pd.isna(v)):
        return ""
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_markdown(frame: pd.DataFrame) -> str:
    """A small markdown table (no dependency on tabulate)."""
    if frame.empty:
        return "_(không có dòng nào)_"
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)
