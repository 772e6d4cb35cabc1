-- purpose: 2.4.3 cashless fee collection: amount paid in the year through cashless channels over all amount paid, for schools that delivered transactions (the rows counted and the rule live in int_counted__fees; here they are added up)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with counted as (
    select * from int_counted__fees
),

has_list as (
    select school_code, school_year from int_sources__delivered
    where entity = 'fee_transaction'
),

sums as (
    select
        school_code,
        school_year,
        coalesce(sum(amount) filter (where role = 'denominator'), 0) as amount_paid_vnd,
        coalesce(sum(amount) filter (where role = 'numerator'), 0) as amount_cashless_vnd
    from counted
    where criterion_code = '2.4.3'
    group by school_code, school_year
),

final as (
    select
        has_list.school_code,
        has_list.school_year,
        '2.4.3' as criterion_code,
        cast(sums.amount_cashless_vnd as double) as numerator,
        cast(sums.amount_paid_vnd as double) as denominator,
        sums.amount_cashless_vnd / nullif(sums.amount_paid_vnd, 0) as value,
        case when coalesce(sums.amount_paid_vnd, 0) > 0 then 'ok' else 'no_data' end as status
    from has_list
    left join sums
        on has_list.school_code = sums.school_code
        and has_list.school_year = sums.school_year
)

select * from final
