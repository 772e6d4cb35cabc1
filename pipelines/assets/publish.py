"""Publish (part of the exports stage): the school year's published tables replace this province's
partition of the lakehouse (`lake_publication`), and the national marts are read back through the catalog
(`national_marts`, written as CSV files under `out/national/<year>/`). The work is in `lakehouse/`; these
assets read, call, write."""

import dagster as dg

from lakehouse.catalog import TABLES, open_catalog
from pipelines.lake_resource import LakeResource
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource

PUBLISH_DEPS = ["score_indicators__final", "rec_findings", "score_schools__final", "score_schools__self"]


def build_publish_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="lake_publication",
        group_name="exports",
        partitions_def=partitions,
        deps=PUBLISH_DEPS,
        kinds={"iceberg"},
        description="Các bảng công bố của năm học (giá trị tiêu chí, phát hiện, điểm và mức, hệ số "
        "xác minh, số liệu chất lượng dữ liệu) thay phân vùng tỉnh × năm học trong kho "
        "lakehouse (Iceberg).",
    )
    def _publish(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: LakeResource
    ) -> dg.MaterializeResult:
        # imported when the asset runs, not when the definitions load (pyiceberg, pandas: tests/unit/
        # test_definitions_imports.py)
        from lakehouse.publish import extract, publish, registry_province

        school_year = year_of(context)
        with warehouse.connect() as con:
            province = lake.province or registry_province(con, school_year)
            tables = extract(con, province, school_year)
        pub = publish(
            open_catalog(lake.settings()),
            tables,
            province,
            school_year,
            context.run_id[:12],
            namespace=lake.namespace,
        )
        return dg.MaterializeResult(
            metadata={"province_code": province, **{f"rows_{k}": v for k, v in pub.rows.items()}}
        )

    @dg.asset(
        name="national_marts",
        group_name="exports",
        partitions_def=partitions,
        deps=[_publish.key],
        kinds={"csv"},
        description="Bảng tổng hợp toàn quốc đọc qua catalog: mức theo tỉnh, hệ số xác minh theo tỉnh "
        "và tiêu chí, tổng hợp thi đua (out/national/<năm học>/).",
    )
    def _national(
        context: dg.AssetExecutionContext, lake: LakeResource, pipeline: PipelineConfig
    ) -> dg.MaterializeResult:
        from lakehouse.national import national_marts  # see `_publish`

        school_year = year_of(context)
        marts = national_marts(open_catalog(lake.settings()), school_year, lake.namespace)
        folder = pipeline.out_path / "national" / school_year
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in marts.items():
            frame.to_csv(folder / f"{name}.csv", index=False)
        return dg.MaterializeResult(
            metadata={
                "folder": dg.MetadataValue.path(str(folder)),
                **{name: len(frame) for name, frame in marts.items()},
                "tables_read": len(TABLES),
            }
        )

    return [_publish, _national]
