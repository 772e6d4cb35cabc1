"""Scoring stage: load the indicator set as cfg_* tables (the SQL models read its parameters as data),
then apply it to the computed values (points, totals, levels, bands)."""

from collections.abc import Iterator

import dagster as dg

from indicator_sets.config import load_config_tables
from indicator_sets.model import load_indicator_set
from indicator_sets.scoring import school_scores, score_values
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from warehouse.sql_models import discover, source_tables
from warehouse.tables import replace_year


def config_table_names() -> list[str]:
    """The cfg_* tables the SQL models read (found in the SQL, not kept by hand)."""
    return sorted(t for t in source_tables(discover()) if t.startswith("cfg_"))


def build_scoring_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    specs = [
        dg.AssetSpec(
            t,
            group_name="scoring",
            kinds={"duckdb", "yaml"},
            description="Bảng cấu hình từ tệp bộ chỉ số (YAML và bảng tham chiếu CSV)",
        )
        for t in config_table_names()
    ]

    @dg.multi_asset(name="indicator_set_config", specs=specs, partitions_def=partitions, can_subset=False)
    def _config(warehouse: WarehouseResource, pipeline: PipelineConfig) -> Iterator[dg.MaterializeResult]:
        iset = load_indicator_set(pipeline.indicator_set)
        with warehouse.connect() as con:
            counts = load_config_tables(con, iset)
        for t in config_table_names():
            yield dg.MaterializeResult(
                asset_key=t, metadata={"rows": counts.get(t, 0), "indicator_set": iset.id}
            )

    @dg.asset(
        name="score_indicators__scored",
        group_name="scoring",
        partitions_def=partitions,
        deps=["mart_indicator_values"],
        kinds={"duckdb", "python"},
        description="Điểm theo trường × tiêu chí × năm học, theo quy tắc của bộ chỉ số.",
    )
    def _scored(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig
    ) -> dg.MaterializeResult:
        iset = load_indicator_set(pipeline.indicator_set)
        school_year = year_of(context)
        with warehouse.connect() as con:
            values = con.execute(
                "SELECT * FROM mart_indicator_values WHERE school_year = ?", [school_year]
            ).df()
            scored = score_values(values, iset)
            replace_year(con, "score_indicators__scored", scored, school_year)
        return dg.MaterializeResult(metadata={"rows": len(scored), "indicator_set": iset.id})

    @dg.asset(
        name="score_schools__scored",
        group_name="scoring",
        partitions_def=partitions,
        deps=["score_indicators__scored"],
        kinds={"duckdb", "python"},
        description="Tổng điểm nhóm và mức theo trường × năm học (phía tính toán).",
    )
    def _school_scores(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig
    ) -> dg.MaterializeResult:
        iset = load_indicator_set(pipeline.indicator_set)
        school_year = year_of(context)
        with warehouse.connect() as con:
            scored = con.execute(
                "SELECT * FROM score_indicators__scored WHERE school_year = ?", [school_year]
            ).df()
            scores = school_scores(scored, iset)
            replace_year(con, "score_schools__scored", scores, school_year)
        levels = scores["level"].value_counts().sort_index()
        return dg.MaterializeResult(
            metadata={"schools": len(scores), **{f"schools_level_{k}": int(v) for k, v in levels.items()}}
        )

    return [_config, _scored, _school_scores]
