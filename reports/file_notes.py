"""File-level notes of the ingest for the data-quality report: what the connector did not read in a
file it otherwise took (hidden and very hidden sheets). What belongs here: collecting those notes for
one school year (`file_notes`) and their section of the report (`SECTION`, rendered by
`reports.data_quality` with the rest)."""

from __future__ import annotations

import duckdb

from connectors.messages import reason_text

NOTE_CODES = ("hidden_sheet",)

SECTION = """{% if d.file_notes %}
<h3>Trang tính không được đọc</h3>
<table><tr><th>Tệp</th><th>Trang</th><th>Lý do</th></tr>
{% for n in d.file_notes %}<tr><td>{{ n.file }}</td><td>{{ n.sheet }} ({{ n.detail }})</td><td>{{ n.reason }} ({{ n.reason_code }})</td></tr>
{% endfor %}</table>
{% endif %}
"""


def file_notes(con: duckdb.DuckDBPyConnection, year: str) -> list[dict]:
    """The notes of the current version of every file delivered for `year`, by file and sheet."""
    rows = con.execute(
        "SELECT w.source_file, w.source_sheet, w.reason_code, w.detail FROM ingest_warnings w "
        "JOIN ingest_manifest m ON m.source_file = w.source_file AND m.file_sha256 = w.file_sha256 "
        f"WHERE w.reason_code IN ({', '.join('?' for _ in NOTE_CODES)}) AND m.delivery_year = ? "
        "AND m.status <> 'retired' ORDER BY 1, 2",
        [*NOTE_CODES, year],
    ).fetchall()
    return [
        {"file": f, "sheet": s, "reason_code": c, "reason": reason_text(c), "detail": d}
        for f, s, c, d in rows
    ]
