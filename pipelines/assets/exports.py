"""Exports stage: the files users take away (thi đua workbook, indicator values CSV)."""


import dagster as dg
import pandas as pd

from pipelines.resources import PipelineConfig, WarehouseResource
from reports.thi_dua import build_table, write_thi_dua


def build_export_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="thi_dua_workbook", group_name="exports", partitions_def=partitions,
              deps=["school_scores", "scored_indicator_values"], kinds={"excel"},
              description="out/thi_dua_<year>.xlsx for the emulation board.")  # fmt: skip
    def _thi_dua(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        year = context.partition_key
        with warehouse.connect() as con:
            scores = con.execute("SELECT * FROM school_scores WHERE school_year = ?", [year]).df()
            values = con.execute("SELECT * FROM scored_indicator_values WHERE school_year = ?", [year]).df()
            schools = con.execute(
                "SELECT school_code, school_year, any_value(name) AS school_name, "
                "any_value(managing_unit) AS managing_unit FROM raw_school WHERE school_year = ? "
                "GROUP BY ALL", [year]).df()  # fmt: skip
        table = build_table(scores, schools, values)
        path = write_thi_dua(pipeline.out_path / f"thi_dua_{year}.xlsx", table, year)
        cols = ["school_code", "school_year", "criterion_code", "numerator", "denominator", "value", "points",
                "status"]  # fmt: skip
        csv_path = pipeline.out_path / f"indicator_values_{year}.csv"
        values.reindex(columns=cols).sort_values(["school_code", "criterion_code"]).to_csv(csv_path, index=False)
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(path)), "schools": len(table),
                      "indicator_values_csv": dg.MetadataValue.path(str(csv_path))}  # fmt: skip
        )

    return [_thi_dua]


__all__ = ["build_export_assets", "pd"]
