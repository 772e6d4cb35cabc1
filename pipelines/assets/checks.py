"""Asset checks: each SQL audit of `dbt_like_sql/audits/` becomes a check on the asset named in its header,
and the Great Expectations suites (quality/gx_suites.py) become checks at the two boundaries. Checks
are thin: they run a pure function from `quality/` and publish the count and a markdown preview.

Blocking vs warning (the `-- blocking:` header of each audit; blocking = severity ERROR and the
downstream assets are not materialised while offending rows exist):

- audit_student__duplicate_in_school_year (raw_student, warning): the models count enrolled students
  by distinct moet_id, so duplicates cannot inflate a published ratio; the school must still fix its list.
- audit_grade_entry__student_not_enrolled (raw_grade_entry, warning): 2.3.3 only looks at enrolled
  students' marks, so these rows cannot change a score; one school's messy grade book must not stop the
  province's publication.
- audit_student__class_of_other_school (raw_student, warning): the student still counts for its own
  school; only the class link is wrong.
- audit_teaching_assignment__class_missing (raw_teaching_assignment, warning): no criterion is scored
  from assignments to unknown classes; the school must fix its class list.
- audit_csdl_sync_log__unknown_school (raw_csdl_sync_log, warning): rows of an unknown school reach no
  published score; the registry must be completed.
- audit_fee_transaction__paid_above_due (raw_fee_transaction, warning): 2.4.3 counts cashless payments,
  not amounts; overpayment is a finance issue to report.

The Great Expectations checks are warnings on the raw side (completeness, freshness and volume are
findings for the data-quality report, not reasons to stop) and blocking on the published side
(`score_indicators__scored`: a duplicated school × criterion or points outside 0..max are wrong scores).
"""

import warnings
from typing import TYPE_CHECKING

import dagster as dg

from indicator_sets.model import load_indicator_set
from pipelines.partitions import year_of
from pipelines.resources import PipelineConfig, WarehouseResource
from quality import coverage
from quality.audits import Audit, load_audits, run_audit

if TYPE_CHECKING:  # Great Expectations is imported by the GX checks when they run (seconds of start-up)
    from quality.gx_suites import SuiteOutcome


def audit_deps(audit: Audit, assets: set[str]) -> list[str]:
    """The tables the audit reads besides its own asset that are assets of the project (e.g. the
    duplicate-student audit reads dq_quarantine_rows): its check runs after them."""
    return sorted(t for t in audit.model.reads if t != audit.asset and t in assets)


def partitioned_check(**kwargs: object):  # type: ignore[no-untyped-def]
    """`dg.asset_check` with a partitions_def, without Dagster's PreviewWarning on every load: a
    partitioned check is a preview feature that this project uses knowingly (it gives the check its
    school year; tests/unit/test_definitions.py guards the checks), and the warning printed on every
    `cds run` and `make demo` told the data team nothing they could act on."""

    def wrap(fn):  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.asset_check(**kwargs)(fn)  # type: ignore[call-overload]

    return wrap


def _audit_check(
    audit: Audit, partitions: dg.PartitionsDefinition, assets: set[str]
) -> dg.AssetChecksDefinition:
    @partitioned_check(
        asset=audit.asset,
        name=audit.name,
        description=audit.description,
        blocking=audit.blocking,
        partitions_def=partitions,
        additional_deps=audit_deps(audit, assets),
        metadata={"sql_file": f"dbt_like_sql/audits/{audit.model.path.name}", "blocking": audit.blocking},
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        school_year = year_of(context) if context.has_partition_key else None
        with warehouse.connect() as con:
            result = run_audit(con, audit, school_year)
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR if audit.blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "offending_rows": dg.MetadataValue.int(result.count),
                "preview": dg.MetadataValue.md(result.preview_markdown()),
                "grain": audit.model.grain,
            },
        )

    return _check


def build_audit_checks(
    partitions: dg.PartitionsDefinition, assets: set[str] | None = None
) -> list[dg.AssetChecksDefinition]:
    """One asset check per SQL audit; `assets` (keys of the project's assets) gives each check its
    additional upstreams (`audit_deps`)."""
    return [_audit_check(a, partitions, assets or set()) for a in load_audits().values()]


def _gx_result(outcome: "SuiteOutcome", blocking: bool) -> dg.AssetCheckResult:
    failed = [
        f"{f.get('description') or f['expectation']} ({f['expectation']} {f['kwargs']}): {f['result']}"
        for f in outcome.failed
    ]
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "expectations": outcome.n_expectations,
            "failed_expectations": len(failed),
            "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failed) or "_(none)_"),
            "data_docs": dg.MetadataValue.path(str(outcome.docs_index)),
        },
    )


def build_gx_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """The two Great Expectations suites as checks (raw inputs: warning; published outputs: blocking)."""

    @partitioned_check(
        asset="dq_quarantine_rows",
        name="gx_raw_inputs",
        blocking=False,
        partitions_def=partitions,
        additional_ins={"cov": dg.AssetIn("delivery_coverage")},
        description="GX – dữ liệu đầu vào: mỗi trường nộp đủ nguồn, tệp mới nhất không quá cũ, số "
        "dòng mỗi nguồn không đổi quá mức so với lần chạy trước.",
    )
    def _raw(
        context: dg.AssetCheckExecutionContext,
        cov: coverage.Coverage,
        warehouse: WarehouseResource,
        pipeline: PipelineConfig,
    ) -> dg.AssetCheckResult:
        from quality.gx_suites import run_raw_inputs_suite

        school_year = year_of(context)
        with warehouse.connect() as con:
            outcome = run_raw_inputs_suite(
                con, school_year, pipeline.out_path / "data_docs" / school_year, cov=cov
            )
        return _gx_result(outcome, blocking=False)

    @partitioned_check(
        asset="score_schools__scored",
        name="gx_published_outputs",
        blocking=True,
        partitions_def=partitions,
        additional_deps=["score_indicators__scored"],
        description="GX – kết quả công bố: một dòng cho mỗi trường × tiêu chí, điểm trong khoảng "
        "0..tối đa, mức đạt khớp với tổng điểm các nhóm.",
    )
    def _published(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, pipeline: PipelineConfig
    ) -> dg.AssetCheckResult:
        from quality.gx_suites import run_published_suite

        school_year = year_of(context)
        iset = load_indicator_set(pipeline.indicator_set)
        with warehouse.connect() as con:
            scored = con.execute(
                "SELECT * FROM score_indicators__scored WHERE school_year = ?", [school_year]
            ).df()
            scores = con.execute(
                "SELECT * FROM score_schools__scored WHERE school_year = ?", [school_year]
            ).df()
        outcome = run_published_suite(
            scored, scores, pipeline.out_path / "data_docs" / school_year, iset.level_of, school_year
        )
        return _gx_result(outcome, blocking=True)

    return [_raw, _published]


def build_checks(
    partitions: dg.PartitionsDefinition, assets: set[str] | None = None
) -> list[dg.AssetChecksDefinition]:
    """Every asset check of the project (audits and Great Expectations suites); `assets`: see
    `build_audit_checks`."""
    return [*build_audit_checks(partitions, assets), *build_gx_checks(partitions)]
