-- purpose: teaching assignments (staff × class × subject × semester); rows quarantined by the validate stage are excluded
-- grain: source_file, source_sheet, source_row, class_name, subject_code, semester (a record of a row of the file: one row can hold several; in business terms one row per school × school year × staff × class × subject × semester)
-- partition: school_year
with raw as (
    select * from raw_teaching_assignment
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'teaching_assignment'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        upper(trim(raw.staff_id)) as staff_id,
        raw.subject_code,
        raw.class_name,
        raw.semester,
        raw.periods_per_week,
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
