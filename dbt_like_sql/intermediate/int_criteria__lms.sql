-- purpose: presence criteria counted from LMS metrics (1.3.1–1.3.5): the sum of the criterion's metric (cfg_params.metric) over LMS rows of the school measured in the year, any role; only schools that delivered LMS rows for the year
-- grain: one row per school × criterion × school year
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

delivered as (
    select distinct school_code, school_year from activity
),

in_year as (
    select activity.school_code, activity.school_year, activity.metric, sum(activity.value) as total
    from activity
    inner join schools
        on activity.school_code = schools.school_code
        and activity.school_year = schools.school_year
    where cast(coalesce(activity.measured_at, activity.period_end) as date)
        between schools.year_start and schools.year_end
    group by activity.school_code, activity.school_year, activity.metric
),

final as (
    select
        delivered.school_code,
        delivered.school_year,
        presence_metrics.criterion_code,
        cast(coalesce(in_year.total, 0) as double) as numerator,
        cast(null as double) as denominator,
        cast(coalesce(in_year.total, 0) as double) as value,
        'ok' as status
    from delivered
    cross join presence_metrics
    left join in_year
        on delivered.school_code = in_year.school_code
        and delivered.school_year = in_year.school_year
        and presence_metrics.metric = in_year.metric
)

select * from final
