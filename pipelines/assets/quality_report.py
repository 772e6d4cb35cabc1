"""Exports stage, data quality: every SQL audit's result for the year, run once per run (`audit_results`,
handed as an asset input to the data-quality report and the school packs, which both show them per
school), and out/data_quality_<year>.html from the manifest, the quarantine, the delivery coverage (an
input: `delivery_coverage`) and those results (reports/data_quality.py does the work)."""

import dagster as dg

from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from pipelines.season import season_clock
from quality import coverage
from quality.audits import AuditResult, load_audits, run_audit


def _audits_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="audit_results",
        group_name="exports",
        partitions_def=partitions,
        deps=["dq_quarantine_rows"],
        kinds={"python"},
        description="Kết quả mọi kiểm tra chéo (SQL) của năm học, chạy một lần cho mỗi lượt chạy: báo cáo "
        "chất lượng dữ liệu và phản hồi từng trường cùng dùng.",
    )
    def _audits(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> list[AuditResult]:
        school_year = year_of(context)
        with warehouse.connect() as con:
            results = [run_audit(con, audit, school_year) for audit in load_audits().values()]
        context.add_output_metadata({"audits": len(results), "offending_rows": sum(r.count for r in results)})
        return results

    return _audits


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
        audit_results: list[AuditResult],
        warehouse: WarehouseResource,
        pipeline: PipelineConfig,
    ) -> dg.MaterializeResult:
        # imported when the report is written, not when the definitions load (jinja2, the LMS client)
        from reports.data_quality import write_report

        school_year = year_of(context)
        with warehouse.connect() as con:
            path, data = write_report(
                con,
                pipeline.out_path,
                school_year,
                cov=delivery_coverage,
                audit_results=audit_results,
                season=season_clock(school_year),
            )
        totals = data.totals
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(path)), **{k: int(v) for k, v in totals.items()}}
        )

    return [_audits_asset(partitions), _report]
