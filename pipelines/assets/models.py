"""Models stage: every SQL model of `dbt_like_sql/` is its own asset (key = model name) with upstreams
read from the SQL; all of them are materialised by one subsettable step that builds the selected
models in dependency order on one connection and in one transaction (one step and one commit instead
of one per model keep a run's fixed overhead flat as models are added; a failed model leaves every model
as it was)."""

from collections.abc import Iterator

import dagster as dg

from pipelines.resources import WarehouseResource
from pipelines.sql_models import SqlModel, build_models, discover


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
    def _models(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        selected = [k.to_user_string() for k in context.selected_asset_keys]
        with warehouse.connect() as con:
            built = build_models(con, models, selected)
        for name, n, seconds in built:
            meta: dict[str, dg.MetadataValue | int | float] = {"seconds": round(seconds, 3)}
            if n is not None:  # tables only: counting a view would run its query again
                meta["rows"] = dg.MetadataValue.int(n)
            yield dg.MaterializeResult(asset_key=name, metadata=meta)

    return [_models]
