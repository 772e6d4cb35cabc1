"""Models stage: every SQL model of `dbt_like_sql/` is its own asset (key = model name) with upstreams
read from the SQL; all of them are materialised by one subsettable step that builds the selected
models in dependency order on one connection and in one transaction (one step and one commit instead
of one per model keep a run's fixed overhead flat as models are added; a failed model leaves every model
as it was).

A run is for one school year (the partition): a model whose header says `-- partition: school_year` has
only that year's rows rebuilt, or none when the year's fingerprint (its SQL and the year's rows of its
inputs) is the one recorded by its last build, e.g. a run where files were re-saved with the same rows;
the other models are rebuilt whole (`warehouse.sql_models.build_models`). The step's log names both."""

from collections.abc import Iterator

import dagster as dg

from pipelines.partitions import year_of
from pipelines.resources import WarehouseResource
from warehouse.sql_models import SqlModel, build_models, discover


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
            "partition": model.partition or "none",
            **model.column_schema_metadata(),
        },
    )


def build_model_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    models = discover()

    @dg.multi_asset(
        name="sql_models",
        specs=[model_spec(m) for m in models.values()],
        partitions_def=partitions,
        can_subset=True,
    )
    def _models(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        selected = [k.to_user_string() for k in context.selected_asset_keys]
        school_year = year_of(context)
        with warehouse.connect() as con:
            built = build_models(con, models, selected, school_year)
        by_how: dict[str, list[str]] = {}
        for b in built:
            by_how.setdefault(b.how, []).append(b.name)
        context.log.info(
            f"models for {school_year}: {len(by_how.get('year', []))} rebuilt for the year only, "
            f"{len(by_how.get('skipped', []))} unchanged for the year (skipped), "
            f"built whole: {sorted(by_how.get('table', [])) or 'none'}, "
            f"{len(by_how.get('view', []))} views re-created"
        )
        for b in built:
            meta: dict[str, dg.MetadataValue | int | float | str] = {
                "seconds": round(b.seconds, 3),
                "built": b.how,
                "rebuilt": b.how != "skipped",
            }
            if b.rows is not None:  # tables only: counting a view would run its query again
                meta["rows"] = dg.MetadataValue.int(b.rows)
            yield dg.MaterializeResult(asset_key=b.name, metadata=meta)

    return [_models]
