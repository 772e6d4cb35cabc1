-- purpose: the units 2.3.8 counts, with their role (the one home of this rule; int_criteria__sync aggregates them): every required sync of a school that delivered a sync log (entities × milestones from cfg_params, the MM-DD deadline placed inside the school year) in the denominator (a requirement, not a source row: no file), and those met by a successful sync (cfg_params result) of that entity and period sent on or before the end of the deadline day in the numerator, at the first such log row; fields_read names the values the rule read, no personal data
-- grain: school_code, school_year, criterion_code, role, entity, item_code, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a school's required syncs: a handful of rows; read by int_criteria__sync and by `cds explain`)
with schools as (
    select * from int_schools__universe
),

sync_log as (
    select * from stg_school__csdl_sync_log
),

required_entities as (
    select value as entity from cfg_params
    where criterion_code = '2.3.8' and param = 'entities'
),

milestones as (
    select key as period, value as deadline_mmdd
    from cfg_params
    where criterion_code = '2.3.8' and param = 'deadlines'
),

ok_results as (
    select value from cfg_params
    where criterion_code = '2.3.8' and param = 'result'
),

has_log as (
    -- a delivered sync log, even one with no rows, counts as a log
    select school_code, school_year from int_sources__delivered
    where entity = 'csdl_sync_log'
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
    -- each requirement's first successful sync sent by its deadline
    select
        required.school_code,
        required.school_year,
        required.entity,
        required.period,
        sync_log.sent_at,
        sync_log.result,
        sync_log.source_file,
        sync_log.source_sheet,
        sync_log.source_row
    from required
    inner join sync_log
        on required.school_code = sync_log.school_code
        and required.school_year = sync_log.school_year
        and required.entity = sync_log.entity
        and required.period = sync_log.period
    where
        sync_log.result in (select ok_results.value from ok_results)
        and cast(sync_log.sent_at as date) <= required.deadline
    qualify row_number() over (
        partition by required.school_code, required.school_year, required.entity, required.period
        order by sync_log.source_file, sync_log.source_sheet, sync_log.source_row
    ) = 1
),

facts as (
    select
        required.*,
        met.sent_at,
        met.result,
        met.source_file,
        met.source_sheet,
        met.source_row,
        'Đồng bộ ' || required.entity || ' kỳ ' || required.period || ', hạn '
        || strftime(required.deadline, '%d/%m/%Y') as requirement
    from required
    left join met
        on required.school_code = met.school_code
        and required.school_year = met.school_year
        and required.entity = met.entity
        and required.period = met.period
),

final as (
    select
        school_code, school_year, '2.3.8' as criterion_code, 'denominator' as role, 'csdl_sync_log' as entity,
        entity || '/' || period as item_code, cast(null as varchar) as source_file,
        cast(null as varchar) as source_sheet, cast(null as bigint) as source_row, 1.0 as amount,
        requirement || ' (yêu cầu theo bộ chỉ số); đạt: '
        || case when source_row is null then 'không' else 'có' end as fields_read
    from facts
    union all
    select
        school_code, school_year, '2.3.8', 'numerator', 'csdl_sync_log', entity || '/' || period, source_file,
        source_sheet, source_row, 1.0,
        requirement || ': gửi ngày ' || strftime(cast(sent_at as date), '%d/%m/%Y') || ', kết quả ' || result
    from facts
    where source_row is not null
)

select * from final
