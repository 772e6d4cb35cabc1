"""Exports stage, per school: each school's feedback pack `out/schools/<year>/<school_code>.xlsx` and
`.html` (reports/school_pack_inputs.py reads what the packs need besides their asset inputs — the
`review_data` the reviewer exports show, the `delivery_coverage` and the `audit_results` — and writes
them), and the
season's status per school (reports/season.py): `out/season_status_<year>.csv` and the warehouse table
`season_status` the run summary reads."""

import dagster as dg

from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from pipelines.season import season_clock
from pipelines.settings import get_settings
from quality import coverage
from quality.audits import AuditResult
from reports.review_exports import Review
from reports.school_pack_inputs import read_pack_inputs, write_school_packs
from reports.season import collect_status, store, write_csv


def _packs_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="school_packs",
        group_name="exports",
        partitions_def=partitions,
        deps=["dq_quarantine_rows"],
        kinds={"excel", "html"},
        description="out/schools/<năm học>/<mã trường>.xlsx và .html: phản hồi riêng cho từng trường "
        "(điểm từng tiêu chí, phát hiện, lỗi dữ liệu, so với năm trước, việc cần làm).",
    )
    def _packs(
        context: dg.AssetExecutionContext,
        review_data: Review,
        delivery_coverage: coverage.Coverage,
        audit_results: list[AuditResult],
        warehouse: WarehouseResource,
        pipeline: PipelineConfig,
    ) -> dg.MaterializeResult:
        school_year = year_of(context)
        folder = pipeline.out_path / "schools" / school_year
        with warehouse.connect() as con:
            inputs = read_pack_inputs(con, school_year, get_settings().code_mapping, audit_results)
            codes = write_school_packs(folder, review_data.data, delivery_coverage, inputs, con)
        return dg.MaterializeResult(
            metadata={
                "folder": dg.MetadataValue.path(str(folder)),
                "schools": len(codes),
                "written": inputs.written,
                "unchanged": inputs.kept,
            }
        )

    return _packs


def _season_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="season_status",
        group_name="exports",
        partitions_def=partitions,
        deps=["dq_quarantine_rows"],
        kinds={"csv"},
        description="out/season_status_<năm học>.csv và bảng season_status: mỗi trường đã "
        "nhận nguồn dữ liệu nào, khi nào, chất lượng, còn bao nhiêu ngày đến hạn.",
    )
    def _season(
        context: dg.AssetExecutionContext,
        delivery_coverage: coverage.Coverage,
        warehouse: WarehouseResource,
        pipeline: PipelineConfig,
    ) -> dg.MaterializeResult:
        school_year = year_of(context)
        with warehouse.connect() as con:
            clock = season_clock(school_year)
            entities, schools, deadlines, today = collect_status(con, school_year, clock, delivery_coverage)
            store(con, school_year, schools)
        path = write_csv(pipeline.out_path / f"season_status_{school_year}.csv", entities, schools)
        at_risk = schools.loc[schools["at_risk"], "school_code"].tolist()
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "self_assessment_deadline": str(deadlines.self_assessment),
                "today": str(today),
                "schools_at_risk": ", ".join(at_risk) or "—",
            }
        )

    return _season


def build_school_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every school's feedback pack and the season's status per school."""
    return [_packs_asset(partitions), _season_asset(partitions)]
