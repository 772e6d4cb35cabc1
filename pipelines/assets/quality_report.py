"""Exports stage, data quality: out/data_quality_<year>.html from the manifest, the quarantine and the
audits (reports/data_quality.py does the work)."""

import dagster as dg

from pipelines import run_memo
from pipelines.assets.checks import audit_result
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from pipelines.season import season_clock
from quality import coverage
from quality.audits import load_audits
from reports.data_quality import write_report


def build_quality_report_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="data_quality_report", group_name="exports", partitions_def=partitions,
              deps=["dq_quarantine_rows"], kinds={"html"},
              description="out/data_quality_<năm học>.html: theo từng trường và nguồn, dữ liệu đã nhận, "
                          "dữ liệu bị loại và lý do, nguồn còn thiếu (không có dữ liệu cá nhân).")  # fmt: skip
    def _report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        year = year_of(context)
        with warehouse.connect() as con:
            # the coverage frames and the audits' results are shared with the checks of the same run
            cov = run_memo.once(context.run_id, ("coverage", year), lambda: coverage.collect(con, year))
            results = [audit_result(context, con, a, year) for a in load_audits().values()]
            path, data = write_report(
                con, pipeline.out_path, year, cov=cov, audit_results=results, season=season_clock(year)
            )
        totals = data.totals
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(path)), **{k: int(v) for k, v in totals.items()}}
        )

    return [_report]
