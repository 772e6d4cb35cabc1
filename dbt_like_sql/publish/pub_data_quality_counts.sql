-- purpose: data-quality counts of one school year as published to the lakehouse: files per ingest status, source rows read, kept and rejected, and quarantined rows per stage and reason
-- grain: one row per school year × measure × code
-- column: school_year (varchar): the school year, as 'YYYY-YYYY' (e.g. 2024-2025)
-- column: measure (varchar): what is counted: files_by_status, source_rows, or quarantine_rows_<stage>
-- column: code (varchar): the file status, the row count's kind (read, kept, rejected) or the quarantine reason code
-- column: n (bigint): the count of files or rows
with manifest as (
    select * from ingest_manifest
    where delivery_year = $school_year
),

quarantine as (
    select * from dq_quarantine_rows
    where school_year = $school_year
),

files as (
    select 'files_by_status' as measure, status as code, count(*) as n
    from manifest
    group by status
),

rows_read as (
    select 'source_rows' as measure, 'read' as code, coalesce(sum(rows_read), 0) as n from manifest
    union all
    select 'source_rows', 'kept', coalesce(sum(rows_kept), 0) from manifest
    union all
    select 'source_rows', 'rejected', coalesce(sum(rows_rejected), 0) from manifest
),

rejects as (
    select 'quarantine_rows_' || stage as measure, reason_code as code, count(*) as n
    from quarantine
    group by stage, reason_code
),

final as (
    select $school_year as school_year, measure, code, cast(n as bigint) as n
    from (
        select * from files
        union all
        select * from rows_read
        union all
        select * from rejects
    ) as measures
)

select * from final
order by measure, code
