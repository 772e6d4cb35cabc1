-- purpose: 1.6.1–1.6.3 shares of active teachers: with an active training account (matched staff id), with at least min_events LMS activity events in the year (user_pin = staff_id), who authored a resource created on or before the end of the year
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

teachers as (
    select * from int_staff__active where is_teacher
),

accounts as (
    select * from stg_taphuan__accounts
),

activity as (
    select * from stg_lms__activity
),

resources as (
    select * from stg_lms__resources
),

account_ok as (
    select value from cfg_params where criterion_code = '1.6.1' and param = 'account_status'
),

event_params as (
    select
        max(value) filter (where param = 'metric') as metric,
        max(try_cast(value as double)) filter (where param = 'min_events') as min_events
    from cfg_params
    where criterion_code = '1.6.2'
),

min_resources as (
    select coalesce(max(try_cast(value as integer)), 1) as n
    from cfg_params
    where criterion_code = '1.6.3' and param = 'min_resources'
),

with_account as (
    select distinct school_year, matched_staff_id as staff_id
    from accounts
    where account_status in (select value from account_ok) and matched_staff_id is not null
),

events as (
    select activity.school_code, activity.school_year, upper(trim(activity.user_pin)) as staff_id,
        sum(activity.value) as n_events
    from activity
    inner join schools
        on activity.school_code = schools.school_code
        and activity.school_year = schools.school_year
    cross join event_params
    where activity.metric = event_params.metric
        and cast(coalesce(activity.measured_at, activity.period_end) as date)
            between schools.year_start and schools.year_end
    group by activity.school_code, activity.school_year, upper(trim(activity.user_pin))
),

authored as (
    select resources.school_code, resources.school_year, resources.author_id as staff_id, count(*) as n_resources
    from resources
    inner join schools
        on resources.school_code = schools.school_code
        and resources.school_year = schools.school_year
    where resources.author_id is not null
        and (resources.created_at is null or cast(resources.created_at as date) <= schools.year_end)
    group by resources.school_code, resources.school_year, resources.author_id
),

per_teacher as (
    select
        teachers.school_code,
        teachers.school_year,
        teachers.staff_id,
        with_account.staff_id is not null as has_account,
        coalesce(events.n_events, 0) >= event_params.min_events as is_active_user,
        coalesce(authored.n_resources, 0) >= min_resources.n as is_author
    from teachers
    cross join event_params
    cross join min_resources
    left join with_account
        on teachers.school_year = with_account.school_year
        and teachers.staff_id = with_account.staff_id
    left join events
        on teachers.school_code = events.school_code
        and teachers.school_year = events.school_year
        and teachers.staff_id = events.staff_id
    left join authored
        on teachers.school_code = authored.school_code
        and teachers.school_year = authored.school_year
        and teachers.staff_id = authored.staff_id
),

counts as (
    select
        school_code,
        school_year,
        count(*) as n_teachers,
        count(*) filter (where has_account) as n_account,
        count(*) filter (where is_active_user) as n_active_user,
        count(*) filter (where is_author) as n_author
    from per_teacher
    group by school_code, school_year
),

inputs as (
    select
        schools.school_code,
        schools.school_year,
        exists (
            select 1 from accounts
            where accounts.school_code = schools.school_code and accounts.school_year = schools.school_year
        ) as has_accounts,
        exists (
            select 1 from activity
            where activity.school_code = schools.school_code and activity.school_year = schools.school_year
        ) as has_activity,
        exists (
            select 1 from int_sources__delivered as delivered
            where delivered.entity = 'learning_resource'
                and delivered.school_code = schools.school_code and delivered.school_year = schools.school_year
        ) as has_resources
    from schools
),

long as (
    select counts.school_code, counts.school_year, '1.6.1' as criterion_code, counts.n_account as n,
        counts.n_teachers, inputs.has_accounts as has_input
    from counts
    inner join inputs on counts.school_code = inputs.school_code and counts.school_year = inputs.school_year
    union all
    select counts.school_code, counts.school_year, '1.6.2', counts.n_active_user, counts.n_teachers,
        inputs.has_activity
    from counts
    inner join inputs on counts.school_code = inputs.school_code and counts.school_year = inputs.school_year
    union all
    select counts.school_code, counts.school_year, '1.6.3', counts.n_author, counts.n_teachers,
        inputs.has_resources
    from counts
    inner join inputs on counts.school_code = inputs.school_code and counts.school_year = inputs.school_year
),

final as (
    select
        school_code,
        school_year,
        criterion_code,
        cast(n as double) as numerator,
        cast(n_teachers as double) as denominator,
        n / n_teachers as value,
        case when has_input and n_teachers > 0 then 'ok' else 'no_data' end as status
    from long
)

select * from final
