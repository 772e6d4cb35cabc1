"""Exports stage, per school: each school's feedback pack `out/schools/<year>/<school_code>.xlsx` and
`.html` (reports/school_pack.py builds and writes them; it reads the frames the reviewer exports read,
one read per run shared through `run_memo`, the year's rejected rows and the delivery coverage), and the
season's status per school (reports/season.py): `out/season_status_<year>.csv` and the warehouse table
`season_status` the run summary reads. The packs' cross-checks come from the run's shared audit
results (`audit_details` words what to correct when an audit says it)."""

import dagster as dg
import duckdb
import pandas as pd

from indicator_sets.code_mapping import load_code_mapping, previous_units
from pipelines import run_memo
from pipelines.assets.checks import audit_result
from pipelines.assets.exports import REVIEW_DEPS, _shared_review, previous_year
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from pipelines.season import season_clock
from pipelines.settings import get_settings
from quality import coverage
from quality.audits import AuditResult, load_audits
from reports.data_quality import _pii_columns, audit_counts_by_school
from reports.school_pack import build_pack, write_pack_html, write_pack_xlsx
from reports.season import collect_status, store, write_csv


def year_rejects(con: duckdb.DuckDBPyConnection, year: str) -> pd.DataFrame:
    """The year's rejected rows (every school), with where they are and the connectors' message."""
    return con.execute(
        "SELECT school_code, entity, source_file, source_sheet, source_row, column_letter, header, "
        "canonical_column, reason_code, message FROM dq_quarantine_rows WHERE school_year = ? "
        "ORDER BY school_code, source_file, source_sheet, source_row, column_letter",
        [year],
    ).df()


def audit_details(results: list[AuditResult]) -> dict[tuple[str, str], str]:
    """(school code, audit name) → what to correct, for the audits whose rows say it in Vietnamese
    (a `problem_vi` column, e.g. the registry's administrative-unit check): each distinct text with its
    file and row, at most 5 ("…" when more). The texts carry codes only, never a person's data."""
    out: dict[tuple[str, str], str] = {}
    for res in results:
        if not res.count or "problem_vi" not in res.rows.columns:
            continue
        for code, rows in res.rows.groupby("school_code"):
            texts = []
            for r in rows.to_dict("records"):
                where = ", ".join(
                    p for p in (
                        str(r.get("source_file") or ""),
                        f"dòng {int(r['source_row'])}" if pd.notna(r.get("source_row")) else "",
                    ) if p
                )  # fmt: skip
                text = f"{where}: {r['problem_vi']}" if where else str(r["problem_vi"])
                if pd.notna(r.get("problem_vi")) and text not in texts:
                    texts.append(text)
            out[(str(code), res.name)] = "; ".join(texts[:5]) + ("; …" if len(texts) > 5 else "")
    return out


def missing_by_school(cov: coverage.Coverage) -> dict[str, list[str]]:
    """Per school: the Vietnamese labels of the expected exports that did not arrive."""
    out: dict[str, list[str]] = {}
    miss = cov.matrix[~cov.matrix["delivered"]]
    for code, entity in zip(miss["school_code"].tolist(), miss["entity"].tolist(), strict=True):
        out.setdefault(str(code), []).append(coverage.SOURCE_LABELS_VI.get(entity, entity))
    return out


def build_school_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name="school_packs", group_name="exports", partitions_def=partitions,
              deps=[*REVIEW_DEPS, "dq_quarantine_rows"], kinds={"excel", "html"},
              description="out/schools/<năm học>/<mã trường>.xlsx và .html: phản hồi riêng cho từng trường "
                          "(điểm từng tiêu chí, phát hiện, lỗi dữ liệu, so với năm trước, việc cần làm).")  # fmt: skip
    def _packs(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        year = year_of(context)
        data, _frames = _shared_review(context, warehouse, pipeline)
        with warehouse.connect() as con:
            cov = run_memo.once(context.run_id, ("coverage", year), lambda: coverage.collect(con, year))
            rejects = year_rejects(con, year)
            audits = load_audits()
            results = [audit_result(context, con, a, year) for a in audits.values()]
            per_audit = audit_counts_by_school(results, audits)
        details = audit_details(results)
        for code, entries in per_audit.items():
            for a in entries:
                a["details"] = details.get((code, a["name"]), "")
        files = cov.files
        quarantined = files[(files["status"] == "quarantined") & files["school_code"].notna()]
        missing = missing_by_school(cov)
        pii = _pii_columns()
        mapping = load_code_mapping(m) if (m := get_settings().code_mapping) else None
        before = previous_year(year)
        with warehouse.connect() as con:
            units = previous_units(con, before)
        delivered: dict[str, set[str]] = {}
        for code, entity in zip(
            cov.by_source["school_code"].tolist(), cov.by_source["entity"].tolist(), strict=True
        ):
            delivered.setdefault(str(code), set()).add(str(entity))
        codes = sorted({*data.units()["school_code"].astype(str), *cov.schools["school_code"].astype(str)})
        folder = pipeline.out_path / "schools" / year
        for code in codes:
            pack = build_pack(data, code, rejects=rejects, quarantined=quarantined, missing=missing.get(code, []),
                              delivered=delivered.get(code, set()), pii=pii, previous_year=before, audits=per_audit.get(code, []),
                              previous_code="" if mapping is None else mapping.previous_code(code, units))  # fmt: skip
            write_pack_xlsx(folder / f"{code}.xlsx", pack)
            write_pack_html(folder / f"{code}.html", pack)
        return dg.MaterializeResult(
            metadata={"folder": dg.MetadataValue.path(str(folder)), "schools": len(codes)}
        )

    @dg.asset(name="season_status", group_name="exports", partitions_def=partitions, deps=["dq_quarantine_rows"],
              kinds={"csv"}, description="out/season_status_<năm học>.csv và bảng season_status: mỗi trường đã "
                                         "nhận nguồn dữ liệu nào, khi nào, chất lượng, còn bao nhiêu ngày đến hạn.")  # fmt: skip
    def _season(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                pipeline: PipelineConfig) -> dg.MaterializeResult:  # fmt: skip
        year = year_of(context)
        with warehouse.connect() as con:
            cov = run_memo.once(context.run_id, ("coverage", year), lambda: coverage.collect(con, year))
            entities, schools, deadlines, today = collect_status(con, year, season_clock(year), cov)
            store(con, year, schools)
        path = write_csv(pipeline.out_path / f"season_status_{year}.csv", entities, schools)
        at_risk = schools.loc[schools["at_risk"], "school_code"].tolist()
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(path)), "self_assessment_deadline": str(deadlines.self_assessment),
            "today": str(today), "schools_at_risk": ", ".join(at_risk) or "—",
        })  # fmt: skip

    return [_packs, _season]
