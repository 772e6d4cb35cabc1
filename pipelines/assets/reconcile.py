"""Reconcile stage: the schools' own scores against the computed ones, and the reviewers' decisions.

Tables written (one school year per run; other years are kept):
- `score_indicators__final` — THE final computed side: every leaf criterion of every school, `data`
  criteria as scored, `document` criteria and mandatory conditions filled from the self-assessment
  (status `self_declared`), with the self-side columns beside them;
- `score_schools__final` — the computed-side totals and levels over `score_indicators__final`;
- `score_schools__self` — the self-declared totals and levels;
- `rec_findings` — one row per finding (stable `finding_id`), in reviewer-queue order;
- `review_decisions` — decisions read from reviewer workbooks in the inbox, kept across runs;
- `review_decisions__rejected` — decision rows that were not applied, with the reason;
- `score_indicators__proposed` / `score_schools__proposed` — the proposed external points and levels
  (reviewer decision, else computed, else self) that the thi đua workbook shows.
"""

import dagster as dg
import pandas as pd

from indicator_sets import decisions as dec
from indicator_sets import reconcile as rc
from indicator_sets.model import load_indicator_set
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from warehouse.tables import replace_year

FINDINGS_DDL = """
CREATE TABLE IF NOT EXISTS rec_findings (
    finding_id VARCHAR, school_code VARCHAR, school_year VARCHAR, criterion_code VARCHAR, finding VARCHAR,
    severity VARCHAR, self_points DOUBLE, computed_points DOUBLE, points_at_stake DOUBLE)
"""
DECISIONS_DDL = """
CREATE TABLE IF NOT EXISTS review_decisions (
    finding_id VARCHAR PRIMARY KEY, school_code VARCHAR, school_year VARCHAR, criterion_code VARCHAR,
    finding VARCHAR, decision VARCHAR, adjusted_points DOUBLE, comment VARCHAR,
    self_points_at_decision DOUBLE, computed_points_at_decision DOUBLE, source_file VARCHAR,
    source_sheet VARCHAR, source_row INTEGER, file_sha256 VARCHAR, recorded_at TIMESTAMP)
"""
REJECTS_DDL = """
CREATE TABLE IF NOT EXISTS review_decisions__rejected (
    school_year VARCHAR, finding_id VARCHAR, decision_text VARCHAR, adjusted_raw VARCHAR, source_file VARCHAR,
    source_sheet VARCHAR, source_row INTEGER, reason_code VARCHAR, message VARCHAR)
"""


def no_evidence_layouts() -> frozenset[str]:
    """Ids of the self-assessment layouts whose form has no evidence-code column (the wide one): their
    schools could not write a code, so reconciliation keeps their declarations (docs/indicators.md, "Evidence
    unknown is not evidence missing"). Read from the layout files, so a new layout needs no code."""
    from connectors.layouts import load_layouts

    return frozenset(
        lay.id
        for lay in load_layouts()
        if lay.entity == "self_assessment" and "evidence_ref" not in lay.columns
    )


def _findings_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The computed side completed from the self-assessment, both sides' totals and the findings."""
    specs = [
        dg.AssetSpec(
            "score_indicators__final",
            group_name="reconcile",
            partitions_def=partitions,
            kinds={"duckdb"},
            description="Phía tính toán cuối cùng: tiêu chí dữ liệu theo điểm đã tính, tiêu chí minh "
            "chứng/ĐKBB lấy từ tự đánh giá (self_declared), kèm các cột phía tự đánh giá.",
            deps=["score_indicators__scored", "raw_self_assessment"],
        ),
        dg.AssetSpec(
            "score_schools__final",
            group_name="reconcile",
            partitions_def=partitions,
            kinds={"duckdb"},
            description="Tổng điểm và mức phía tính toán (từ score_indicators__final).",
        ),
        dg.AssetSpec(
            "score_schools__self",
            group_name="reconcile",
            partitions_def=partitions,
            kinds={"duckdb"},
            description="Tổng điểm và mức theo tự đánh giá của trường.",
        ),
        dg.AssetSpec(
            "rec_findings",
            group_name="reconcile",
            partitions_def=partitions,
            kinds={"duckdb"},
            description="Phát hiện đối chiếu, theo thứ tự hàng đợi thẩm định.",
        ),
    ]

    @dg.multi_asset(name="reconcile_findings", specs=specs, partitions_def=partitions, can_subset=False)
    def _findings(context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig):
        iset = load_indicator_set(pipeline.indicator_set)
        school_year = year_of(context)
        with warehouse.connect() as con:
            scored = con.execute(
                "SELECT * FROM score_indicators__scored WHERE school_year = ?", [school_year]
            ).df()
            selfs = con.execute(
                "SELECT * EXCLUDE (note) FROM raw_self_assessment WHERE school_year = ?", [school_year]
            ).df()
            sp = rc.self_points(selfs, iset, no_evidence_layouts())
            final = rc.final_values(scored, sp, iset)
            found = rc.reconcile_findings(final, iset)
            comp = rc.computed_scores(final, iset)  # an empty year still writes its (empty) tables
            own = rc.self_scores(final, iset)
            con.execute(FINDINGS_DDL)
            replace_year(con, "rec_findings", found, school_year)
            replace_year(con, "score_indicators__final", final, school_year)
            replace_year(con, "score_schools__final", comp, school_year)
            replace_year(con, "score_schools__self", own, school_year)
        by = found["finding"].value_counts().to_dict() if len(found) else {}
        context.log.info(f"reconcile {school_year}: {len(final)} values, {len(found)} findings {by}")
        yield dg.MaterializeResult(asset_key="score_indicators__final", metadata={"rows": len(final)})
        yield dg.MaterializeResult(asset_key="score_schools__final", metadata={"schools": len(comp)})
        yield dg.MaterializeResult(asset_key="score_schools__self", metadata={"schools": len(own)})
        yield dg.MaterializeResult(
            asset_key="rec_findings",
            metadata={"findings": len(found), **{f"n_{str(k).lower()}": int(v) for k, v in by.items()}},
        )

    return _findings


