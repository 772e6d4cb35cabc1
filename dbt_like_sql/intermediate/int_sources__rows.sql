-- purpose: the validated source rows of every entity the criteria read (after validate-stage exclusions), for provenance
-- grain: entity, source_file, source_sheet, source_row (one row per entity × source file × sheet × row: distinct for the entities whose rows hold several records — marks, assignment classes, activity metrics)
-- partition: school_year
-- materialized: view (read by the provenance view and, file by file, by mart_indicator_values: a table would copy every source row once more)
with final as (
    select 'school' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_csdl__schools
    union all
    select 'class' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_csdl__classes
    union all
    select 'student' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_school__students
    union all
    select 'staff' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_csdl__staff
    union all
    select distinct
        'teaching_assignment' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_school__teaching_assignments
    union all
    select distinct 'grade_entry' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_school__grade_entries
    union all
    select 'transcript' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_school__transcripts
    union all
    select distinct 'lms_activity' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_lms__activity
    union all
    select 'learning_resource' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_lms__resources
    union all
    select 'computer_based_test' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_cbt__tests
    union all
    select 'facility' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_csdl__rooms
    union all
    select 'training_account' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_taphuan__accounts
    union all
    select 'parent_app_account' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_school__parent_accounts
    union all
    select 'fee_transaction' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_payment__transactions
    union all
    select 'admission_application' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_admission__applications
    union all
    select 'health_record' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_school__health_records
    union all
    select 'accounting_voucher' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_misa__vouchers
    union all
    select 'csdl_sync_log' as entity, school_code, school_year, source_file, source_sheet, source_row
    from stg_school__csdl_sync_log
)

select * from final
