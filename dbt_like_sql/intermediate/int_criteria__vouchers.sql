-- purpose: 2.3.7 accounting module: count of vouchers dated in the year, for schools that delivered vouchers for the year (the rows counted and the rule live in int_counted__vouchers; here they are added up)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with schools as (
    select * from int_schools__universe
),

counted as (
    select * from int_counted__vouchers
),

delivered as (
    -- a delivered voucher list, even one with no rows, is a count of zero
    select school_code, school_year from int_sources__delivered
    where entity = 'accounting_voucher'
),

counts as (
    select school_code, school_year, count(*) as n_vouchers
    from counted
    where criterion_code = '2.3.7' and role = 'numerator'
    group by school_code, school_year
),

final as (
    select
        delivered.school_code,
        delivered.school_year,
        '2.3.7' as criterion_code,
        cast(coalesce(counts.n_vouchers, 0) as double) as numerator,
        cast(null as double) as denominator,
        cast(coalesce(counts.n_vouchers, 0) as double) as value,
        'ok' as status
    from delivered
    inner join schools
        on delivered.school_code = schools.school_code
        and delivered.school_year = schools.school_year
    left join counts
        on delivered.school_code = counts.school_code
        and delivered.school_year = counts.school_year
)

select * from final
