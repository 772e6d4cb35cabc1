"""Validate stage: pandera schemas (quality/schemas.py) over rows of new or changed files; failing rows
go to dq_quarantine_rows. The asset is thin: the work is `quality.validate.validate_new_files`. Then
what arrived per school × source (`delivery_coverage`, quality/coverage.py), read once per run and
handed as an asset input to the data-quality report, the season status, the school packs and the GX
raw-input check (codes and counts only)."""

import dagster as dg

from pipelines.assets.ingest import raw_asset_keys
from pipelines.partitions import year_of
from pipelines.resources import WarehouseResource
from pipelines.settings import get_settings
from quality import coverage


def build_validate_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="dq_quarantine_rows",
        group_name="validate",
        partitions_def=partitions,
        deps=raw_asset_keys(),
        kinds={"duckdb", "pandera"},
        description="Dòng bị loại khi nạp tệp hoặc khi kiểm tra cấu trúc (pandera), kèm lý do.",
    )
    def _validate(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        # pandera is imported when the asset runs, not when the definitions load (~0.6 s in every new
        # run process and every code-location load: tests/unit/test_definitions_imports.py)
        from quality.validate import validate_new_files

        with warehouse.connect() as con:
            failed = validate_new_files(con, year_of(context), get_settings().validate_chunk_rows)
            by_stage = dict(
                con.execute("SELECT stage, count(*) FROM dq_quarantine_rows GROUP BY stage").fetchall()
            )
        return dg.MaterializeResult(
            metadata={
                "failed_rows_this_run": sum(failed.values()),
                **{f"failed_rows_{entity}": n for entity, n in sorted(failed.items()) if n},
                "quarantined_at_ingest": int(by_stage.get("ingest", 0)),
                "quarantined_at_validate": int(by_stage.get("validate", 0)),
            }
        )

    @dg.asset(
        name="delivery_coverage",
        group_name="validate",
        partitions_def=partitions,
        deps=[_validate.key],
        kinds={"python"},
        description="Dữ liệu đã nhận theo từng trường × nguồn (tệp, số dòng, dòng bị loại, nguồn còn "
        "thiếu), đọc một lần cho mỗi lượt chạy.",
    )
    def _coverage(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> coverage.Coverage:
        with warehouse.connect() as con:
            cov = coverage.collect(con, year_of(context))
        delivered = int(cov.matrix["delivered"].sum()) if len(cov.matrix) else 0
        context.add_output_metadata(
            {"schools": len(cov.schools), "expected_delivered": delivered, "files": len(cov.files)}
        )
        return cov

    return [_validate, _coverage]
