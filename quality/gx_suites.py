"""Great Expectations suites at the two boundaries, built in code on an ephemeral context (no GX config
folder anywhere), with their report written to `out/data_docs/<school year>/index.html` (one per year;
`out/data_docs/index.html` lists the years).

The report replaces GX's own Data Docs site, which loads Bootstrap, jQuery and Vega from CDNs and so showed
empty or unstyled pages in an office without that access: it is one self-contained HTML file (inline CSS,
no script, no external URL) rendered here from the validation results, in Vietnamese — suite, check and
expectation names, observed values with a decimal comma. Each suite keeps its results beside the page
(`<suite>.json`), so the page always shows both suites of the year, whichever ran last.

- Raw inputs (`raw_inputs`): completeness per school (which expected sources each school delivered),
  freshness of the newest delivered file, and row counts per source within a range of the previous
  run's counts (kept in the small table `dq_row_counts`).
- Published outputs (`published_outputs`): one row per school × criterion in the scored values, points
  within 0..max, and levels consistent with the group totals.

What belongs here: building the check frames (pure pandas from the warehouse), the suites and running
them. Row-level rules are pandera's (quality/schemas.py); cross-row rules are SQL audits.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from quality import coverage

log = logging.getLogger(__name__)

ROW_COUNTS_DDL = """
CREATE TABLE IF NOT EXISTS dq_row_counts (
  school_year VARCHAR, entity VARCHAR, n_rows BIGINT, recorded_at TIMESTAMP
)
"""
MAX_FILE_AGE_DAYS = 8  # deliveries are at least weekly
VOLUME_RATIO = (0.5, 2.0)  # a source may shrink to half or double between runs


@dataclass(frozen=True)
class SuiteOutcome:
    """The result of one suite: success, per-expectation results and where the Data Docs are."""

    suite: str
    success: bool
    n_expectations: int
    failed: list[dict]
    docs_index: Path | None


SUITE_TITLES_VI = {
    "raw_inputs": "Dữ liệu đầu vào (đủ nguồn, độ mới, số dòng)",
    "published_outputs": "Kết quả công bố (điểm theo tiêu chí, mức đạt)",
}


def _context() -> gx.data_context.AbstractDataContext:
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


FRAME_TITLES_VI = {
    "deliveries": "Mỗi trường nộp đủ các nguồn dữ liệu bắt buộc",
    "freshness": "Độ mới của tệp nhận được",
    "volume": "Số dòng mỗi nguồn so với lần chạy trước",
    "scored_values": "Điểm theo trường × tiêu chí",
    "school_levels": "Mức đạt của trường",
}

DOCS_TEMPLATE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Kiểm tra dữ liệu (Great Expectations) – \
năm học {{ school_year }}</title>
<style>
body{font-family:"Segoe UI",Arial,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.4rem 0 1.2rem;width:100%;font-size:14px}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3f9}.ok{color:#070}.bad{color:#a00;font-weight:600}.muted{color:#666;font-size:13px}
</style></head><body>
<h1>Kiểm tra dữ liệu (Great Expectations) – năm học {{ school_year }}</h1>
<p class="muted">Tệp này không cần mạng: mọi định dạng nằm trong tệp. Lần chạy: {{ generated }}.</p>
{% for suite in suites %}
<section id="{{ suite.suite }}">
<h2>{{ suite.title }}: {% if suite.success %}<span class="ok">đạt</span>{% else %}\
<span class="bad">có {{ suite.n_failed }} kiểm tra không đạt</span>{% endif %}</h2>
<p class="muted">Chạy lúc {{ suite.run_at }} · {{ suite.results|length }} kiểm tra</p>
<table><thead><tr><th>Bảng kiểm tra</th><th>Nội dung</th><th>Kết quả</th><th>Giá trị quan sát</th>\
<th>Số dòng không đạt</th><th>Ví dụ</th><th>Tên kỹ thuật</th></tr></thead><tbody>
{% for r in suite.results %}<tr><td>{{ r.frame_title }}</td><td>{{ r.description }}</td>\
<td class="{{ 'ok' if r.success else 'bad' }}">{{ 'Đạt' if r.success else 'Không đạt' }}</td><td>\
{{ r.observed }}</td><td>{{ r.unexpected_count }}</td><td>{{ r.examples }}</td><td class="muted">\
{{ r.expectation }}</td></tr>
{% endfor %}</tbody></table>
</section>
{% else %}<p>Chưa có bộ kiểm tra nào chạy cho năm học này.</p>{% endfor %}
</body></html>
"""

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Kiểm tra dữ liệu (Great Expectations)</title></head>
<body style="font-family:Arial,sans-serif;margin:1.5rem"><h1>Kiểm tra dữ liệu (Great Expectations)</h1>
<ul>{% for y in years %}<li><a href="{{ y }}/index.html">Năm học {{ y }}</a></li>{% endfor %}</ul></body>\
</html>
"""


def _vi_number(v: object) -> str:
    """Observed values for people: numbers with a decimal comma, lists shortened."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "có" if v else "không"
    if isinstance(v, float):
        return f"{v:.4g}".replace(".", ",")
    if isinstance(v, list | tuple):
        return "; ".join(_vi_number(x) for x in list(v)[:5])
    return str(v)