def _decisions_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The reviewers' decisions read from the inbox, validated and applied: the proposed points."""
    dspecs = [
        dg.AssetSpec(
            "review_decisions",
            group_name="reconcile",
            partitions_def=partitions,
            kinds={"duckdb"},
            deps=["rec_findings"],
            description=(
                "Quyết định thẩm định đọc từ reviewer_*.xlsx trong thư mục nhận, lưu qua các lần chạy."
            ),
        ),
        dg.AssetSpec(
            "review_decisions__rejected",
            group_name="reconcile",
            partitions_def=partitions,
            kinds={"duckdb"},
            description="Dòng quyết định không được áp dụng, kèm lý do.",
        ),
        dg.AssetSpec(
            "score_indicators__proposed",
            group_name="reconcile",
            partitions_def=partitions,
            kinds={"duckdb"},
            deps=["score_indicators__final"],
            description="Điểm đề xuất (đánh giá ngoài) theo tiêu chí, kèm nguồn điểm.",
        ),
        dg.AssetSpec(
            "score_schools__proposed",
            group_name="reconcile",
            partitions_def=partitions,
            kinds={"duckdb"},
            description="Tổng điểm và mức đề xuất (đánh giá ngoài).",
        ),
    ]

    @dg.multi_asset(
        name="reviewer_decisions_ingest", specs=dspecs, partitions_def=partitions, can_subset=False
    )
    def _decisions(context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig):
        iset = load_indicator_set(pipeline.indicator_set)
        school_year = year_of(context)
        files = dec.find_decision_files(pipeline.inbox_path, school_year)
        raw = dec.read_decision_files(files, pipeline.inbox_path)
        with warehouse.connect() as con:
            con.execute(FINDINGS_DDL)
            con.execute(DECISIONS_DDL)
            con.execute(REJECTS_DDL)
            found = con.execute("SELECT * FROM rec_findings WHERE school_year = ?", [school_year]).df()
            final = con.execute(
                "SELECT * FROM score_indicators__final WHERE school_year = ?", [school_year]
            ).df()
            stored = con.execute("SELECT * FROM review_decisions WHERE school_year = ?", [school_year]).df()
            valid, rejects = dec.validate_decisions(raw, found, iset, school_year)
            merged = dec.merge_decisions(stored, valid)
            replace_year(con, "review_decisions", merged.reindex(columns=dec.STORED_COLUMNS), school_year)
            replace_year(con, "review_decisions__rejected", rejects, school_year)
            states = dec.decision_states(merged, found)
            prop = rc.proposed_values(final, found, states, iset) if len(final) else pd.DataFrame()
            pscores = rc.proposed_scores(prop, iset) if len(prop) else pd.DataFrame()
            if len(prop):
                replace_year(con, "score_indicators__proposed", prop, school_year)
                replace_year(con, "score_schools__proposed", pscores, school_year)
        counts = states["state"].value_counts().to_dict() if len(states) else {}
        context.log.info(
            f"decisions {school_year}: files={len(files)} rows={len(raw)} valid={len(valid)} "
            f"rejected={len(rejects)} states={counts}"
        )
        for line in dec.reject_lines(rejects):  # read by the reviewer on the console: Vietnamese
            context.log.warning(line)
        yield dg.MaterializeResult(
            asset_key="review_decisions",
            metadata={
                "files": len(files),
                "stored": len(merged),
                **{f"n_{k}": int(v) for k, v in counts.items()},
            },
        )
        yield dg.MaterializeResult(asset_key="review_decisions__rejected", metadata={"rows": len(rejects)})
        yield dg.MaterializeResult(asset_key="score_indicators__proposed", metadata={"rows": len(prop)})
        yield dg.MaterializeResult(asset_key="score_schools__proposed", metadata={"schools": len(pscores)})

    return _decisions


def build_reconcile_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The findings stage and the reviewer-decisions stage of one school year."""
    return [_findings_asset(partitions), _decisions_asset(partitions)]
