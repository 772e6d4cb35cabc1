-- purpose: presence criteria counted from LMS metrics (1.3.1–1.3.5): the sum of the criterion's metric over LMS rows of the school measured in the year, any role; only schools that delivered LMS rows for the year (the rows counted and the rule live in int_counted__lms; here they are added up)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with activity as (
    select * from stg_lms__activity
),

counted as (
    select * from int_counted__lms
),

presence_criteria as (
    select cfg_params.criterion_code
    from cfg_params
    inner join cfg_criteria on cfg_params.criterion_code = cfg_criteria.criterion_code
    where cfg_params.param = 'metric' and cfg_criteria.rule_type = 'presence'
),

delivered as (
    select distinct school_code, school_year from activity
),

totals as (
    select school_code, school_year, criterion_code, sum(amount) as total
    from counted
    where role = 'numerator'
    group by school_code, school_year, criterion_code
),

final as (
    select
        delivered.school_code,
        delivered.school_year,
        presence_criteria.criterion_code,
        cast(coalesce(totals.total, 0) as double) as numerator,
        cast(null as double) as denominator,
        cast(coalesce(totals.total, 0) as double) as value,
        'ok' as status
    from delivered
    cross join presence_criteria
    left join totals
        on delivered.school_code = totals.school_code
        and delivered.school_year = totals.school_year
        and presence_criteria.criterion_code = totals.criterion_code
)

select * from final
