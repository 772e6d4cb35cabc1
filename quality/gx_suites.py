"""Great Expectations suites at the two boundaries, built in code on an ephemeral context (no GX config
folder anywhere), with their Data Docs written to `out/data_docs/` (index.html).

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
import html
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd

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
    ctx.variables.progress_bars = {"globally": False}
    return ctx


def _build_docs(ctx, docs_dir: Path, suite: str) -> None:
    """Each suite has its own Data Docs site under docs_dir/<suite>/; docs_dir/index.html links them."""
    ctx.add_data_docs_site(
        site_name=suite,
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir / suite),
            },
        },
    )
    ctx.build_data_docs(site_names=[suite])
    items = "\n".join(
        f'<li><a href="{html.escape(name)}/index.html">{html.escape(title)}</a></li>'
        for name, title in SUITE_TITLES_VI.items()
        if (docs_dir / name / "index.html").is_file()
    )
    (docs_dir / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>Kiểm tra dữ liệu (Great '
        f"Expectations)</title></head>\n<body><h1>Kiểm tra dữ liệu (Great Expectations)</h1>\n<ul>\n{items}\n"
        "</ul></body></html>\n",
        encoding="utf-8",
    )


def raw_input_frames(
    con: duckdb.DuckDBPyConnection,
    year: str,
    now: dt.datetime | None = None,
    cov: coverage.Coverage | None = None,
) -> dict[str, pd.DataFrame]:
    """The three check frames of the raw boundary: deliveries, freshness and volume (`cov`: the year's
    coverage frames, read here when not given)."""
    now = now or dt.datetime.now()
    con.execute(ROW_COUNTS_DDL)
    cov = cov or coverage.collect(con, year)
    deliveries = cov.matrix.copy()  # shared with the data-quality report: GX gets its own copy
    files = cov.files
    newest = pd.to_datetime(files["ingested_at"]).max() if not files.empty else pd.NaT
    age = (now - newest).total_seconds() / 86400 if pd.notna(newest) else None
    freshness = pd.DataFrame({"school_year": [year], "newest_file_age_days": [age]})
    by_source = cov.by_source
    current = by_source.groupby("entity", as_index=False)["n_rows"].sum()
    prev = con.execute(
        "SELECT entity, arg_max(n_rows, recorded_at) AS prev_rows FROM dq_row_counts WHERE school_year = ? "
        "GROUP BY entity",
        [year],
    ).df()
    volume = current.merge(prev, on="entity", how="left")
    volume["ratio"] = volume["n_rows"] / volume["prev_rows"].where(volume["prev_rows"] > 0)
    return {"deliveries": deliveries, "freshness": freshness, "volume": volume}


def record_row_counts(
    con: duckdb.DuckDBPyConnection, year: str, volume: pd.DataFrame, now: dt.datetime
) -> None:
    """Keep this run's counts for the next run's volume check."""
    con.execute(ROW_COUNTS_DDL)
    for entity, n in zip(volume["entity"], volume["n_rows"], strict=True):
        con.execute("INSERT INTO dq_row_counts VALUES (?, ?, ?, ?)", [year, entity, int(n), now])


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


def _run(ctx, name: str, frames: dict[str, pd.DataFrame], expectations: dict[str, list]) -> SuiteOutcome:
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
        {"expectation": r.expectation_config.type, "kwargs": {k: v for k, v in r.expectation_config.kwargs.items()
                                                              if k != "batch_id"},
         "result": {k: v for k, v in (r.result or {}).items() if k in ("observed_value", "unexpected_count",
                                                                       "partial_unexpected_list")}}
        for res in results for r in res.results if not r.success
    ]  # fmt: skip
    return SuiteOutcome(name, all(r.success for r in results), n, failed, None)


def run_raw_inputs_suite(
    con: duckdb.DuckDBPyConnection,
    year: str,
    docs_dir: Path,
    now: dt.datetime | None = None,
    record: bool = True,
    cov: coverage.Coverage | None = None,
) -> SuiteOutcome:
    """Run the raw-input suite for one school year and write its Data Docs (`cov`: see
    `raw_input_frames`)."""
    now = now or dt.datetime.now()
    frames = raw_input_frames(con, year, now, cov)
    lo, hi = VOLUME_RATIO
    expectations = {
        "deliveries": [
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["school_code", "entity"]),
            gxe.ExpectColumnValuesToNotBeNull(column="school_code"),
            gxe.ExpectColumnValuesToBeInSet(column="delivered", value_set=[True],
                                            meta={"mô_tả": "Mỗi trường nộp đủ các nguồn dữ liệu bắt buộc"}),
        ],
        "freshness": [
            gxe.ExpectColumnValuesToNotBeNull(column="newest_file_age_days",
                                              meta={"mô_tả": "Đã nhận ít nhất một tệp trong năm học"}),
            gxe.ExpectColumnMaxToBeBetween(column="newest_file_age_days", min_value=0,
                                           max_value=MAX_FILE_AGE_DAYS,
                                           meta={"mô_tả": f"Tệp mới nhất không quá {MAX_FILE_AGE_DAYS} ngày"}),
        ],
        "volume": [
            gxe.ExpectColumnValuesToBeBetween(column="ratio", min_value=lo, max_value=hi,
                                              meta={"mô_tả": "Số dòng mỗi nguồn không đổi quá mức so với lần chạy trước"}),
        ],
    }  # fmt: skip
    ctx = _context()
    outcome = _run(ctx, "raw_inputs", frames, expectations)
    _build_docs(ctx, docs_dir, "raw_inputs")
    if record:
        record_row_counts(con, year, frames["volume"], now)
    return SuiteOutcome(outcome.suite, outcome.success, outcome.n_expectations, outcome.failed,
                        docs_dir / "index.html")  # fmt: skip


def run_published_suite(
    scored: pd.DataFrame, scores: pd.DataFrame, docs_dir: Path, level_of=None
) -> SuiteOutcome:
    """Run the published-output suite on the scored values and school scores of one year."""
    frames = published_frames(scored, scores, level_of)
    expectations = {
        "scored_values": [
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["school_code", "criterion_code"],
                                                meta={"mô_tả": "Một dòng cho mỗi trường × tiêu chí"}),
            gxe.ExpectColumnValuesToNotBeNull(column="school_code"),
            gxe.ExpectColumnValuesToNotBeNull(column="criterion_code"),
            gxe.ExpectColumnValuesToBeBetween(column="points", min_value=0,
                                              meta={"mô_tả": "Điểm không âm"}),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="max_points", column_B="points", or_equal=True,
                                                        ignore_row_if="either_value_is_missing",
                                                        meta={"mô_tả": "Điểm không vượt điểm tối đa"}),
        ],
        "school_levels": [
            gxe.ExpectColumnValuesToBeInSet(column="level_consistent", value_set=[True],
                                            meta={"mô_tả": "Mức đạt khớp với tổng điểm các nhóm"}),
        ],
    }  # fmt: skip
    ctx = _context()
    outcome = _run(ctx, "published_outputs", frames, expectations)
    _build_docs(ctx, docs_dir, "published_outputs")
    return SuiteOutcome(outcome.suite, outcome.success, outcome.n_expectations, outcome.failed,
                        docs_dir / "index.html")  # fmt: skip
