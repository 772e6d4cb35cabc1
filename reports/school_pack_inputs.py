"""What the school packs of one school year need besides the review data, read from the warehouse, and
the loop that builds and writes every school's pack.

What belongs here: the year's rejected rows with where they are, the audits' counts and correction
texts per school, the exports each school did not deliver (from the delivery coverage), last year's
units for the code mapping, and `write_school_packs` (reports/school_pack.py builds and writes one
pack). Codes, file references and the connectors' and audits' Vietnamese messages only; the rejected
cells' values that are personal data are masked by reports/school_pack.py (`pii`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from indicator_sets.code_mapping import CodeMapping, load_code_mapping, previous_units
from quality import coverage
from quality.audits import AuditResult, load_audits, run_audit
from reports.data_quality import _pii_columns, audit_counts_by_school
from reports.review_exports import previous_year
from reports.reviewer_workbook import ReviewData
from reports.school_pack import build_pack, factor_texts, write_pack_html, write_pack_xlsx
from reports.written_files import WrittenFiles, fingerprint

PACK_KIND = "school_pack"  # the packs' rows of ops_export_files


def year_rejects(con: duckdb.DuckDBPyConnection, school_year: str) -> pd.DataFrame:
    """The year's rejected rows (every school), with where they are and the connectors' message."""
    return con.execute(
        "SELECT school_code, entity, source_file, source_sheet, source_row, column_letter, header, "
        "canonical_column, reason_code, message FROM dq_quarantine_rows WHERE school_year = ? "
        "ORDER BY school_code, source_file, source_sheet, source_row, column_letter",
        [school_year],
    ).df()


def _where(r: dict) -> str:
    """ "file, dòng N" of an audit row (the parts it has)."""
    row = f"dòng {int(r['source_row'])}" if pd.notna(r.get("source_row")) else ""
    return ", ".join(p for p in (str(r.get("source_file") or ""), row) if p)


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
                where = _where(r)
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


def delivered_by_school(cov: coverage.Coverage) -> dict[str, set[str]]:
    """Per school: the sources (entities) it delivered rows of."""
    out: dict[str, set[str]] = {}
    by_source = cov.by_source
    for code, entity in zip(by_source["school_code"].tolist(), by_source["entity"].tolist(), strict=True):
        out.setdefault(str(code), set()).add(str(entity))
    return out


@dataclass
class PackInputs:
    """The warehouse reads of the year's packs besides the review data and the coverage."""

    school_year: str
    rejects: pd.DataFrame
    audits: dict[str, list[dict]] = field(default_factory=dict)  # school → audits with counts, details
    units: dict[str, str] = field(default_factory=dict)  # last year's unit per school (code mapping)
    mapping: CodeMapping | None = None
    written: int = 0  # schools whose pack this run wrote (set by `write_school_packs` with a warehouse)
    kept: int = 0  # schools whose pack files were left as they were (unchanged)


def read_pack_inputs(
    con: duckdb.DuckDBPyConnection, school_year: str, code_mapping: Path | None = None
) -> PackInputs:
    """The year's rejected rows, every audit's result per school (with what to correct) and, with a
    code mapping, last year's units."""
    audits = load_audits()
    results = [run_audit(con, a, school_year) for a in audits.values()]
    per_audit = audit_counts_by_school(results, audits)
    details = audit_details(results)
    for code, entries in per_audit.items():
        for a in entries:
            a["details"] = details.get((code, a["name"]), "")
    mapping = load_code_mapping(code_mapping) if code_mapping else None
    units = previous_units(con, previous_year(school_year))
    return PackInputs(school_year, year_rejects(con, school_year), per_audit, units, mapping)


def write_school_packs(
    folder: Path,
    data: ReviewData,
    cov: coverage.Coverage,
    inputs: PackInputs,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[str]:
    """Build `<folder>/<school_code>.xlsx` and `.html` for every school the review data or the coverage
    knows; returns the school codes. With `con`, a school's two files are written only when its pack
    (every value the files show: `reports.written_files.fingerprint`, with the code's version) differs
    from the one recorded in `ops_export_files` for the files on disk, or a file is missing or edited;
    without it every pack is written."""
    files = cov.files
    quarantined = files[(files["status"] == "quarantined") & files["school_code"].notna()]
    missing = missing_by_school(cov)
    delivered = delivered_by_school(cov)
    pii = _pii_columns()
    codes = sorted({*data.units()["school_code"].astype(str), *cov.schools["school_code"].astype(str)})
    mapping = inputs.mapping
    factors = (factor_texts(data.final), factor_texts(data.previous))
    state = None if con is None else WrittenFiles.load(con, inputs.school_year, PACK_KIND, folder)
    for code in codes:
        pack = build_pack(
            data,
            code,
            rejects=inputs.rejects,
            quarantined=quarantined,
            missing=missing.get(code, []),
            delivered=delivered.get(code, set()),
            pii=pii,
            previous_year=previous_year(inputs.school_year),
            audits=inputs.audits.get(code, []),
            previous_code="" if mapping is None else mapping.previous_code(code, inputs.units),
            factors=factors,
        )
        paths = (folder / f"{code}.xlsx", folder / f"{code}.html")
        fp = "" if state is None else fingerprint(pack)
        if state is not None and state.up_to_date(paths, fp):
            continue
        write_pack_xlsx(paths[0], pack)
        write_pack_html(paths[1], pack)
        if state is not None:
            for path in paths:
                state.wrote(path, fp)
    if state is not None and con is not None:
        state.save(con)
        inputs.written, inputs.kept = len(state.written) // 2, len(state.kept) // 2
    return codes
