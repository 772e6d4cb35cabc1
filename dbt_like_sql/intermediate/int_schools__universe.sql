-- purpose: every school known for a school year (registry, or any delivered data), with its level (Cấp học) and the school-year window from cfg_params
-- grain: one row per school × school year
with registry as (
    select school_code, school_year, level from stg_csdl__schools
),

window_params as (
    select
        max(value) filter (where param = 'year_start') as start_mmdd,
        max(value) filter (where param = 'year_end') as end_mmdd
    from cfg_params
    where criterion_code = '*'
),

delivered as (
    select school_code, school_year from raw_school
    union all select school_code, school_year from raw_class
    union all select school_code, school_year from raw_student
    union all select school_code, school_year from raw_staff
    union all select school_code, school_year from raw_teaching_assignment
    union all select school_code, school_year from raw_grade_entry
    union all select school_code, school_year from raw_transcript
    union all select school_code, school_year from raw_lms_activity
    union all select school_code, school_year from raw_learning_resource
    union all select school_code, school_year from raw_computer_based_test
    union all select school_code, school_year from raw_facility
    union all select school_code, school_year from raw_training_account
    union all select school_code, school_year from raw_parent_app_account
    union all select school_code, school_year from raw_fee_transaction
    union all select school_code, school_year from raw_admission_application
    union all select school_code, school_year from raw_health_record
    union all select school_code, school_year from raw_accounting_voucher
    union all select school_code, school_year from raw_csdl_sync_log
    union all select school_code, school_year from raw_self_assessment
),

school_years as (
    select distinct school_code, school_year
    from delivered
    where school_code is not null and school_year is not null
),

level_this_year as (
    select school_code, school_year, any_value(level) as level
    from registry
    where level is not null
    group by school_code, school_year
),

level_any_year as (
    select school_code, arg_max(level, school_year) as level
    from registry
    where level is not null
    group by school_code
),

final as (
    select
        school_years.school_code,
        school_years.school_year,
        coalesce(level_this_year.level, level_any_year.level) as level,
        cast(left(school_years.school_year, 4) as integer) as start_year,
        make_date(
            cast(left(school_years.school_year, 4) as integer),
            cast(split_part(window_params.start_mmdd, '-', 1) as integer),
            cast(split_part(window_params.start_mmdd, '-', 2) as integer)
        ) as year_start,
        make_date(
            cast(left(school_years.school_year, 4) as integer)
            + case when window_params.end_mmdd < window_params.start_mmdd then 1 else 0 end,
            cast(split_part(window_params.end_mmdd, '-', 1) as integer),
            cast(split_part(window_params.end_mmdd, '-', 2) as integer)
        ) as year_end
    from school_years
    cross join window_params
    left join level_this_year
        on school_years.school_code = level_this_year.school_code
        and school_years.school_year = level_this_year.school_year
    left join level_any_year
        on school_years.school_code = level_any_year.school_code
)

select * from final
