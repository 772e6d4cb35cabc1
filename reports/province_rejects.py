"""Rejected rows of the province folder's files (the school registry, province-wide lists) for the
data-quality report: they belong to no school, so the per-school sections do not show them. What belongs
here: collecting those rejects for one school year (`province_rejects`) and their section of the report
(`SECTION`, rendered by `reports.data_quality` with the rest)."""

from __future__ import annotations

import duckdb

MAX_SHOWN = 200  # rows listed; the section says how many there are in all

SECTION = """{% if d.province_rejects %}
<h3>Dòng bị loại trong tệp của Sở (thư mục province)</h3>
<p>{{ d.province_rejects.total }} dòng bị loại\
{% if d.province_rejects.total > d.province_rejects.rows | length %}
(liệt kê {{ d.province_rejects.rows | length }} dòng đầu){% endif %}.</p>
<table><tr><th>Tệp</th><th>Mô tả</th></tr>
{% for r in d.province_rejects.rows %}<tr><td>{{ r.file }}</td><td>{{ r.message }} ({{ r.reason_code }})</td>\
</tr>
{% endfor %}</table>
{% endif %}
"""

_OF_YEAR = (
    "FROM dq_quarantine_rows q JOIN ingest_manifest m ON m.source_file = q.source_file AND m.file_sha256 = "
    "q.file_sha256 WHERE m.delivery_year = ? AND m.delivery_school IS NULL AND m.status <> 'retired' "
    "AND q.stage = 'ingest'"
)


def province_rejects(con: duckdb.DuckDBPyConnection, school_year: str) -> dict | None:
    """The rejects of the current version of every province-folder file of `year`: their number and the
    first MAX_SHOWN by file, sheet and row (each message names the file, sheet, row and column; personal
    values are masked in it). None when there are none."""
    (total,) = con.execute(f"SELECT count(*) {_OF_YEAR}", [school_year]).fetchone() or (0,)
    if not total:
        return None
    rows = con.execute(
        f"SELECT q.source_file, q.reason_code, q.message {_OF_YEAR} "
        "ORDER BY q.source_file, q.source_sheet, q.source_row, q.column_letter LIMIT ?",
        [school_year, MAX_SHOWN],
    ).fetchall()
    return {"total": total, "rows": [{"file": f, "reason_code": c, "message": m} for f, c, m in rows]}
