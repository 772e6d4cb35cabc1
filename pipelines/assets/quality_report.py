"""Exports stage, data quality: out/data_quality_<year>.html from the manifest, the quarantine, the
delivery coverage (an input: `delivery_coverage`) and the audits (reports/data_quality.py does the
work, the audits' results included: it runs them for the year)."""

import dagster as dg

from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from pipelines.season import season_clock
from quality import coverage


def build_quality_report_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="data_quality_report",
        group_name="exports",
        partitions_def=partitions,
        deps=["dq_quarantine_rows"],
        kinds={"html"},
        description="out/data_quality_<năm học>.html: theo từng trường và nguồn, dữ liệu đã nhận, "
        "dữ liệu bị loại và lý do, nguồn còn thiếu (không có dữ liệu cá nhân).",
    )
    def _report(
        context: dg.AssetExecutionContext,
        delivery_coverage: coverage.Coverage,
        warehouse: WarehouseResource,
        pipeline: PipelineConfig,
    ) -> dg.MaterializeResult:
        # imported when the report is written, not when the definitions load (jinja2, the LMS client)
        from reports.data_quality import write_report

        school_year = year_of(context)
        with warehouse.connect() as con:
            path, data = write_report(
                con, pipeline.out_path, school_year, cov=delivery_coverage, season=season_clock(school_year)
            )
        totals = data.totals
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(path)), **{k: int(v) for k, v in totals.items()}}
        )

    return [_report]
