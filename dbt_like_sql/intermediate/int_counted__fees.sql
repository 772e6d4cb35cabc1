-- purpose: the fee-transaction rows 2.4.3 counts, with their role and amount (the one home of this rule; int_criteria__fees aggregates them): every transaction paid in the school year (paid statuses from cfg_params, paid_at inside the year) in the denominator, those through a cashless channel (cfg_params) also in the numerator; amount = amount_paid in VND; fields_read names the values the rule read, no personal data (transaction code, amount, channel, status, date)
-- grain: school_code, school_year, criterion_code, role, entity, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a school's payments of a year: hundreds to thousands of rows; read by int_criteria__fees and by `cds explain`)
with schools as (
    select * from int_schools__universe
),

transactions as (
    select * from stg_payment__transactions
),

paid_statuses as (
    select value from cfg_params
    where criterion_code = '2.4.3' and param = 'status'
),

cashless_channels as (
    select value from cfg_params
    where criterion_code = '2.4.3' and param = 'cashless_channels'
),

paid as (
    select
        transactions.*,
        transactions.channel in (select cashless_channels.value from cashless_channels) as is_cashless,
        'Mã giao dịch ' || coalesce(transactions.transaction_id, '?') || '; số tiền '
        || coalesce(cast(transactions.amount_paid as varchar), '?') || ' đ; kênh '
        || coalesce(transactions.channel, '?') || '; trạng thái ' || coalesce(transactions.status, '?')
        || '; ngày nộp ' || strftime(cast(transactions.paid_at as date), '%d/%m/%Y') as fields_read
    from transactions
    inner join schools
        on transactions.school_code = schools.school_code
        and transactions.school_year = schools.school_year
    where
        transactions.status in (select paid_statuses.value from paid_statuses)
        and cast(transactions.paid_at as date) between schools.year_start and schools.year_end
),

final as (
    select
        school_code,
        school_year,
        '2.4.3' as criterion_code,
        'denominator' as role,
        'fee_transaction' as entity,
        transaction_id as item_code,
        source_file,
        source_sheet,
        source_row,
        cast(amount_paid as double) as amount,
        fields_read
    from paid
    union all
    select
        school_code, school_year, '2.4.3', 'numerator', 'fee_transaction', transaction_id, source_file,
        source_sheet, source_row, cast(amount_paid as double), fields_read
    from paid
    where is_cashless
)

select * from final
