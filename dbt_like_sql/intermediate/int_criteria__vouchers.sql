-- purpose: 2.3.7 accounting module: count of vouchers dated in the year, for schools that delivered vouchers for the year
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

vouchers as (
    select * from stg_misa__vouchers
),

delivered as (
    -- a delivered voucher list, even one with no rows, is a count of zero
    select school_code, school_year from int_sources__delivered where entity = 'accounting_voucher'
),

counts as (
    select
        vouchers.school_code,
        vouchers.school_year,
        count(distinct vouchers.voucher_no) filter (
            where vouchers.voucher_date between schools.year_start and schools.year_end
        ) as n_vouchers
    from vouchers
    inner join schools
        on vouchers.school_code = schools.school_code
        and vouchers.school_year = schools.school_year
    group by vouchers.school_code, vouchers.school_year
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