def write_docs(
    docs_dir: Path, school_year: str, outcome_results: list[dict], suite: str, success: bool
) -> Path:
    """Keep this suite's results in docs_dir/<suite>.json and render docs_dir/index.html from every
    suite's results of the year; docs_dir/../index.html lists the years. Returns the year's page."""
    import json

    import jinja2

    docs_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now().replace(microsecond=0)
    (docs_dir / f"{suite}.json").write_text(
        json.dumps(
            {
                "suite": suite,
                "title": SUITE_TITLES_VI.get(suite, suite),
                "success": success,
                "run_at": now.strftime("%H:%M %d/%m/%Y"),
                "results": outcome_results,
                "n_failed": sum(not r["success"] for r in outcome_results),
            },
            ensure_ascii=False,
            default=str,
        ),
        encoding="utf-8",
    )
    suites = [
        json.loads((docs_dir / f"{name}.json").read_text(encoding="utf-8"))
        for name in SUITE_TITLES_VI
        if (docs_dir / f"{name}.json").is_file()
    ]
    env = jinja2.Environment(autoescape=True)
    page = docs_dir / "index.html"
    page.write_text(
        env.from_string(DOCS_TEMPLATE).render(
            school_year=school_year, suites=suites, generated=now.strftime("%H:%M %d/%m/%Y")
        ),
        encoding="utf-8",
    )
    root = docs_dir.parent
    years = sorted(p.name for p in root.iterdir() if (p / "index.html").is_file())
    (root / "index.html").write_text(env.from_string(INDEX_TEMPLATE).render(years=years), encoding="utf-8")
    return page


def raw_input_frames(
    con: duckdb.DuckDBPyConnection,
    school_year: str,
    now: dt.datetime | None = None,
    cov: coverage.Coverage | None = None,
) -> dict[str, pd.DataFrame]:
    """The three check frames of the raw boundary: deliveries, freshness and volume (`cov`: the year's
    coverage frames, read here when not given)."""
    now = now or dt.datetime.now()
    con.execute(ROW_COUNTS_DDL)
    cov = cov or coverage.collect(con, school_year)
    deliveries = cov.matrix.copy()  # shared with the data-quality report: GX gets its own copy
    files = cov.files
    newest = pd.to_datetime(files["ingested_at"]).max() if not files.empty else pd.NaT
    age = (now - newest).total_seconds() / 86400 if pd.notna(newest) else None
    freshness = pd.DataFrame({"school_year": [school_year], "newest_file_age_days": [age]})
    by_source = cov.by_source
    current = by_source.groupby("entity", as_index=False)["n_rows"].sum()
    prev = con.execute(
        "SELECT entity, arg_max(n_rows, recorded_at) AS prev_rows FROM dq_row_counts WHERE school_year = ? "
        "GROUP BY entity",
        [school_year],
    ).df()
    volume = current.merge(prev, on="entity", how="left")
    volume["ratio"] = volume["n_rows"] / volume["prev_rows"].where(volume["prev_rows"] > 0)
    return {"deliveries": deliveries, "freshness": freshness, "volume": volume}


