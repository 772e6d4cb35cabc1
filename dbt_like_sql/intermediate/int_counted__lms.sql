-- purpose: the LMS rows the presence criteria 1.3.1–1.3.5 count (the one home of these rules; int_criteria__lms aggregates them): every LMS activity row of the school whose metric is the criterion's (cfg_params.metric) measured in the school year (measured_at, else period_end), any role, in the numerator with amount = its value (the criterion has no denominator); fields_read names the values the rule read (metric, value, date, role), no personal data (no user_pin)
-- grain: school_code, school_year, criterion_code, role, entity, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a school's LMS rows: per period and user; read by int_criteria__lms and by `cds explain`)
with schools as (
    select * from int_schools__universe
),

activity as (
    select * from stg_lms__activity
),

presence_metrics as (
    select cfg_params.criterion_code, cfg_params.value as metric
    from cfg_params
    inner join cfg_criteria on cfg_params.criterion_code = cfg_criteria.criterion_code
    where cfg_params.param = 'metric' and cfg_criteria.rule_type = 'presence'
),

final as (
    select
        activity.school_code,
        activity.school_year,
        presence_metrics.criterion_code,
        'numerator' as role,
        'lms_activity' as entity,
        cast(null as varchar) as item_code,
        activity.source_file,
        activity.source_sheet,
        activity.source_row,
        cast(activity.value as double) as amount,
        'Chỉ số ' || activity.metric || ' = ' || coalesce(
            case
                when
                    activity.value = floor(activity.value)
                    then cast(cast(activity.value as bigint) as varchar)
                else replace(cast(activity.value as varchar), '.', ',')
            end, '?'
        ) || '; ngày '
        || strftime(cast(coalesce(activity.measured_at, activity.period_end) as date), '%d/%m/%Y')
        || '; vai trò ' || coalesce(activity.role, '?') as fields_read
    from activity
    inner join schools
        on activity.school_code = schools.school_code
        and activity.school_year = schools.school_year
    inner join presence_metrics on activity.metric = presence_metrics.metric
    where
        cast(coalesce(activity.measured_at, activity.period_end) as date)
        between schools.year_start and schools.year_end
)

select * from final
