-- purpose: rooms of each school and year that passed validation (rows quarantined by the validate stage are excluded)
-- grain: source_file, source_sheet, source_row (a row of the file; in business terms one row per school × school year × room)
-- partition: school_year
with raw as (
    select * from raw_facility
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'facility'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        raw.room_code,
        raw.room_type,
        coalesce(raw.has_projector_or_tv, false) as has_projector_or_tv,
        coalesce(raw.has_internet, false) as has_internet,
        raw.computers_total,
        raw.computers_working,
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
