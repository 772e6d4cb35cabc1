-- purpose: 2.3.8 periodic data exchange with CSDL ngành: required syncs (entities × milestones with their deadline day, from cfg_params) met by a successful sync of that entity and period sent on or before the end of the deadline day
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

sync_log as (
    select * from stg_school__csdl_sync_log
),

required_entities as (
    select value as entity from cfg_params where criterion_code = '2.3.8' and param = 'entities'
),

milestones as (
    select key as period, value as deadline_mmdd
    from cfg_params
    where criterion_code = '2.3.8' and param = 'deadlines'
),

ok_results as (
    select value from cfg_params where criterion_code = '2.3.8' and param = 'result'
),

has_log as (
    -- a delivered sync log, even one with no rows, counts as a log
    select school_code, school_year from int_sources__delivered where entity = 'csdl_sync_log'
),

required as (
    select
        has_log.school_code,
        has_log.school_year,
        required_entities.entity,
        milestones.period,
        -- a MM-DD deadline is placed inside the school-year window
        make_date(
            year(schools.year_start)
            + case when strftime(schools.year_start, '%m-%d') <= milestones.deadline_mmdd then 0 else 1 end,
            cast(split_part(milestones.deadline_mmdd, '-', 1) as integer),
            cast(split_part(milestones.deadline_mmdd, '-', 2) as integer)
        ) as deadline
    from has_log
    inner join schools
        on has_log.school_code = schools.school_code
        and has_log.school_year = schools.school_year
    cross join required_entities
    cross join milestones
),

met as (
    select
        required.school_code,
        required.school_year,
        required.entity,
        required.period,
        exists (
            select 1
            from sync_log
            where sync_log.school_code = required.school_code
                and sync_log.school_year = required.school_year
                and sync_log.entity = required.entity
                and sync_log.period = required.period
                and sync_log.result in (select value from ok_results)
                and cast(sync_log.sent_at as date) <= required.deadline
        ) as is_met
    from required
),

final as (
    select
        school_code,
        school_year,
        '2.3.8' as criterion_code,
        cast(count(*) filter (where is_met) as double) as numerator,
        cast(count(*) as double) as denominator,
        count(*) filter (where is_met) / count(*) as value,
        'ok' as status
    from met
    group by school_code, school_year
)

select * from final
