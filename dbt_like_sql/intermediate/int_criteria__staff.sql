-- purpose: 2.3.4 staff module: active staff whose record is complete over active staff
-- grain: one row per school × criterion × school year
with active as (
    select * from int_staff__active
),

counts as (
    select
        school_code,
        school_year,
        count(*) as n_active,
        count(*) filter (where is_complete) as n_complete
    from active
    group by school_code, school_year
),

final as (
    select
        school_code,
        school_year,
        '2.3.4' as criterion_code,
        cast(n_complete as double) as numerator,
        cast(n_active as double) as denominator,
        n_complete / n_active as value,
        'ok' as status
    from counts
)

select * from final
