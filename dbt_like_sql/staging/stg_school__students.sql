-- purpose: students from the CSDL export and the platform lists, flagged by origin; rows quarantined by the validate stage are excluded
-- grain: source_file, source_sheet, source_row (a row of the file; in business terms one row per school × school year × source list × student)
-- partition: school_year
with raw as (
    select * from raw_student
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'student'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        raw.student_key,
        raw.moet_id,
        raw.local_id,
        raw.status,
        raw.is_enrolled,
        raw.class_code,
        raw.class_name,
        raw.grade,
        raw.layout_id,
        coalesce(raw.layout_id like 'csdl.%', false) as is_csdl,
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
