"""Scoring stage: apply the indicator set to the computed values (points, totals, levels)."""


import dagster as dg

from indicator_sets.model import load_indicator_set
from indicator_sets.scoring import school_scores, score_values
from pipelines.resources import PipelineConfig, WarehouseResource


def build_scoring_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="scored_indicator_values", group_name="scoring", partitions_def=partitions,
              deps=["mart_indicator_values"], kinds={"duckdb", "python"},
              description="Points per school × criterion × year from the indicator-set rules.")  # fmt: skip
    def _scored(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        iset = load_indicator_set(pipeline.indicator_set)
        year = context.partition_key
        with warehouse.connect() as con:
            values = con.execute("SELECT * FROM mart_indicator_values WHERE school_year = ?", [year]).df()
            scored = score_values(values, iset)
            con.execute(
                "CREATE TABLE IF NOT EXISTS scored_indicator_values AS SELECT * FROM scored LIMIT 0")
            con.execute("DELETE FROM scored_indicator_values WHERE school_year = ?", [year])
            con.execute("INSERT INTO scored_indicator_values BY NAME SELECT * FROM scored")
        return dg.MaterializeResult(metadata={"rows": len(scored), "indicator_set": iset.id})

    @dg.asset(name="school_scores", group_name="scoring", partitions_def=partitions,
              deps=["scored_indicator_values"], kinds={"duckdb", "python"},
              description="Group totals and levels per school × year (computed side).")  # fmt: skip
    def _school_scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                       pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        iset = load_indicator_set(pipeline.indicator_set)
        year = context.partition_key
        with warehouse.connect() as con:
            scored = con.execute("SELECT * FROM scored_indicator_values WHERE school_year = ?", [year]).df()
            scores = school_scores(scored, iset)
            con.execute("CREATE TABLE IF NOT EXISTS school_scores AS SELECT * FROM scores LIMIT 0")
            con.execute("DELETE FROM school_scores WHERE school_year = ?", [year])
            con.execute("INSERT INTO school_scores BY NAME SELECT * FROM scores")
        levels = scores["level"].value_counts().sort_index()
        return dg.MaterializeResult(
            metadata={"schools": len(scores), **{f"schools_level_{k}": int(v) for k, v in levels.items()}}
        )

    return [_scored, _school_scores]
