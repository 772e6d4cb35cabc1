-- purpose: 2.4.3 cashless fee collection: amount paid in the year through cashless channels over all amount paid (statuses and channels from cfg_params), for schools that delivered transactions
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

transactions as (
    select * from stg_payment__transactions
),

paid_statuses as (
    select value from cfg_params where criterion_code = '2.4.3' and param = 'status'
),

cashless_channels as (
    select value from cfg_params where criterion_code = '2.4.3' and param = 'cashless_channels'
),

paid as (
    select transactions.*
    from transactions
    inner join schools
        on transactions.school_code = schools.school_code
        and transactions.school_year = schools.school_year
    where transactions.status in (select value from paid_statuses)
        and cast(transactions.paid_at as date) between schools.year_start and schools.year_end
),

has_list as (
    select school_code, school_year from int_sources__delivered where entity = 'fee_transaction'
),

sums as (
    select
        school_code,
        school_year,
        coalesce(sum(amount_paid), 0) as amount_paid_vnd,
        coalesce(sum(amount_paid) filter (where channel in (select value from cashless_channels)), 0)
            as amount_cashless_vnd
    from paid
    group by school_code, school_year
),

final as (
    select
        has_list.school_code,
        has_list.school_year,
        '2.4.3' as criterion_code,
        cast(sums.amount_cashless_vnd as double) as numerator,
        cast(sums.amount_paid_vnd as double) as denominator,
        sums.amount_cashless_vnd / sums.amount_paid_vnd as value,
        case when coalesce(sums.amount_paid_vnd, 0) > 0 then 'ok' else 'no_data' end as status
    from has_list
    left join sums
        on has_list.school_code = sums.school_code
        and has_list.school_year = sums.school_year
)

select * from final
