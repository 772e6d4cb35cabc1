-- purpose: the source rows the teacher shares 1.6.1–1.6.3 count, with their role (the one home of these rules; int_criteria__teachers aggregates them): the active teachers (int_staff__active, is_teacher) in every denominator, one row per teacher at the first working row of its staff id in the CSDL staff list; 1.6.1 numerator: the teacher's first training account whose status is active (cfg_params) matched to its staff id; 1.6.2 numerator: the teacher's staff row when its LMS events of the metric (cfg_params) measured in the year add up to at least min_events (the counted unit is the teacher: fields_read gives the sum and the number of LMS rows behind it rather than every LMS row); 1.6.3 numerator: the teacher's first authored resource created on or before the end of the year when it has at least min_resources; fields_read names the values the rule read, no personal data (no name, no staff id)
-- grain: school_code, school_year, criterion_code, role, entity, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a school's teachers: tens of rows; read by int_criteria__teachers and by `cds explain`)
with schools as (
    select * from int_schools__universe
),

teachers as (
    select * from int_staff__active
    where is_teacher
),

staff_rows as (
    select * from stg_csdl__staff
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
    select value from cfg_params
    where criterion_code = '1.6.1' and param = 'account_status'
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

located as (
    -- the first working row of each staff id
    select school_code, school_year, staff_id, source_file, source_sheet, source_row
    from staff_rows
    where employment_status = 'working' and staff_id is not null
    qualify row_number() over (
        partition by school_code, school_year, staff_id order by source_file, source_sheet, source_row
    ) = 1
),

with_account as (
    -- the first active account matched to each staff id (an account may sit in another school's folder)
    select school_year, matched_staff_id as staff_id, account_status, source_file, source_sheet, source_row
    from accounts
    where account_status in (select account_ok.value from account_ok) and matched_staff_id is not null
    qualify row_number() over (
        partition by school_year, matched_staff_id order by source_file, source_sheet, source_row
    ) = 1
),

events as (
    select
        activity.school_code, activity.school_year, upper(trim(activity.user_pin)) as staff_id,
        sum(activity.value) as n_events, count(*) as n_rows
    from activity
    inner join schools
        on activity.school_code = schools.school_code
        and activity.school_year = schools.school_year
    cross join event_params
    where
        activity.metric = event_params.metric
        and cast(coalesce(activity.measured_at, activity.period_end) as date)
        between schools.year_start and schools.year_end
    group by activity.school_code, activity.school_year, upper(trim(activity.user_pin))
),

authored as (
    select
        resources.school_code,
        resources.school_year,
        resources.author_id as staff_id,
        count(*) over (partition by resources.school_code, resources.school_year, resources.author_id)
            as n_resources,
        resources.source_file,
        resources.source_sheet,
        resources.source_row
    from resources
    inner join schools
        on resources.school_code = schools.school_code
        and resources.school_year = schools.school_year
    where
        resources.author_id is not null
        and (resources.created_at is null or cast(resources.created_at as date) <= schools.year_end)
    qualify row_number() over (
        partition by resources.school_code, resources.school_year, resources.author_id
        order by resources.source_file, resources.source_sheet, resources.source_row
    ) = 1
),

per_teacher as (
    select
        teachers.school_code,
        teachers.school_year,
        located.source_file,
        located.source_sheet,
        located.source_row,
        with_account.source_file as account_file,
        with_account.source_sheet as account_sheet,
        with_account.source_row as account_row,
        with_account.account_status,
        coalesce(events.n_events, 0) as n_events,
        coalesce(events.n_rows, 0) as n_event_rows,
        event_params.metric,
        event_params.min_events,
        coalesce(events.n_events, 0) >= event_params.min_events as is_active_user,
        coalesce(authored.n_resources, 0) as n_resources,
        min_resources.n as min_resources,
        coalesce(authored.n_resources, 0) >= min_resources.n as is_author,
        authored.source_file as resource_file,
        authored.source_sheet as resource_sheet,
        authored.source_row as resource_row,
        case
            when
                coalesce(events.n_events, 0) = floor(coalesce(events.n_events, 0))
                then cast(cast(coalesce(events.n_events, 0) as bigint) as varchar)
            else replace(cast(coalesce(events.n_events, 0) as varchar), '.', ',')
        end as n_events_text,
        case
            when
                event_params.min_events = floor(event_params.min_events)
                then cast(cast(event_params.min_events as bigint) as varchar)
            else replace(cast(event_params.min_events as varchar), '.', ',')
        end as min_events_text,
        ' (giáo viên ở ' || coalesce(located.source_file, '?') || ', dòng '
        || coalesce(cast(located.source_row as varchar), '?') || ')' as teacher_ref
    from teachers
    cross join event_params
    cross join min_resources
    left join located
        on teachers.school_code = located.school_code
        and teachers.school_year = located.school_year
        and teachers.staff_id = located.staff_id
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

long as (
    select
        school_code,
        school_year,
        '1.6.1' as criterion_code,
        'denominator' as role,
        'staff' as entity,
        source_file,
        source_sheet, source_row,
        'Giáo viên đang làm việc; có tài khoản tập huấn hoạt động: '
        || case when account_row is null then 'không' else 'có' end as fields_read
    from per_teacher
    union all
    select
        school_code, school_year, '1.6.1', 'numerator', 'training_account', account_file, account_sheet,
        account_row, 'Tài khoản tập huấn trạng thái ' || account_status || teacher_ref
    from per_teacher
    where account_row is not null
    union all
    select
        school_code, school_year, '1.6.2', 'denominator', 'staff', source_file, source_sheet, source_row,
        'Giáo viên đang làm việc; '
        || coalesce(metric, '?')
        || ' trong năm học: '
        || n_events_text
        || ' (tối thiểu '
        || coalesce(min_events_text, '?') || ')'
    from per_teacher
    union all
    select
        school_code, school_year, '1.6.2', 'numerator', 'staff', source_file, source_sheet, source_row,
        'Tổng '
        || coalesce(metric, '?')
        || ' trong năm học '
        || n_events_text
        || ' ≥ '
        || min_events_text
        || ' (từ '
        || n_event_rows || ' dòng LMS có user_pin là mã giáo viên)'
    from per_teacher
    where is_active_user
    union all
    select
        school_code, school_year, '1.6.3', 'denominator', 'staff', source_file, source_sheet, source_row,
        'Giáo viên đang làm việc; học liệu là tác giả, tạo đến hết năm học: ' || n_resources
    from per_teacher
    union all
    select
        school_code, school_year, '1.6.3', 'numerator', 'learning_resource', resource_file, resource_sheet,
        resource_row,
        'Học liệu đầu tiên của giáo viên (' || n_resources || ' học liệu, tối thiểu ' || min_resources || ')'
        || teacher_ref
    from per_teacher
    where is_author
),

final as (
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        cast(null as varchar) as item_code,
        source_file,
        source_sheet, source_row, 1.0 as amount, fields_read
    from long
)

select * from final
