-- purpose: national mart: verification factor per province and criterion (computed points ÷ self points over the criteria with a computed value; below 1 means over-reporting), and the national factor of each criterion over all provinces, from the published per-province sums
-- grain: one row per school year × province (or 'ALL' for the nation) × criterion
with sums as (
    select * from lake_verification_factors
),

by_province as (
    select school_year, province_code, criterion_code, n_criteria, self_points, computed_points
    from sums
),

national as (
    select
        school_year,
        'ALL' as province_code,
        criterion_code,
        sum(n_criteria) as n_criteria,
        sum(self_points) as self_points,
        sum(computed_points) as computed_points
    from sums
    group by school_year, criterion_code
),

final as (
    select
        school_year,
        province_code,
        criterion_code,
        cast(n_criteria as bigint) as n_criteria,
        round(self_points, 2) as self_points,
        round(computed_points, 2) as computed_points,
        round(computed_points / nullif(self_points, 0), 4) as factor
    from (
        select * from by_province
        union all
        select * from national
    ) as factors
)

select * from final
order by school_year, province_code, criterion_code