def record_row_counts(
    con: duckdb.DuckDBPyConnection, school_year: str, volume: pd.DataFrame, now: dt.datetime
) -> None:
    """Keep this run's counts for the next run's volume check."""
    con.execute(ROW_COUNTS_DDL)
    for entity, n in zip(volume["entity"], volume["n_rows"], strict=True):
        con.execute("INSERT INTO dq_row_counts VALUES (?, ?, ?, ?)", [school_year, entity, int(n), now])


def published_frames(scored: pd.DataFrame, scores: pd.DataFrame, level_of=None) -> dict[str, pd.DataFrame]:
    """Check frames of the published boundary: scored values and level consistency per school.

    `level_of(points) -> int` maps a group total to its level (the indicator set's); without it the level
    check only compares the school level with its group levels.
    """
    scored = scored.copy()
    levels = pd.DataFrame({"school_code": scores.get("school_code", pd.Series(dtype=str))})
    ok = pd.Series(True, index=scores.index)
    group_levels = [c for c in scores.columns if c.startswith("group_") and c.endswith("_level")]
    for col in group_levels:
        g = col[len("group_") : -len("_level")]
        pts = scores.get(f"group_{g}_points")
        if level_of is not None and pts is not None:
            expected = pts.astype("float64").fillna(0).map(level_of)
            met = scores.get(f"group_{g}_mandatory_met")
            # an unmet mandatory condition may cap the level below what the points give
            exact = scores[col] == expected
            capped = scores[col] <= expected
            ok &= exact | (capped & (met == False) if met is not None else exact)  # noqa: E712
    if group_levels and "level" in scores:
        ok &= scores["level"] == scores[group_levels].min(axis=1)
    levels["level_consistent"] = ok.to_numpy() if len(scores) else []
    return {"scored_values": scored, "school_levels": levels}


