"""Validate stage: pandera schemas (quality/schemas.py) over rows of new or changed files; failing rows
go to dq_quarantine_rows. The asset is thin: the work is `quality.validate.validate_new_files`."""

import dagster as dg

from pipelines.assets.ingest import raw_asset_keys
from pipelines.partitions import year_of
from pipelines.resources import WarehouseResource
from pipelines.settings import get_settings
from quality.validate import validate_new_files


def build_validate_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="dq_quarantine_rows", group_name="validate", partitions_def=partitions,
              deps=raw_asset_keys(), kinds={"duckdb", "pandera"},
              description="Dòng bị loại khi nạp tệp hoặc khi kiểm tra cấu trúc (pandera), kèm lý do.")  # fmt: skip
    def _validate(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            failed = validate_new_files(con, year_of(context), get_settings().validate_chunk_rows)
            by_stage = dict(con.execute(
                "SELECT stage, count(*) FROM dq_quarantine_rows GROUP BY stage").fetchall())  # fmt: skip
        return dg.MaterializeResult(
            metadata={
                "failed_rows_this_run": sum(failed.values()),
                **{f"failed_rows_{entity}": n for entity, n in sorted(failed.items()) if n},
                "quarantined_at_ingest": int(by_stage.get("ingest", 0)),
                "quarantined_at_validate": int(by_stage.get("validate", 0)),
            }
        )

    return [_validate]
