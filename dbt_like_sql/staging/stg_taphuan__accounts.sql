-- purpose: teacher-training portal accounts matched to staff; rows quarantined by the validate stage are excluded
-- grain: source_file, source_sheet, source_row (a row of the file; in business terms one row per school × delivered school year × account)
-- partition: school_year
with raw as (
    select * from raw_training_account
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'training_account'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        raw.account_id,
        raw.account_status,
        upper(trim(coalesce(raw.matched_staff_id, raw.staff_id))) as matched_staff_id,
        raw.match_method,
        raw.source_file,
        raw.source_sheet,
        raw.source_row
    from raw
    anti join rejected
        on raw.source_file = rejected.source_file
        and raw.source_sheet = rejected.source_sheet
        and raw.source_row = rejected.source_row
)

select * from final
