"""The data-quality report `out/data_quality_<year>.html`: per school and source, what arrived (files,
rows), what was rejected and why (reason texts, counts, a few examples with file/sheet/row/column),
which files were quarantined and which expected sources are missing, worst schools first; in
Vietnamese.

What belongs here: collecting those aggregates from the warehouse (`collect`) and rendering them
(`render`, jinja2 with autoescape, so every value is HTML-escaped). Privacy (docs/exports.md §6): codes and
aggregates only; a rejected value is shown only when its column is not personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd

from connectors import raw_store
from connectors.entities import load_entities
from connectors.http_lms import PullStatus, latest_pull_status
from connectors.messages import reason_text
from quality import coverage
from quality.audits import Audit, AuditResult, load_audits, run_audit
from reports import deferred_files as deferred
from reports import province_rejects as province
from reports import sheet_accounting
from reports.season import SeasonClock, season_section

EXAMPLES_PER_REASON = 3


@dataclass
class SchoolSection:
    """Everything the report says about one school."""

    school_code: str
    school_name: str
    arrived: list[dict] = field(default_factory=list)  # per source: label, files, rows
    rejected: list[dict] = field(default_factory=list)  # per source × reason: label, reason, count, examples
    quarantined_files: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)  # audit purpose, count
    n_rows: int = 0
    n_rejected: int = 0

    @property
    def severity(self) -> tuple[int, int, int]:
        """Sort key, worst first: quarantined files and missing sources, then rejected rows."""
        return (
            len(self.quarantined_files) + len(self.missing),
            self.n_rejected,
            sum(a["count"] for a in self.audits),
        )


@dataclass
class ReportData:
    school_year: str
    generated_at: dt.datetime
    schools: list[SchoolSection]
    unassigned_files: list[dict]
    lms_api: PullStatus | None = None  # the year's latest pull of the LMS metrics API (None: never pulled)
    accounting_html: str = ""  # reports.sheet_accounting: sheets and columns not read (issue 19)
    season: str = ""  # the season's calendar section, rendered and escaped by reports/season.py
    province_rejects: dict | None = None  # rejects of the province folder's files (reports.province_rejects)
    deferred_files: list[dict] = field(default_factory=list)  # left for the next run (reports.deferred_files)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "schools": len(self.schools),
            "rows": sum(s.n_rows for s in self.schools),
            "rejected": sum(s.n_rejected for s in self.schools),
            "quarantined_files": sum(len(s.quarantined_files) for s in self.schools)
            + len(self.unassigned_files),
            "missing": sum(len(s.missing) for s in self.schools),
        }


def _label(entity: str) -> str:
    return coverage.SOURCE_LABELS_VI.get(entity, entity)


def _pii_columns() -> set[tuple[str, str]]:
    return {(e.name, c) for e in load_entities().values() for c in e.pii_columns}


def _rejects(con: duckdb.DuckDBPyConnection, school_year: str) -> pd.DataFrame:
    return con.execute(
        "SELECT school_code, entity, source_file, source_sheet, source_row, column_letter, header, "
        "canonical_column, reason_code, check_name, value FROM dq_quarantine_rows WHERE school_year = ? "
        "ORDER BY school_code, entity, reason_code, source_file, source_sheet, source_row",
        [school_year],
    ).df()


def audit_counts_by_school(results: Iterable[AuditResult], audits: dict[str, Audit]) -> dict[str, list[dict]]:
    """Per school code: the audits with offending rows there (name, purpose, count, blocking), in the
    order of `results`."""
    out: dict[str, list[dict]] = {}
    for res in results:
        if not res.count:
            continue
        audit = audits[res.name]
        for code, n in res.rows.groupby("school_code").size().items():
            out.setdefault(str(code), []).append(
                {
                    "name": audit.name,
                    "purpose": audit.title_vi,
                    "count": int(n),
                    "blocking": audit.blocking,
                }
            )
    return out


def _na(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _reason(code: object, reason: object) -> str:
    """A quarantined file's reason as the manifest holds it (the Vietnamese text of its code with what
    was found: the likely encoding and how to re-save, the size and the cap…), else its code's text."""
    return str(reason) if not _na(reason) and str(reason) else reason_text(str(code))


