-- purpose: parent-app accounts per student; rows quarantined by the validate stage are excluded
-- grain: source_file, source_sheet, source_row (a row of the file; in business terms one row per school × school year × student × parent account)
-- partition: school_year
with raw as (
    select * from raw_parent_app_account
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'parent_app_account'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        raw.student_key,
        -- the student key in the cross-walk's padded form (int_students__crosswalk.code): a 1–9 digit
        -- code left-padded to 10 (moet_ids and vnEdu local codes lose leading zeros as numbers); the
        -- length test first spares the regular expression on 10-character keys
        case
            when length(raw.student_key) <= 9 and regexp_full_match(raw.student_key, '[0-9]{1,9}')
                then lpad(raw.student_key, 10, '0')
            else raw.student_key
        end as student_code,
        raw.moet_id,
        raw.class_name,
        raw.last_active_at,
        raw.status,
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
