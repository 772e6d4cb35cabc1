-- purpose: digital learning resources with approval and moderation status; rows quarantined by the validate stage are excluded
-- grain: source_file, source_sheet, source_row (a row of the file; in business terms one row per school × delivered school year × resource)
-- partition: school_year
with raw as (
    select * from raw_learning_resource
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'learning_resource'
),

final as (
    select
        raw.school_code,
        raw.school_year,
        raw.resource_id,
        raw.subject_code,
        raw.grade,
        upper(trim(raw.author_id)) as author_id,
        raw.created_at,
        raw.approval_status,
        coalesce(raw.moderation_status, 'normal') as moderation_status,
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