def _rejected_by_school(rejects: pd.DataFrame) -> tuple[dict[str, int], dict[str, list[dict]]]:
    """Per school: rejected rows (distinct file × sheet × row) and the rejected-rows table (one entry
    per source × reason, sorted, with its distinct rows and its first examples), from the year's
    quarantine rows in report order. One pass over the frame instead of one filter per school."""
    if rejects.empty:
        return {}, {}
    rows = ["source_file", "source_sheet", "source_row"]
    by = ["school_code", "entity", "reason_code"]
    n_rejected = {
        str(k): int(v)
        for k, v in rejects.drop_duplicates(["school_code", *rows]).groupby("school_code").size().items()
    }
    group = rejects.groupby(by, sort=True, dropna=False).ngroup().to_numpy()
    fresh = ~rejects.duplicated([*by, *rows]).to_numpy()
    distinct = np.bincount(group, weights=fresh, minlength=group.max() + 1)
    seen = np.zeros(group.max() + 1, dtype=np.int64)
    pii = _pii_columns()
    entries: dict[int, dict] = {}
    cols = [*by, *rows, "column_letter", "header", "canonical_column", "check_name", "value"]
    for g, (code, entity, reason, file, sheet, row, letter, header, canonical, check, value) in zip(
        group.tolist(), zip(*(rejects[c].tolist() for c in cols), strict=True), strict=True
    ):
        if g not in entries:
            entries[g] = {
                "code": code,
                "label": _label(str(entity)),
                "reason_code": reason,
                "reason": reason_text(str(reason)),
                "count": int(distinct[g]),
                "examples": [],
            }
        if seen[g] >= EXAMPLES_PER_REASON:
            continue
        seen[g] += 1
        column = canonical or header or letter or ""
        hidden = (entity, canonical) in pii or canonical not in _known_columns(entity)
        entries[g]["examples"].append(
            {
                "file": file,
                "sheet": sheet or "",
                "row": "" if _na(row) else int(row),
                "column": column,
                "check": check or "",
                "value": "(dữ liệu cá nhân, không hiển thị)" if hidden and value else (value or ""),
            }
        )
    out: dict[str, list[dict]] = {}
    for g in sorted(entries):  # group numbers follow the sorted group keys
        entry = entries[g]
        code = entry.pop("code")
        if not _na(code):  # rows without a school belong to no section
            out.setdefault(str(code), []).append(entry)
    return n_rejected, out


def collect(
    con: duckdb.DuckDBPyConnection,
    school_year: str,
    with_audits: bool = True,
    *,
    cov: coverage.Coverage | None = None,
    audit_results: Iterable[AuditResult] | None = None,
    season: SeasonClock | None = None,
) -> ReportData:
    """Gather the report's aggregates for one school year (codes and counts only).

    `cov` (quality.coverage.collect) and `audit_results` (every audit's result for the year) are read
    from the warehouse when not given; a run passes the ones its checks already computed."""
    raw_store.ensure_schema(con)
    cov = cov or coverage.collect(con, school_year)
    schools, by_source, matrix, files = cov.schools, cov.by_source, cov.matrix, cov.files
    rejects = _rejects(con, school_year)
    audits = load_audits()
    if with_audits and audit_results is None:
        audit_results = [run_audit(con, a, school_year) for a in audits.values()]
    per_audit = audit_counts_by_school(audit_results or [], audits) if with_audits else {}
    arrived: dict[str, list[dict]] = {}
    n_rows: dict[str, int] = {}
    for code, e, f, r in zip(
        by_source["school_code"].tolist(),
        by_source["entity"].tolist(),
        by_source["n_files"].tolist(),
        by_source["n_rows"].tolist(),
        strict=True,
    ):
        arrived.setdefault(code, []).append(
            {"label": _label(e), "entity": e, "files": int(f), "rows": int(r)}
        )
        n_rows[code] = n_rows.get(code, 0) + int(r)
    n_rejected, rejected = _rejected_by_school(rejects)
    quarantined: dict[str, list[dict]] = {}
    qf = files[files["status"] == "quarantined"]
    for code, f, rc, why in zip(
        qf["school_code"].tolist(),
        qf["source_file"].tolist(),
        qf["reason_code"].tolist(),
        qf["reason"].tolist(),
        strict=True,
    ):
        if not _na(code):
            quarantined.setdefault(code, []).append(
                {"file": f, "reason_code": rc, "reason": _reason(rc, why)}
            )
    missing: dict[str, list[str]] = {}
    miss = matrix[~matrix["delivered"]]
    for code, e in zip(miss["school_code"].tolist(), miss["entity"].tolist(), strict=True):
        missing.setdefault(code, []).append(_label(e))
    sections: list[SchoolSection] = []
    for code, name in zip(schools["school_code"], schools["school_name"], strict=True):
        key = str(code)
        sec = SchoolSection(key, "" if pd.isna(name) else str(name))
        sec.arrived = arrived.get(code, [])
        sec.n_rows = n_rows.get(code, 0)
        sec.n_rejected = n_rejected.get(key, 0)
        sec.rejected = rejected.get(key, [])
        sec.quarantined_files = quarantined.get(code, [])
        sec.missing = missing.get(code, [])
        sec.audits = per_audit.get(key, [])
        sections.append(sec)
    sections.sort(key=lambda s: (tuple(-x for x in s.severity), s.school_code))
    unassigned = files[files["school_code"].isna() & (files["status"] == "quarantined")]
    return ReportData(
        school_year=school_year,
        generated_at=dt.datetime.now().replace(microsecond=0),
        schools=sections,
        unassigned_files=[
            {"file": f, "reason_code": rc, "reason": _reason(rc, why)}
            for f, rc, why in zip(
                unassigned["source_file"], unassigned["reason_code"], unassigned["reason"], strict=True
            )
        ],
        lms_api=latest_pull_status(con, school_year),
        accounting_html=sheet_accounting.section_html(con, school_year),
        season=season_section(con, school_year, season, cov) if season else "",
        province_rejects=province.province_rejects(con, school_year),
        deferred_files=deferred.deferred_files(con, school_year),
    )


