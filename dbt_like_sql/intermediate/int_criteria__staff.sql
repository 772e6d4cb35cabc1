-- purpose: 2.3.4 staff module: active staff whose record is complete over active staff (the rows counted and the rule live in int_counted__staff; here they are added up)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with counted as (
    select * from int_counted__staff
),

counts as (
    select
        school_code,
        school_year,
        count(*) filter (where role = 'denominator') as n_active,
        count(*) filter (where role = 'numerator') as n_complete
    from counted
    where criterion_code = '2.3.4'
    group by school_code, school_year
),

final as (
    select
        school_code,
        school_year,
        '2.3.4' as criterion_code,
        cast(n_complete as double) as numerator,
        cast(n_active as double) as denominator,
        n_complete / nullif(n_active, 0) as value,
        case when n_active > 0 then 'ok' else 'no_data' end as status
    from counts
)

select * from final
