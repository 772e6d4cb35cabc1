"""Files the last ingest left for the next run because they were still being written (modified less
than `CDS_INGEST_SETTLE_SECONDS` before the run, or while it read them), for the data-quality report.
What belongs here: collecting them for one school year (`deferred_files`, from `ingest_pending`) and
their section of the report (`SECTION`, rendered by `reports.data_quality` with the rest)."""

from __future__ import annotations

import duckdb

SECTION = """{% if d.deferred_files %}
<h3>Tệp đang được ghi, chưa đọc</h3>
<p>Các tệp sau vừa được sửa ngay trước hoặc trong lúc chạy (có thể đang được sao chép hoặc lưu dở) nên chưa
được đọc; lần chạy sau sẽ đọc. Nếu trường đã nộp bản trước của tệp, số liệu của bản trước vẫn được dùng.</p>
<table><tr><th>Tệp</th><th>Hoãn từ lúc</th></tr>
{% for f in d.deferred_files %}<tr><td>{{ f.file }}</td><td>{{ f.since.strftime('%H:%M:%S %d/%m/%Y') }}</td>\
</tr>
{% endfor %}</table>
{% endif %}
"""


def deferred_files(con: duckdb.DuckDBPyConnection, school_year: str) -> list[dict]:
    """The files of `year` the last ingest deferred, by name, with when they were first deferred."""
    from connectors.filedrop import DEFERRED

    tables = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'ingest_pending'")
    (n_tables,) = tables.fetchone() or (0,)
    if not n_tables:
        return []
    rows = con.execute(
        "SELECT substr(step, ?), since FROM ingest_pending WHERE starts_with(step, ?) ORDER BY 1",
        [len(DEFERRED) + 1, f"{DEFERRED}{school_year}/"],
    ).fetchall()
    return [{"file": f, "since": since} for f, since in rows]
