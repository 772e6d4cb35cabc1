"""Exports stage, data quality: out/data_quality_<year>.html from the manifest, the quarantine and the
audits (reports/data_quality.py does the work)."""

import dagster as dg

from pipelines.resources import PipelineConfig, WarehouseResource
from reports.data_quality import write_report


def build_quality_report_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="data_quality_report", group_name="exports", partitions_def=partitions,
              deps=["quarantine_rows"], kinds={"html"},
              description="out/data_quality_<year>.html: per school and source what arrived, what was "
                          "rejected and why, what is missing (Vietnamese, no personal data).")  # fmt: skip
    def _report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        with warehouse.connect() as con:
            path, data = write_report(con, pipeline.out_path, context.partition_key)
        totals = data.totals
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(path)), **{k: int(v) for k, v in totals.items()}}
        )

    return [_report]
