-- purpose: every school known for a school year (registry, or any delivered data), the set every criterion is computed for
-- grain: one row per school × school year
with registry as (
    select school_code, school_year from raw_school
),

delivered as (
    select school_code, school_year from raw_facility
),

final as (
    select distinct school_code, school_year
    from (select * from registry union all select * from delivered)
    where school_code is not null and school_year is not null
)

select * from final
