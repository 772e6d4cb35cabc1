"""Models stage: every SQL model of `dbt_like_sql/` is its own asset (key = model name) with upstreams
read from the SQL; all of them are materialised by one subsettable step that builds the selected
models in dependency order on one connection and in one transaction (one step and one commit instead
of one per model keep a run's fixed overhead flat as models are added; a failed model leaves every model
as it was).

When every model is selected and the inputs' fingerprint (model SQL and the source tables' rows, see
`warehouse.sql_models.inputs_fingerprint`) equals the one recorded by the last full build, nothing is
rebuilt: e.g. a run where files were re-saved with the same rows."""

from collections.abc import Iterator

import dagster as dg

from pipelines.resources import WarehouseResource
from warehouse.sql_models import (
    SqlModel,
    build_models,
    discover,
    inputs_fingerprint,
    models_current,
    run_order,
)


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
            **model.column_schema_metadata(),
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
            fingerprint = inputs_fingerprint(con, models) if set(selected) == set(models) else None
            if fingerprint is not None and models_current(con, fingerprint, models):
                context.log.info("models: inputs unchanged since the last build, nothing to rebuild")
                for name in run_order(models):
                    yield dg.MaterializeResult(asset_key=name, metadata={"rebuilt": False})
                return
            built = build_models(con, models, selected, fingerprint)
        for name, n, seconds in built:
            meta: dict[str, dg.MetadataValue | int | float] = {"seconds": round(seconds, 3)}
            if n is not None:  # tables only: counting a view would run its query again
                meta["rows"] = dg.MetadataValue.int(n)
            yield dg.MaterializeResult(asset_key=name, metadata=meta)

    return [_models]
