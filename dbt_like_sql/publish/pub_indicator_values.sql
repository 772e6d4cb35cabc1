-- purpose: the criterion values of one school year as published to the lakehouse (codes and figures only, no personal data): computed value, status and points beside the school's own points
-- grain: one row per school × criterion × school year
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
    from final_indicator_values
    where school_year = $school_year
)

select * from final
order by school_code, criterion_code
