-- purpose: bills where the successful payments add up to more than the amount due (a bill without a bill number is its own transaction)
-- vi: Khoản thu có tổng số tiền đã nộp thành công lớn hơn số phải nộp
-- grain: one row per school × bill
-- asset: raw_fee_transaction
-- blocking: false
with transactions as (
    select * from raw_fee_transaction
),

paid as (
    select
        school_code,
        school_year,
        coalesce(bill_id, transaction_id) as bill_key,
        max(amount_due) as amount_due_vnd,
        sum(amount_paid) as amount_paid_vnd,
        count(*) as n_payments,
        string_agg(distinct transaction_id, ', ' order by transaction_id) as transaction_ids,
        string_agg(distinct source_file, ', ' order by source_file) as source_files
    from transactions
    where coalesce(status, 'paid') = 'paid' and amount_paid is not null
    group by school_code, school_year, coalesce(bill_id, transaction_id)
),

final as (
    select
        school_code,
        school_year,
        bill_key,
        amount_due_vnd,
        amount_paid_vnd,
        amount_paid_vnd - amount_due_vnd as overpaid_vnd,
        n_payments,
        transaction_ids,
        source_files
    from paid
    where amount_due_vnd is not null and amount_paid_vnd > amount_due_vnd
)

select * from final
order by school_code, school_year, bill_key
