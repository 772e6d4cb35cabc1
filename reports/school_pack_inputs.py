"""What the school packs of one school year need besides the review data, read from the warehouse, and
the loop that builds and writes every school's pack.

What belongs here: the year's rejected rows with where they are, the audits' counts and correction
texts per school, the exports each school did not deliver (from the delivery coverage), last year's
units for the code mapping, what each school's pack is built from (`pack_keys`: its fingerprint) and
`write_school_packs`, which builds and writes (reports/school_pack.py) only the packs whose inputs
changed. Codes, file references and the connectors' and audits' Vietnamese messages only; the rejected
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
from reports.written_files import WrittenFiles, fingerprint, rows_by

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
    con: duckdb.DuckDBPyConnection,
    school_year: str,
    code_mapping: Path | None = None,
    audit_results: list[AuditResult] | None = None,
) -> PackInputs:
    """The year's rejected rows, every audit's result per school (with what to correct; `audit_results`:
    the year's results when the caller has them, else the audits are run here) and, with a code mapping,
    last year's units."""
    audits = load_audits()
    results = (
        audit_results
        if audit_results is not None
        else [run_audit(con, a, school_year) for a in audits.values()]
    )
    per_audit = audit_counts_by_school(results, audits)
    details = audit_details(results)
    for code, entries in per_audit.items():
        for a in entries:
            a["details"] = details.get((code, a["name"]), "")
    mapping = load_code_mapping(code_mapping) if code_mapping else None
    units = previous_units(con, previous_year(school_year))
    return PackInputs(school_year, year_rejects(con, school_year), per_audit, units, mapping)


def pack_keys(
    data: ReviewData,
    codes: list[str],
    *,
    rejects: pd.DataFrame,
    quarantined: pd.DataFrame,
    missing: dict[str, list[str]],
    delivered: dict[str, set[str]],
    pii: set[tuple[str, str]],
    school_year: str,
    audits: dict[str, list[dict]],
    previous_codes: dict[str, str | None],
    factors: tuple[dict[str, str], dict[str, str]],
) -> dict[str, str]:
    """Per school: the fingerprint (`reports.written_files.fingerprint`, with the code's version) of
    everything `build_pack` builds its pack from — the school's rows of every frame it reads (the review
    data's units, values, proposed values, findings, scores of the three sides, last year's values and
    counted rows; the rejected rows; the quarantined files), its missing and delivered sources, audits,
    last year's code and verification-factor texts — and of what every pack shares (the school year,
    the indicator set, the personal-data columns). Two schools' packs are built from equal inputs exactly
    when their keys agree, so a school whose key is the recorded one need not be built at all."""
    frames = {
        "units": data.units(),
        "final": data.final,
        "proposed": data.proposed,
        "findings": data.findings,
        "self_scores": data.self_scores,
        "final_scores": data.final_scores,
        "proposed_scores": data.proposed_scores,
        "previous": data.previous,
        "counted": data.counted,
        "rejects": rejects,
        "quarantined": quarantined,
    }
    shared = fingerprint(
        school_year, previous_year(school_year), data.iset.model_dump(mode="json"), sorted(pii)
    )
    parts = {name: rows_by(frame, "school_code") for name, frame in frames.items()}
    return {
        code: fingerprint(
            shared,
            code,
            [(name, head, groups.get(code, "[]")) for name, (head, groups) in parts.items()],
            missing.get(code, []),
            sorted(delivered.get(code, set())),
            audits.get(code, []),
            previous_codes.get(code, ""),
            factors[0].get(code),
            factors[1].get(code),
        )
        for code in codes
    }


def write_school_packs(
    folder: Path,
    data: ReviewData,
    cov: coverage.Coverage,
    inputs: PackInputs,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[str]:
    """Build and write `<folder>/<school_code>.xlsx` and `.html` for every school the review data or
    the coverage knows; returns the school codes. With `con`, a school's pack is built and its two files
    written only when what the pack is built from (`pack_keys`) differs from what the files on disk were
    recorded in `ops_export_files` with, or a file is missing or edited; without it every pack is."""
    files = cov.files
    quarantined = files[(files["status"] == "quarantined") & files["school_code"].notna()]
    missing = missing_by_school(cov)
    delivered = delivered_by_school(cov)
    pii = _pii_columns()
    codes = sorted({*data.units()["school_code"].astype(str), *cov.schools["school_code"].astype(str)})
    mapping = inputs.mapping
    previous_codes = {
        code: "" if mapping is None else mapping.previous_code(code, inputs.units) for code in codes
    }
    factors = (factor_texts(data.final), factor_texts(data.previous))
    state = None if con is None else WrittenFiles.load(con, inputs.school_year, PACK_KIND, folder)
    keys = (
        {}
        if state is None
        else pack_keys(
            data,
            codes,
            rejects=inputs.rejects,
            quarantined=quarantined,
            missing=missing,
            delivered=delivered,
            pii=pii,
            school_year=inputs.school_year,
            audits=inputs.audits,
            previous_codes=previous_codes,
            factors=factors,
        )
    )
    for code in codes:
        paths = (folder / f"{code}.xlsx", folder / f"{code}.html")
        if state is not None and state.up_to_date(paths, keys[code]):
            continue
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
            previous_code=previous_codes[code],
            factors=factors,
        )
        write_pack_xlsx(paths[0], pack)
        write_pack_html(paths[1], pack)
        if state is not None:
            for path in paths:
                state.wrote(path, keys[code])
    if state is not None and con is not None:
        state.save(con)
        inputs.written, inputs.kept = len(state.written) // 2, len(state.kept) // 2
    return codes
