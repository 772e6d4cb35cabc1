-- purpose: the reconciliation findings of one school year as published to the lakehouse
-- grain: one row per finding (school × school year × criterion × finding kind)
-- column: finding_id (varchar): a stable identifier of the finding: 16 hex digits of a SHA-256 of its school, year, criterion and kind
-- column: school_code (varchar): the school's code in the education database (CSDL) registry
-- column: school_year (varchar): the school year, as 'YYYY-YYYY' (e.g. 2024-2025)
-- column: criterion_code (varchar): the leaf criterion the finding is about; empty for a finding about the school's total or level
-- column: finding (varchar): the kind of finding: OVER_CLAIM, UNDER_CLAIM, NO_DATA, MISSING_EVIDENCE, INVALID_SELF_SCORE or LEVEL_CHANGE
-- column: severity (varchar): high, medium or low, as the reconciliation rules grade the finding
-- column: self_points (double): the points the school declared in its self-assessment
-- column: computed_points (double): the points the pipeline computed from the exported data
-- column: points_at_stake (double): the points the finding puts at stake (absolute, rounded half up to 2 decimals)
with final as (
    select
        finding_id,
        school_code,
        school_year,
        coalesce(criterion_code, '') as criterion_code,
        finding,
        severity,
        self_points,
        computed_points,
        points_at_stake
    from rec_findings
    where school_year = $school_year
)

select * from final
order by school_code, criterion_code, finding
