-- purpose: 2.3.7 accounting module: count of vouchers dated in the year, for schools that delivered vouchers for the year
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

vouchers as (
    select * from stg_misa__vouchers
),

final as (
    select
        vouchers.school_code,
        vouchers.school_year,
        '2.3.7' as criterion_code,
        cast(count(distinct vouchers.voucher_no) filter (
            where vouchers.voucher_date between schools.year_start and schools.year_end
        ) as double) as numerator,
        cast(null as double) as denominator,
        cast(count(distinct vouchers.voucher_no) filter (
            where vouchers.voucher_date between schools.year_start and schools.year_end
        ) as double) as value,
        'ok' as status
    from vouchers
    inner join schools
        on vouchers.school_code = schools.school_code
        and vouchers.school_year = schools.school_year
    group by vouchers.school_code, vouchers.school_year
)

select * from final
