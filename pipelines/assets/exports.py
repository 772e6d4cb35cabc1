"""Exports stage: the files users take away — the thi đua workbook, the findings CSV, the reviewer
workbook and the static HTML report (all for one school year, in the output folder).

The tables they show are read once per run by the `review_data` asset (reports/review_exports.py does
the reading) and handed to the writers as an asset input (Dagster's IO manager: in memory for `cds run`,
the instance's storage in `dagster dev`); each writer asset only calls a writer of `reports/`."""

import dagster as dg
import pandas as pd

from indicator_sets import reconcile as rc
from indicator_sets.model import load_indicator_set
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from pipelines.settings import get_settings
from reports.review_exports import Review, load_review, write_value_csvs, year_rows
from reports.reviewer_html import write_reviewer_html
from reports.reviewer_workbook import findings_csv, write_reviewer_workbook
from reports.thi_dua import write_thi_dua

REVIEW_DEPS = [
    "rec_findings",
    "score_indicators__final",
    "score_schools__final",
    "score_schools__self",
    "review_decisions",
    "score_indicators__proposed",
    "score_schools__proposed",
]


def _review_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="review_data",
        group_name="exports",
        partitions_def=partitions,
        deps=REVIEW_DEPS,
        kinds={"python"},
        description="Dữ liệu chung của các tệp thẩm định trong một năm học (bảng thi đua, phát hiện, "
        "quyết định, điểm các phía, năm học trước), đọc một lần cho mỗi lượt chạy.",
    )
    def _review(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig
    ) -> Review:
        school_year = year_of(context)
        iset = load_indicator_set(pipeline.indicator_set)
        settings = get_settings()
        with warehouse.connect() as con:
            review = load_review(con, school_year, iset, settings.code_mapping, settings.thi_dua_groups)
        context.add_output_metadata({"schools": len(review.table), "findings": len(review.data.findings)})
        return review

    return _review


def _thi_dua_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="thi_dua_workbook",
        group_name="exports",
        partitions_def=partitions,
        kinds={"excel"},
        description="out/thi_dua_<năm học>.xlsx cho Hội đồng thi đua (trang in A4 và trang dữ liệu), kèm "
        "out/indicator_values_<năm học>.csv và out/school_scores_<năm học>.csv (phía tính toán cuối cùng).",
    )
    def _thi_dua(
        context: dg.AssetExecutionContext, review_data: Review, pipeline: PipelineConfig
    ) -> dg.MaterializeResult:
        school_year = year_of(context)
        review = review_data
        path = write_thi_dua(
            pipeline.out_path / f"thi_dua_{school_year}.xlsx",
            review.table,
            school_year,
            summary=review.summary,
            criterion_factors=review.factors.get("criterion"),
            iset=review.data.iset,
            province=pipeline.province_name or review.province_label,
            groups=get_settings().thi_dua_groups,
        )
        csv_path, scores_path = write_value_csvs(pipeline.out_path, school_year, review)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "schools": len(review.table),
                "school_scores_csv": dg.MetadataValue.path(str(scores_path)),
                "indicator_values_csv": dg.MetadataValue.path(str(csv_path)),
            }
        )

    return _thi_dua


def _findings_csv_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="findings_csv",
        group_name="exports",
        partitions_def=partitions,
        deps=["rec_findings"],
        kinds={"csv"},
        description="out/findings_<năm học>.csv: mỗi phát hiện một dòng, theo thứ tự hàng đợi thẩm định.",
    )
    def _findings_csv(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig
    ) -> dg.MaterializeResult:
        school_year = year_of(context)
        with warehouse.connect() as con:
            found = year_rows(con, "rec_findings", school_year)
        frame = findings_csv(found if len(found) else pd.DataFrame(columns=rc.FINDING_COLUMNS))
        path = pipeline.out_path / f"findings_{school_year}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "rows": len(frame)})

    return _findings_csv


def _reviewer_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="reviewer_workbook",
        group_name="exports",
        partitions_def=partitions,
        kinds={"excel"},
        description="out/reviewer_<năm học>.xlsx: phát hiện theo đơn vị quản lý, có cột quyết định "
        "(danh sách chọn) để điền và gửi lại vào thư mục nhận.",
    )
    def _reviewer(
        context: dg.AssetExecutionContext, review_data: Review, pipeline: PipelineConfig
    ) -> dg.MaterializeResult:
        school_year = year_of(context)
        data = review_data.data
        path = write_reviewer_workbook(pipeline.out_path / f"reviewer_{school_year}.xlsx", data)
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(path)), "findings": len(data.findings)}
        )

    return _reviewer


def _html_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="reviewer_report_html",
        group_name="exports",
        partitions_def=partitions,
        kinds={"html"},
        description="out/reviewer_<năm học>.html: báo cáo tĩnh (tổng quan, phát hiện, "
        "từng trường kèm so sánh với năm học trước).",
    )
    def _html(
        context: dg.AssetExecutionContext, review_data: Review, pipeline: PipelineConfig
    ) -> dg.MaterializeResult:
        school_year = year_of(context)
        review = review_data
        path = write_reviewer_html(
            pipeline.out_path / f"reviewer_{school_year}.html", review.data, review.table, review.factors
        )
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})

    return _html


def build_export_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The review data read once per run and the four files written from it."""
    builders = (_review_asset, _thi_dua_asset, _findings_csv_asset, _reviewer_asset, _html_asset)
    return [build(partitions) for build in builders]
