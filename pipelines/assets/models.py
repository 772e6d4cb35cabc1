"""Models stage: one asset per SQL model of `dbt_like_sql/`, with upstreams read from the SQL."""


import dagster as dg

from pipelines.resources import WarehouseResource
from pipelines.sql_models import SqlModel, build_model, discover


def _asset_for(model: SqlModel, models: dict[str, SqlModel], partitions: dg.PartitionsDefinition):
    deps = [dg.AssetKey(r) for r in model.reads]

    @dg.asset(name=model.name, group_name="models", partitions_def=partitions, deps=deps,
              description=f"{model.purpose} (grain: {model.grain})", kinds={"duckdb", "sql"},
              metadata={"sql_file": dg.MetadataValue.path(str(model.path.relative_to(model.path.parents[2]))),
                        "materialization": model.materialization})  # fmt: skip
    def _model(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            n = build_model(con, model)
        return dg.MaterializeResult(metadata={"rows": dg.MetadataValue.int(n)})

    return _model


def build_model_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    models = discover()
    return [_asset_for(m, models, partitions) for m in models.values()]
