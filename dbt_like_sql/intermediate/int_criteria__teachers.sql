-- purpose: 1.6.1–1.6.3 shares of active teachers: with an active training account (matched staff id), with at least min_events LMS activity events in the year (user_pin = staff_id), who authored a resource created on or before the end of the year (the rows counted and the rules live in int_counted__teachers; here they are added up, and whether the inputs were delivered decides the status)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with schools as (
    select * from int_schools__universe
),

counted as (
    select * from int_counted__teachers
),

counts as (
    select
        school_code,
        school_year,
        criterion_code,
        count(*) filter (where role = 'numerator') as n,
        count(*) filter (where role = 'denominator') as n_teachers
    from counted
    group by school_code, school_year, criterion_code
),

inputs as (
    select
        schools.school_code,
        schools.school_year,
        exists(
            select 1 from stg_taphuan__accounts as taphuan
            where taphuan.school_code = schools.school_code and taphuan.school_year = schools.school_year
        ) as has_accounts,
        exists(
            select 1 from stg_lms__activity as activity
            where activity.school_code = schools.school_code and activity.school_year = schools.school_year
        ) as has_activity,
        exists(
            select 1 from int_sources__delivered as delivered
            where
                delivered.entity = 'learning_resource'
                and delivered.school_code = schools.school_code
                and delivered.school_year = schools.school_year
        ) as has_resources
    from schools
),

final as (
    select
        counts.school_code,
        counts.school_year,
        counts.criterion_code,
        cast(counts.n as double) as numerator,
        cast(counts.n_teachers as double) as denominator,
        counts.n / nullif(counts.n_teachers, 0) as value,
        case
            when
                counts.n_teachers > 0
                and case counts.criterion_code
                    when '1.6.1' then inputs.has_accounts
                    when '1.6.2' then inputs.has_activity
                    else inputs.has_resources
                end
                then 'ok'
            else 'no_data'
        end as status
    from counts
    inner join inputs on counts.school_code = inputs.school_code and counts.school_year = inputs.school_year
)

select * from final
