-- purpose: computer-based tests; rows quarantined by the validate stage are excluded
-- grain: source_file, source_sheet, source_row (a row of the file; in business terms one row per school × school year × test)
-- partition: school_year
with raw as (
    select * from raw_computer_based_test
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'computer_based_test'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        raw.test_id,
        raw.subject_code,
        raw.grade,
        raw.test_kind,
        raw.mode,
        raw.held_at,
        coalesce(raw.results_synced, false) as results_synced,
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
