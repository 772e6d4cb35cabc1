-- purpose: the criterion values of one school year as published to the lakehouse (codes and figures only, no personal data): computed value, status and points beside the school's own points
-- grain: one row per school × criterion × school year
-- column: school_code (varchar): the school's code in the education database (CSDL) registry
-- column: school_year (varchar): the school year, as 'YYYY-YYYY' (e.g. 2024-2025)
-- column: criterion_code (varchar): the leaf criterion of Decision 4725 (e.g. 1.3.1)
-- column: group_code (varchar): the criterion's group: DH (digital transformation in teaching and learning) or QT (in school management)
-- column: kind (varchar): how the criterion is assessed: data (computed from the exports), document or mandatory (taken from the self-assessment)
-- column: status (varchar): ok, no_data, not_applicable or self_declared, as in mart_indicator_values
-- column: numerator (double): the count or sum the criterion's rule adds up (status ok only, else null)
-- column: denominator (double): what the numerator is divided by, for a ratio criterion (null otherwise)
-- column: value (double): the computed value compared with the criterion's thresholds (status ok only, else null)
-- column: points (double): the final points of the criterion (computed, or the self-declared points for a self_declared row)
-- column: max_points (double): the most points the criterion can give
-- column: self_points (double): the points the school declared in its self-assessment (0 when not declared or rejected)
-- column: is_declared (boolean): whether the school's self-assessment declares the criterion
-- column: has_evidence (boolean): whether the self-assessment gives an evidence code for the criterion
with final as (
    select
        school_code,
        school_year,
        criterion_code,
        group_code,
        kind,
        status,
        numerator,
        denominator,
        value,
        points,
        max_points,
        self_points,
        coalesce(declared, false) as is_declared,
        coalesce(has_evidence, false) as has_evidence
    from score_indicators__final
    where school_year = $school_year
)

select * from final
order by school_code, criterion_code
