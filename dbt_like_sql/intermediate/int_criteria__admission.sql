-- purpose: 2.4.2 online admission: applications of the year of entry to an entry grade of the school's level (cfg_params.entry_grades), online over online + paper; not applicable without an entry grade or without applications, no data when every channel is unknown
-- grain: one row per school × criterion × school year
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
    select value from cfg_params where criterion_code = '2.4.2' and param = 'online_channel'
),

counted_channels as (
    select value from cfg_params where criterion_code = '2.4.2' and param = 'counted_channels'
),

school_grades as (
    -- a school of unknown level keeps every entry grade of the set
    select schools.school_code, schools.school_year, entry_grades.grade
    from schools
    inner join entry_grades
        on entry_grades.level = schools.level
        or (schools.level is null and entry_grades.grade is not null)
    where entry_grades.grade is not null
),

eligible as (
    select applications.*
    from applications
    inner join school_grades
        on applications.school_code = school_grades.school_code
        and applications.school_year = school_grades.school_year
        and applications.target_grade = school_grades.grade
),

counts as (
    select
        schools.school_code,
        schools.school_year,
        (select count(*) from school_grades
            where school_grades.school_code = schools.school_code
                and school_grades.school_year = schools.school_year) as n_entry_grades,
        count(eligible.application_id) as n_applications,
        count(eligible.application_id) filter (where eligible.channel in (select value from counted_channels))
            as n_counted,
        count(eligible.application_id) filter (where eligible.channel in (select value from online_channels))
            as n_online
    from schools
    left join eligible
        on schools.school_code = eligible.school_code
        and schools.school_year = eligible.school_year
    group by schools.school_code, schools.school_year
),

final as (
    select
        school_code,
        school_year,
        '2.4.2' as criterion_code,
        cast(n_online as double) as numerator,
        cast(n_counted as double) as denominator,
        n_online / n_counted as value,
        case
            when n_entry_grades = 0 or n_applications = 0 then 'not_applicable'
            when n_counted = 0 then 'no_data'
            else 'ok'
        end as status
    from counts
)

select * from final
