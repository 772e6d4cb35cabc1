-- purpose: LMS activity metrics; rows quarantined by the validate stage are excluded
-- grain: source_file, source_sheet, source_row, metric (a record of a row of the file: one row can hold several; in business terms one row per school × school year × user × metric × period)
-- partition: school_year
with raw as (
    select * from raw_lms_activity
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'lms_activity'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        raw.period_start,
        raw.period_end,
        raw.measured_at,
        raw.user_pin,
        raw.role,
        raw.subject_code,
        raw.grade,
        raw.metric,
        raw.value,
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
