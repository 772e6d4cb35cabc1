"""Models stage: every SQL model of `dbt_like_sql/` is its own asset (key = model name) with upstreams
read from the SQL; all of them are materialised by one subsettable step that builds the selected
models in dependency order on one connection (one step instead of one per model keeps a run's
orchestration overhead flat as models are added)."""

import time
from collections.abc import Iterator

import dagster as dg

from pipelines.resources import WarehouseResource
from pipelines.sql_models import SqlModel, build_model, discover, run_order


def model_spec(model: SqlModel) -> dg.AssetSpec:
    return dg.AssetSpec(
        model.name,
        deps=[dg.AssetKey(r) for r in model.reads],
        group_name="models",
        description=f"{model.purpose} (grain: {model.grain})",
        kinds={"duckdb", "sql"},
        metadata={
            "sql_file": dg.MetadataValue.path(str(model.path.relative_to(model.path.parents[2]))),
            "materialization": model.materialization,
        },
    )


def build_model_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    models = discover()

    @dg.multi_asset(name="sql_models", specs=[model_spec(m) for m in models.values()],
                    partitions_def=partitions, can_subset=True)  # fmt: skip
    def _models(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
        selected = [k.to_user_string() for k in context.selected_asset_keys]
        with warehouse.connect() as con:
            for name in run_order(models, selected):
                t0 = time.perf_counter()
                n = build_model(con, models[name])
                yield dg.MaterializeResult(
                    asset_key=name,
                    metadata={"rows": dg.MetadataValue.int(n), "seconds": round(time.perf_counter() - t0, 3)},
                )

    return [_models]