@cache
def _known_columns_cached(entity: str) -> frozenset[str]:
    ent = load_entities().get(str(entity))
    base = {"school_code", "school_year"}
    return frozenset(base | set(ent.column_names) if ent else base)


def _known_columns(entity: str) -> frozenset[str]:
    return _known_columns_cached(str(entity))


TEMPLATE = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Báo cáo chất lượng dữ liệu năm học {{ d.school_year }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.bad { color: #a00; } .ok { color: #070; } section.school { border-top: 2px solid #999; margin-top: 1.5rem; }
</style>
</head>
<body>
<h1>Báo cáo chất lượng dữ liệu năm học {{ d.school_year }}</h1>
<p>Lập lúc {{ d.generated_at.strftime('%H:%M %d/%m/%Y') }}. Báo cáo chỉ gồm mã và số liệu tổng hợp,
không có dữ liệu cá nhân. Các trường có nhiều vấn đề nhất được xếp trước.</p>
<section id="tong-quan">
<h2>Tổng quan</h2>
<table>
<tr><th>Số trường</th><td>{{ d.totals.schools }}</td></tr>
<tr><th>Số dòng đã nhận</th><td>{{ d.totals.rows }}</td></tr>
<tr><th>Số dòng bị loại</th><td>{{ d.totals.rejected }}</td></tr>
<tr><th>Số tệp bị cách ly</th><td>{{ d.totals.quarantined_files }}</td></tr>
<tr><th>Số nguồn dữ liệu còn thiếu</th><td>{{ d.totals.missing }}</td></tr>
</table>
{% if d.lms_api %}
<h3 id="api-lms">Nguồn API số liệu LMS</h3>
<table>
<tr><th>Lần lấy gần nhất</th><td>\
{{ d.lms_api.finished_at.strftime('%H:%M %d/%m/%Y') if d.lms_api.finished_at else '' }}</td></tr>
{% if d.lms_api.failed %}
<tr><th>Kết quả</th><td class="bad">Lỗi: {{ d.lms_api.message_vi }} ({{ d.lms_api.error_code }})</td></tr>
<tr><th>Ảnh hưởng</th><td>Số liệu LMS của lần này không được nạp; các tiêu chí 1.3.x dùng số liệu đã có từ \
trước.</td></tr>
{% else %}
<tr><th>Kết quả</th><td class="ok">Thành công: {{ d.lms_api.pages }} trang, {{ d.lms_api.rows_loaded }} dòng\
</td></tr>
{% endif %}
</table>
{% endif %}
{% if d.unassigned_files %}
<h3>Tệp không xác định được trường</h3>
<table><tr><th>Tệp</th><th>Lý do</th></tr>
{% for f in d.unassigned_files %}<tr><td>{{ f.file }}</td><td>{{ f.reason }} ({{ f.reason_code }})</td></tr>
{% endfor %}</table>
{% endif %}
<!-- province sections -->
{{ d.season|safe }}
</section>
{% for s in d.schools %}
<section class="school" id="truong-{{ s.school_code }}">
<h2>Trường {{ s.school_code }}{% if s.school_name %} — {{ s.school_name }}{% endif %}</h2>
<h3>Dữ liệu đã nhận</h3>
{% if s.arrived %}<table><tr><th>Nguồn dữ liệu</th><th>Số tệp</th><th>Số dòng</th></tr>
{% for a in s.arrived %}<tr><td>{{ a.label }}</td><td>{{ a.files }}</td><td>{{ a.rows }}</td></tr>
{% endfor %}</table>{% else %}<p class="bad">Chưa nhận được dữ liệu nào.</p>{% endif %}
<h3>Dữ liệu bị loại</h3>
{% if s.rejected %}<table><tr><th>Nguồn dữ liệu</th><th>Lý do</th><th>Số dòng</th><th>Ví dụ</th></tr>
{% for r in s.rejected %}<tr><td>{{ r.label }}</td><td>{{ r.reason }} ({{ r.reason_code }})</td><td>\
{{ r.count }}</td>
<td><ul>{% for e in r.examples %}<li>Tệp {{ e.file }}{% if e.sheet %}, trang {{ e.sheet }}\
{% endif %}, dòng {{ e.row }}{% if e.column %}, cột {{ e.column }}{% endif %}{% if e.value %}: giá trị “\
{{ e.value }}”{% endif %}{% if e.check %} [{{ e.check }}]{% endif %}</li>
{% endfor %}</ul></td></tr>
{% endfor %}</table>{% else %}<p class="ok">Không có dòng nào bị loại.</p>{% endif %}
<h3>Tệp bị cách ly</h3>
{% if s.quarantined_files %}<table><tr><th>Tệp</th><th>Lý do</th></tr>
{% for f in s.quarantined_files %}<tr><td>{{ f.file }}</td><td>{{ f.reason }} ({{ f.reason_code }})</td></tr>
{% endfor %}</table>{% else %}<p class="ok">Không có tệp nào bị cách ly.</p>{% endif %}
<h3>Nguồn dữ liệu còn thiếu</h3>
{% if s.missing %}<ul>{% for m in s.missing %}<li>{{ m }}</li>{% endfor %}</ul>
{% else %}<p class="ok">Đã có đủ các nguồn dữ liệu bắt buộc.</p>{% endif %}
<h3>Kiểm tra chéo</h3>
{% if s.audits %}<table><tr><th>Nội dung kiểm tra</th><th>Số trường hợp</th><th>Mức độ</th></tr>
{% for a in s.audits %}<tr><td>{{ a.purpose }}</td><td>{{ a.count }}</td><td>\
{{ 'Chặn công bố' if a.blocking else 'Cảnh báo' }}</td></tr>
{% endfor %}</table>{% else %}<p class="ok">Không phát hiện vấn đề.</p>{% endif %}
</section>
{% endfor %}
{{ d.accounting_html | safe }}
</body>
</html>
"""
# the sections of reports.province_rejects and reports.deferred_files
TEMPLATE = TEMPLATE.replace("<!-- province sections -->\n", province.SECTION + deferred.SECTION)


def render(data: ReportData) -> str:
    """The report as HTML; every value is escaped (autoescape)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(d=data)


def write_report(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    school_year: str,
    *,
    cov: coverage.Coverage | None = None,
    audit_results: Iterable[AuditResult] | None = None,
    season: SeasonClock | None = None,
) -> tuple[Path, ReportData]:
    """Collect, render and write `out_dir/data_quality_<year>.html` (`cov` and `audit_results`: see
    `collect`)."""
    data = collect(con, school_year, cov=cov, audit_results=audit_results, season=season)
    path = Path(out_dir) / f"data_quality_{school_year}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(data), encoding="utf-8")
    return path, data
