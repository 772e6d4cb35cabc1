"""The data-quality report's section on what the parser did not read (issue 19, docs/real_exports.md: no
silent loss): per school year, the sheets that gave no rows with the reason (a near miss names the
header it lacks), the non-empty columns of read sheets that no layout column maps (grouped by layout
and header, with the files they came from), and the sheets whose chosen layout won by a small margin
over the runner-up. Read from the manifest's `sheets_report` (written by the file-drop connector).

What belongs here: collecting those lists (`collect`) and rendering the HTML section (`section_html`,
jinja2 with autoescape). Headers and sheet names only: no cell value is shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import jinja2

EXAMPLE_FILES = 3
CLOSE_MARGIN = 2  # a runner-up this close to the chosen layout's score is shown


@dataclass
class Accounting:
    """What the parser left unread in one school year."""

    n_sheets_read: int = 0
    sheets_not_read: list[dict] = field(default_factory=list)  # file, school, sheet, reason_code, detail
    columns_not_read: list[dict] = field(default_factory=list)  # layout, header, count, files
    close_calls: list[dict] = field(default_factory=list)  # file, sheet, layout, score, runner_up, its score

    @property
    def n_columns_not_read(self) -> int:
        return sum(c["count"] for c in self.columns_not_read)


def collect(con: duckdb.DuckDBPyConnection, school_year: str) -> Accounting:
    """The year's accounting from the manifest (files without a report, e.g. JSON, add nothing)."""
    cols = {
        c
        for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'ingest_manifest'"
        ).fetchall()
    }
    acc = Accounting()
    if "sheets_report" not in cols:
        return acc
    rows = con.execute(
        "SELECT source_file, delivery_school, sheets_report FROM ingest_manifest "
        "WHERE delivery_year = ? AND sheets_report IS NOT NULL ORDER BY source_file",
        [school_year],
    ).fetchall()
    by_header: dict[tuple[str, str], dict] = {}
    for file, school, report in rows:
        rep = json.loads(report)
        for s in rep.get("sheets", []):
            acc.n_sheets_read += 1
            for _letter, header in s.get("not_read", []):
                key = (s["layout"], " ".join(str(header).split()) or "(không có tiêu đề)")
                item = by_header.setdefault(
                    key, {"layout": key[0], "header": key[1], "count": 0, "files": []}
                )
                item["count"] += 1
                if file not in item["files"] and len(item["files"]) < EXAMPLE_FILES:
                    item["files"].append(file)
            ru = s.get("runner_up")
            if ru and ru[1] >= s["score"] - CLOSE_MARGIN:
                acc.close_calls.append(
                    {
                        "file": file,
                        "sheet": s["sheet"],
                        "layout": s["layout"],
                        "score": s["score"],
                        "runner_up": ru[0],
                        "runner_up_score": ru[1],
                    }
                )
        for s in rep.get("not_parsed", []):
            acc.sheets_not_read.append({"file": file, "school": school or "", **s})
    acc.columns_not_read = sorted(by_header.values(), key=lambda d: (-d["count"], d["layout"], d["header"]))
    return acc


SECTION = """<section id="khong-doc">
<h2>Trang tính và cột không được đọc</h2>
<p>Mọi trang tính của mọi tệp đều được đọc hoặc được nêu tên dưới đây cùng lý do; mọi cột có dữ liệu của
trang đã đọc đều được đọc hoặc được liệt kê là “không đọc”. Đã đọc {{ a.n_sheets_read }} trang tính;
{{ a.sheets_not_read | length }} trang không cho dòng dữ liệu nào; {{ a.n_columns_not_read }} cột có dữ liệu \
không được đọc.</p>
{% if a.sheets_not_read %}<h3>Trang tính không được đọc</h3>
<table><tr><th>Tệp</th><th>Trang</th><th>Lý do</th></tr>
{% for s in a.sheets_not_read %}<tr><td>{{ s.file }}</td><td>{{ s.sheet }}</td><td>\
{{ s.detail or s.reason_code }} ({{ s.reason_code }})</td></tr>
{% endfor %}</table>{% endif %}
{% if a.columns_not_read %}<h3>Cột có dữ liệu không được đọc</h3>
<table><tr><th>Mẫu báo cáo</th><th>Tiêu đề cột</th><th>Số trang</th><th>Ví dụ tệp</th></tr>
{% for c in a.columns_not_read %}<tr><td>{{ c.layout }}</td><td>{{ c.header }}</td><td>{{ c.count }}</td><td>\
{{ c.files | join(', ') }}</td></tr>
{% endfor %}</table>{% endif %}
{% if a.close_calls %}<h3>Trang tính khớp sát hai mẫu báo cáo</h3>
<table><tr><th>Tệp</th><th>Trang</th><th>Mẫu được chọn (điểm)</th><th>Mẫu xếp thứ hai (điểm)</th></tr>
{% for c in a.close_calls %}<tr><td>{{ c.file }}</td><td>{{ c.sheet }}</td><td>{{ c.layout }} ({{ c.score }})\
</td><td>{{ c.runner_up }} ({{ c.runner_up_score }})</td></tr>
{% endfor %}</table>{% endif %}
</section>
"""


def section_html(con: duckdb.DuckDBPyConnection, school_year: str) -> str:
    """The section as HTML (every value escaped)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(SECTION).render(a=collect(con, school_year))
