-- purpose: registry of schools with their level (Cấp học); rows quarantined by the validate stage are excluded
-- grain: source_file, source_sheet, source_row (a row of the file; in business terms one row per school × school year)
-- partition: school_year
with raw as (
    select * from raw_school
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'school'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        raw.level,
        raw.managing_unit,
        raw.management_platform,
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
