-- purpose: 2.4.2 online admission: applications of the year of entry to an entry grade of the school's level, online over online + paper; not applicable without an entry grade or without applications, no data when every channel is unknown (the rows counted and the rule live in int_counted__admission; here they are added up)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with schools as (
    select * from int_schools__universe
),

counted as (
    select * from int_counted__admission
),

entry_grades as (
    select key as level, try_cast(value as integer) as grade
    from cfg_params
    where criterion_code = '2.4.2' and param = 'entry_grades'
),

n_entry_grades as (
    -- a school of unknown level keeps every entry grade of the set
    select schools.school_code, schools.school_year, count(*) as n
    from schools
    inner join entry_grades
        on schools.level = entry_grades.level
        or (schools.level is null and entry_grades.grade is not null)
    where entry_grades.grade is not null
    group by schools.school_code, schools.school_year
),

sums as (
    select
        school_code,
        school_year,
        count(*) filter (where role in ('denominator', 'other')) as n_applications,
        count(*) filter (where role = 'denominator') as n_counted,
        count(*) filter (where role = 'numerator') as n_online
    from counted
    where criterion_code = '2.4.2'
    group by school_code, school_year
),

counts as (
    select
        schools.school_code,
        schools.school_year,
        coalesce(n_entry_grades.n, 0) as n_entry_grades,
        coalesce(sums.n_applications, 0) as n_applications,
        coalesce(sums.n_counted, 0) as n_counted,
        coalesce(sums.n_online, 0) as n_online
    from schools
    left join n_entry_grades
        on schools.school_code = n_entry_grades.school_code
        and schools.school_year = n_entry_grades.school_year
    left join sums
        on schools.school_code = sums.school_code
        and schools.school_year = sums.school_year
),

final as (
    select
        school_code,
        school_year,
        '2.4.2' as criterion_code,
        cast(n_online as double) as numerator,
        cast(n_counted as double) as denominator,
        n_online / nullif(n_counted, 0) as value,
        case
            when n_entry_grades = 0 or n_applications = 0 then 'not_applicable'
            when n_counted = 0 then 'no_data'
            else 'ok'
        end as status
    from counts
)

select * from final
