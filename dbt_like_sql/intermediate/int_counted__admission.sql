-- purpose: the application rows 2.4.2 counts, with their role (the one home of this rule; int_criteria__admission aggregates them): every application of the year of entry to an entry grade of the school's level (cfg_params.entry_grades; a school of unknown level keeps every entry grade) with a counted channel (cfg_params.counted_channels: online or paper) in the denominator, those through an online channel (cfg_params.online_channel) in the numerator, and the eligible applications of an unknown channel under role 'other' (they decide no_data when nothing else is counted); fields_read names the values the rule read, no personal data (application code, grade, channel, status)
-- grain: school_code, school_year, criterion_code, role, entity, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a school's applications of a year; read by int_criteria__admission and by `cds explain`)
with schools as (
    select * from int_schools__universe
),

applications as (
    select * from stg_admission__applications
),

entry_grades as (
    select key as level, try_cast(value as integer) as grade
    from cfg_params
    where criterion_code = '2.4.2' and param = 'entry_grades'
),

online_channels as (
    select value from cfg_params
    where criterion_code = '2.4.2' and param = 'online_channel'
),

counted_channels as (
    select value from cfg_params
    where criterion_code = '2.4.2' and param = 'counted_channels'
),

school_grades as (
    -- a school of unknown level keeps every entry grade of the set
    select schools.school_code, schools.school_year, entry_grades.grade
    from schools
    inner join entry_grades
        on schools.level = entry_grades.level
        or (schools.level is null and entry_grades.grade is not null)
    where entry_grades.grade is not null
),

eligible as (
    select
        applications.*,
        applications.channel in (select counted_channels.value from counted_channels) as is_counted,
        applications.channel in (select online_channels.value from online_channels) as is_online,
        'Hồ sơ ' || applications.application_id || '; vào lớp ' || applications.target_grade || '; kênh '
        || coalesce(applications.channel, '?') || '; trạng thái ' || coalesce(applications.status, '?')
            as fields_read
    from applications
    inner join school_grades
        on applications.school_code = school_grades.school_code
        and applications.school_year = school_grades.school_year
        and applications.target_grade = school_grades.grade
    where applications.application_id is not null
),

final as (
    select
        school_code, school_year, '2.4.2' as criterion_code,
        case when coalesce(is_counted, false) then 'denominator' else 'other' end as role,
        'admission_application' as entity, cast(application_id as varchar) as item_code, source_file,
        source_sheet, source_row, 1.0 as amount,
        fields_read || case when coalesce(is_counted, false) then '' else ' (kênh không rõ: không tính)' end
            as fields_read
    from eligible
    union all
    select
        school_code,
        school_year,
        '2.4.2',
        'numerator',
        'admission_application',
        cast(application_id as varchar),
        source_file, source_sheet, source_row, 1.0, fields_read
    from eligible
    where is_online
)

select * from final