def _run(
    ctx, name: str, frames: dict[str, pd.DataFrame], expectations: dict[str, list[gxe.Expectation]]
) -> tuple[SuiteOutcome, list[dict]]:
    source = ctx.data_sources.add_pandas(name=f"{name}_source")
    results = []
    n = 0
    for frame_name, exps in expectations.items():
        asset = source.add_dataframe_asset(name=frame_name)
        batch_def = asset.add_batch_definition_whole_dataframe(f"{frame_name}_batch")
        suite = ctx.suites.add(gx.ExpectationSuite(name=f"{name}.{frame_name}"))
        for e in exps:
            suite.add_expectation(e)
            n += 1
        vd = ctx.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}.{frame_name}", data=batch_def, suite=suite)
        )
        results.append(vd.run(batch_parameters={"dataframe": frames[frame_name]}))
    failed = [
        {
            "expectation": r.expectation_config.type,
            "description": r.expectation_config.description,
            "kwargs": {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"},
            "result": {
                k: v
                for k, v in (r.result or {}).items()
                if k in ("observed_value", "unexpected_count", "partial_unexpected_list")
            },
        }
        for res in results
        for r in res.results
        if not r.success
    ]
    shown = []
    for frame_name, res in zip(expectations, results, strict=True):
        for r in res.results:
            cfg, out = r.expectation_config, r.result or {}
            shown.append(
                {
                    "frame": frame_name,
                    "frame_title": FRAME_TITLES_VI.get(frame_name, frame_name),
                    "expectation": cfg.type,
                    "description": cfg.description or cfg.type,
                    "success": bool(r.success),
                    "observed": _vi_number(out.get("observed_value")),
                    "unexpected_count": ""
                    if out.get("unexpected_count") is None
                    else int(out["unexpected_count"]),
                    "examples": _vi_number(out.get("partial_unexpected_list")),
                }
            )
    return SuiteOutcome(name, all(r.success for r in results), n, failed, None), shown


def run_raw_inputs_suite(
    con: duckdb.DuckDBPyConnection,
    school_year: str,
    docs_dir: Path,
    now: dt.datetime | None = None,
    record: bool = True,
    cov: coverage.Coverage | None = None,
) -> SuiteOutcome:
    """Run the raw-input suite for one school year and write its Data Docs (`cov`: see
    `raw_input_frames`)."""
    now = now or dt.datetime.now()
    frames = raw_input_frames(con, school_year, now, cov)
    lo, hi = VOLUME_RATIO
    expectations: dict[str, list[gxe.Expectation]] = {
        "deliveries": [
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["school_code", "entity"], description="Mỗi trường × nguồn dữ liệu chỉ một dòng"
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="school_code", description="Có mã trường"),
            gxe.ExpectColumnValuesToBeInSet(
                column="delivered",
                value_set=[True],
                description="Mỗi trường nộp đủ các nguồn dữ liệu bắt buộc",
            ),
        ],
        "freshness": [
            gxe.ExpectColumnValuesToNotBeNull(
                column="newest_file_age_days", description="Đã nhận ít nhất một tệp trong năm học"
            ),
            gxe.ExpectColumnMaxToBeBetween(
                column="newest_file_age_days",
                min_value=0,
                max_value=MAX_FILE_AGE_DAYS,
                description=f"Tệp mới nhất không quá {MAX_FILE_AGE_DAYS} ngày",
            ),
        ],
        "volume": [
            gxe.ExpectColumnValuesToBeBetween(
                column="ratio",
                min_value=lo,
                max_value=hi,
                description="Số dòng mỗi nguồn không đổi quá mức so với lần chạy trước",
            ),
        ],
    }
    ctx = _context()
    outcome, shown = _run(ctx, "raw_inputs", frames, expectations)
    page = write_docs(docs_dir, school_year, shown, "raw_inputs", outcome.success)
    if record:
        record_row_counts(con, school_year, frames["volume"], now)
    return SuiteOutcome(outcome.suite, outcome.success, outcome.n_expectations, outcome.failed, page)


def run_published_suite(
    scored: pd.DataFrame, scores: pd.DataFrame, docs_dir: Path, level_of=None, school_year: str = ""
) -> SuiteOutcome:
    """Run the published-output suite on the scored values and school scores of one year (`docs_dir`:
    the year's report folder, out/data_docs/<year>)."""
    frames = published_frames(scored, scores, level_of)
    expectations: dict[str, list[gxe.Expectation]] = {
        "scored_values": [
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["school_code", "criterion_code"],
                description="Một dòng cho mỗi trường × tiêu chí",
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="school_code", description="Có mã trường"),
            gxe.ExpectColumnValuesToNotBeNull(column="criterion_code", description="Có mã tiêu chí"),
            gxe.ExpectColumnValuesToBeBetween(column="points", min_value=0, description="Điểm không âm"),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="max_points",
                column_B="points",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description="Điểm không vượt điểm tối đa",
            ),
        ],
        "school_levels": [
            gxe.ExpectColumnValuesToBeInSet(
                column="level_consistent", value_set=[True], description="Mức đạt khớp với tổng điểm các nhóm"
            ),
        ],
    }
    ctx = _context()
    outcome, shown = _run(ctx, "published_outputs", frames, expectations)
    page = write_docs(docs_dir, school_year or docs_dir.name, shown, "published_outputs", outcome.success)
    return SuiteOutcome(outcome.suite, outcome.success, outcome.n_expectations, outcome.failed, page)
