"""Exports stage: the files users take away — the thi đua workbook, the findings CSV, the reviewer
workbook and the static HTML report (all for one school year, in the output folder)."""

import dagster as dg
import duckdb
import pandas as pd

from indicator_sets import decisions as dec
from indicator_sets import reconcile as rc
from indicator_sets.code_mapping import across_reform
from indicator_sets.model import IndicatorSet, load_indicator_set
from pipelines import run_memo
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from pipelines.settings import get_settings
from reports.reviewer_html import write_reviewer_html
from reports.reviewer_workbook import ReviewData, findings_csv, write_reviewer_workbook
from reports.thi_dua import build_summary, build_table, write_thi_dua

REVIEW_DEPS = ["rec_findings", "score_indicators__final", "score_schools__final", "score_schools__self",
               "review_decisions", "score_indicators__proposed", "score_schools__proposed"]  # fmt: skip


def previous_year(year: str) -> str:
    a, b = (int(x) for x in year.split("-"))
    return f"{a - 1}-{b - 1}"


def _table(con: duckdb.DuckDBPyConnection, table: str, year: str) -> pd.DataFrame:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchone()
    if not exists or not exists[0]:
        return pd.DataFrame()
    return con.execute(f"SELECT * FROM {table} WHERE school_year = ?", [year]).df()


#: rows counted kept per school × criterion × role in the reviewer outputs (the rest: `cds explain`)
COUNTED_ROWS_SHOWN = 20


def counted_rows(con: duckdb.DuckDBPyConnection, year: str) -> pd.DataFrame:
    """The year's rows each criterion counted (`mart_indicator_provenance`, read by `pipelines.explain`), at
    most COUNTED_ROWS_SHOWN per school × criterion × role, with how many there are in all (`n_role`)."""
    from pipelines.explain import counted_rows as read_counted

    return read_counted(con, year, limit=COUNTED_ROWS_SHOWN)


def load_review_data(con: duckdb.DuckDBPyConnection, year: str, iset: IndicatorSet) -> ReviewData:
    """Read every table the reviewer outputs need for `year` (and last year's final values, under this
    year's school codes when a code mapping is set: indicator_sets/code_mapping.py)."""
    schools = con.execute(
        "SELECT school_code, school_year, any_value(name) AS school_name, any_value(managing_unit) AS managing_unit, "
        "any_value(commune_code) AS commune_code, any_value(commune_name) AS commune_name, "
        "any_value(level) AS level_code FROM raw_school WHERE school_year = ? GROUP BY ALL", [year]).df()  # fmt: skip
    findings = _table(con, "rec_findings", year)
    if findings.empty:
        findings = pd.DataFrame(columns=rc.FINDING_COLUMNS)
    stored = _table(con, "review_decisions", year)
    return ReviewData(
        year=year, iset=iset, schools=schools, final=_table(con, "score_indicators__final", year), findings=findings,
        states=dec.decision_states(stored, findings), rejects=_table(con, "review_decisions__rejected", year),
        self_scores=_table(con, "score_schools__self", year), final_scores=_table(con, "score_schools__final", year),
        proposed=_table(con, "score_indicators__proposed", year),
        proposed_scores=_table(con, "score_schools__proposed", year),
        previous=across_reform(con, previous_year(year), _table(con, "score_indicators__final", previous_year(year)),
                               schools["school_code"], get_settings().code_mapping),  # under this year's codes
        counted=counted_rows(con, year),
    )  # fmt: skip


def thi_dua_frames(data: ReviewData) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """(main table, summary per unit, verification factors) of the thi đua workbook."""
    units = data.units()
    factors = rc.verification_factors(data.final, units) if len(data.final) else {}
    table = build_table(
        data.final_scores, units.drop_duplicates(rc.KEYS), data.final, self_scores=data.self_scores,
        proposed_scores=data.proposed_scores, proposed=data.proposed, findings=data.findings, states=data.states,
        factors=factors.get("school"), groups=get_settings().thi_dua_groups,
    )  # fmt: skip
    prov = factors.get("province")
    pf = (
        None
        if prov is None or prov.empty or pd.isna(prov["factor"].iloc[0])
        else float(prov["factor"].iloc[0])
    )
    summary = build_summary(table, factors.get("managing_unit"), pf, data.iset)
    return table, summary, factors


def _shared_review(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig
) -> tuple[ReviewData, tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]]:
    """The year's ReviewData and thi đua frames, read and built once per run: the thi đua workbook, the
    reviewer workbook and the HTML report all run after every table they read (REVIEW_DEPS)."""
    year = year_of(context)

    def build() -> tuple[ReviewData, tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]]:
        iset = load_indicator_set(pipeline.indicator_set)
        with warehouse.connect() as con:
            data = load_review_data(con, year, iset)
        return data, thi_dua_frames(data)

    return run_memo.once(context.run_id, ("review", year, pipeline.indicator_set), build)


