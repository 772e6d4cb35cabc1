-- purpose: the reconciliation findings of one school year as published to the lakehouse
-- grain: one row per finding (school × school year × criterion × finding kind)
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
    from findings
    where school_year = $school_year
)

select * from final
order by school_code, criterion_code, finding
