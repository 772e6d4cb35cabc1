-- purpose: the files behind the source rows, from one pass over the raw rows of every entity the criteria read (the entities of int_sources__rows): each file's schools and years with its raw rows and how many of them the validate stage kept (the rows of the staging models, after the same exclusion on file, sheet and row); read by int_sources__delivered and int_schools__universe (raw rows) and mart_indicator_values (kept rows) instead of three passes over every raw row
-- grain: entity, source_file, school_code, school_year (one row per entity × source file × school × school year)
-- partition: school_year
with raw_rows as not materialized (
    -- not materialized: read once for the counts, once more (only the rows of files with a validate
    -- reject, found by their file) for the rejects
    select 'school' as entity, source_file, school_code, school_year, source_sheet, source_row from raw_school
    union all
    select 'class', source_file, school_code, school_year, source_sheet, source_row from raw_class
    union all
    select 'student', source_file, school_code, school_year, source_sheet, source_row
    from raw_student
    union all
    select 'staff', source_file, school_code, school_year, source_sheet, source_row from raw_staff
    union all
    select 'teaching_assignment', source_file, school_code, school_year, source_sheet, source_row
    from raw_teaching_assignment
    union all
    select 'grade_entry', source_file, school_code, school_year, source_sheet, source_row from raw_grade_entry
    union all
    select 'transcript', source_file, school_code, school_year, source_sheet, source_row from raw_transcript
    union all
    select 'lms_activity', source_file, school_code, school_year, source_sheet, source_row
    from raw_lms_activity
    union all
    select 'learning_resource', source_file, school_code, school_year, source_sheet, source_row
    from raw_learning_resource
    union all
    select 'computer_based_test', source_file, school_code, school_year, source_sheet, source_row
    from raw_computer_based_test
    union all
    select 'facility', source_file, school_code, school_year, source_sheet, source_row from raw_facility
    union all
    select 'training_account', source_file, school_code, school_year, source_sheet, source_row
    from raw_training_account
    union all
    select 'parent_app_account', source_file, school_code, school_year, source_sheet, source_row
    from raw_parent_app_account
    union all
    select 'fee_transaction', source_file, school_code, school_year, source_sheet, source_row
    from raw_fee_transaction
    union all
    select 'admission_application', source_file, school_code, school_year, source_sheet, source_row
    from raw_admission_application
    union all
    select 'health_record', source_file, school_code, school_year, source_sheet, source_row
    from raw_health_record
    union all
    select 'accounting_voucher', source_file, school_code, school_year, source_sheet, source_row
    from raw_accounting_voucher
    union all
    select 'csdl_sync_log', source_file, school_code, school_year, source_sheet, source_row
    from raw_csdl_sync_log
),

rejected as (
    select entity, source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate'
),

rejected_files as (
    select distinct entity, source_file from rejected
),

file_rows as (
    select entity, source_file, school_code, school_year, count(*) as n_rows
    from raw_rows
    group by entity, source_file, school_code, school_year
),

file_rejects as (
    -- the raw rows the staging models leave out (anti join on file, sheet and row), counted; the
    -- row-level join only sees the rows of the files that have a reject (a join on the file first)
    select
        candidate.entity,
        candidate.source_file,
        candidate.school_code,
        candidate.school_year,
        count(*) as n_rejected
    from (
        select raw_rows.*
        from raw_rows
        semi join rejected_files
            on raw_rows.entity = rejected_files.entity
            and raw_rows.source_file = rejected_files.source_file
    ) as candidate
    semi join rejected
        on candidate.entity = rejected.entity
        and candidate.source_file = rejected.source_file
        and candidate.source_sheet = rejected.source_sheet
        and candidate.source_row = rejected.source_row
    group by candidate.entity, candidate.source_file, candidate.school_code, candidate.school_year
),

final as (
    select
        file_rows.entity,
        file_rows.source_file,
        file_rows.school_code,
        file_rows.school_year,
        file_rows.n_rows,
        file_rows.n_rows - coalesce(file_rejects.n_rejected, 0) as n_rows_kept
    from file_rows
    left join file_rejects
        on file_rows.entity = file_rejects.entity
        and file_rows.source_file = file_rejects.source_file
        and file_rows.school_code is not distinct from file_rejects.school_code
        and file_rows.school_year is not distinct from file_rejects.school_year
)

select * from final