def _province_code(warehouse: WarehouseResource, year: str) -> str:
    """ "(mã tỉnh NN)" from the school registry when no province name is set."""
    with warehouse.connect() as con:
        row = con.execute(
            "SELECT any_value(province_code) FROM raw_school WHERE school_year = ?", [year]
        ).fetchone()
    return f"(mã tỉnh {row[0]})" if row and row[0] else ""


def build_export_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="thi_dua_workbook", group_name="exports", partitions_def=partitions, deps=REVIEW_DEPS,
              kinds={"excel"}, description="out/thi_dua_<năm học>.xlsx cho Hội đồng thi đua (trang in A4 và trang dữ liệu), kèm "
                                           "out/indicator_values_<năm học>.csv và out/school_scores_<năm học>.csv (phía tính toán cuối cùng).")  # fmt: skip
    def _thi_dua(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        year = year_of(context)
        data, (table, summary, factors) = _shared_review(context, warehouse, pipeline)
        values = data.final  # score_indicators__final: document/mandatory points filled
        if values.empty:
            with warehouse.connect() as con:
                values = _table(con, "score_indicators__scored", year)
        final_scores = data.final_scores  # score_schools__final
        path = write_thi_dua(pipeline.out_path / f"thi_dua_{year}.xlsx", table, year, summary=summary,
                             criterion_factors=factors.get("criterion"), iset=data.iset,
                             province=pipeline.province_name or _province_code(warehouse, year),
                             groups=get_settings().thi_dua_groups)  # fmt: skip
        cols = ["school_code", "school_year", "criterion_code", "numerator", "denominator", "value", "points",
                "status"]  # fmt: skip
        csv_path = pipeline.out_path / f"indicator_values_{year}.csv"
        values.reindex(columns=cols).sort_values(["school_code", "criterion_code"]).to_csv(
            csv_path, index=False
        )
        scores_path = pipeline.out_path / f"school_scores_{year}.csv"
        if not final_scores.empty:  # computed side after reconciliation (mandatory cap from evidence)
            score_cols = [
                c
                for c in final_scores.columns
                if c.startswith(("school_", "group_", "level", "criterion_1_3"))
            ]
            final_scores[score_cols].sort_values("school_code").to_csv(scores_path, index=False)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "schools": len(table),
                "school_scores_csv": dg.MetadataValue.path(str(scores_path)),
                "indicator_values_csv": dg.MetadataValue.path(str(csv_path)),
            }
        )

    @dg.asset(name="findings_csv", group_name="exports", partitions_def=partitions, deps=["rec_findings"],
              kinds={"csv"}, description="out/findings_<năm học>.csv: mỗi phát hiện một dòng, theo thứ tự hàng đợi thẩm định.")  # fmt: skip
    def _findings_csv(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                      pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        year = year_of(context)
        with warehouse.connect() as con:
            found = _table(con, "rec_findings", year)
        frame = findings_csv(found if len(found) else pd.DataFrame(columns=rc.FINDING_COLUMNS))
        path = pipeline.out_path / f"findings_{year}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "rows": len(frame)})

    @dg.asset(name="reviewer_workbook", group_name="exports", partitions_def=partitions, deps=REVIEW_DEPS,
              kinds={"excel"}, description="out/reviewer_<năm học>.xlsx: phát hiện theo đơn vị quản lý, có cột quyết định "
                                           "(danh sách chọn) để điền và gửi lại vào thư mục nhận.")  # fmt: skip
    def _reviewer(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                  pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        year = year_of(context)
        data, _frames = _shared_review(context, warehouse, pipeline)
        path = write_reviewer_workbook(pipeline.out_path / f"reviewer_{year}.xlsx", data)
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)),
                                              "findings": len(data.findings)})  # fmt: skip

    @dg.asset(name="reviewer_report_html", group_name="exports", partitions_def=partitions, deps=REVIEW_DEPS,
              kinds={"html"}, description="out/reviewer_<năm học>.html: báo cáo tĩnh (tổng quan, phát hiện, "
                                          "từng trường kèm so sánh với năm học trước).")  # fmt: skip
    def _html(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
              pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        year = year_of(context)
        data, (table, _summary, factors) = _shared_review(context, warehouse, pipeline)
        path = write_reviewer_html(pipeline.out_path / f"reviewer_{year}.html", data, table, factors)
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})

    return [_thi_dua, _findings_csv, _reviewer, _html]
