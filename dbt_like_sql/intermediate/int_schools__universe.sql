-- purpose: every school known for a school year (registry, or any delivered data), with its level (Cấp học) and the school-year window from cfg_params
-- grain: school_code, school_year (one row per school × school year)
-- partition: none (a school without a level in the registry of a year takes its latest level of any year)
with registry as (
    select school_code, school_year, level from stg_csdl__schools
),

window_params as (
    select
        max(value) filter (where param = 'year_start') as start_mmdd,
        max(value) filter (where param = 'year_end') as end_mmdd
    from cfg_params
    where criterion_code = '*'
),

school_years as (
    -- every school and year with raw rows: the files of int_sources__files (every entity the criteria
    -- read) and the self-assessment
    select distinct school_code, school_year
    from (
        select school_code, school_year from int_sources__files
        union all
        select school_code, school_year from raw_self_assessment
    ) as delivered
    where school_code is not null and school_year is not null
),

level_this_year as (
    select school_code, school_year, any_value(level) as level
    from registry
    where level is not null
    group by school_code, school_year
),

level_any_year as (
    select school_code, arg_max(level, school_year) as level
    from registry
    where level is not null
    group by school_code
),

final as (
    select
        school_years.school_code,
        school_years.school_year,
        coalesce(level_this_year.level, level_any_year.level) as level,
        cast(left(school_years.school_year, 4) as integer) as start_year,
        make_date(
            cast(left(school_years.school_year, 4) as integer),
            cast(split_part(window_params.start_mmdd, '-', 1) as integer),
            cast(split_part(window_params.start_mmdd, '-', 2) as integer)
        ) as year_start,
        make_date(
            cast(left(school_years.school_year, 4) as integer)
            + case when window_params.end_mmdd < window_params.start_mmdd then 1 else 0 end,
            cast(split_part(window_params.end_mmdd, '-', 1) as integer),
            cast(split_part(window_params.end_mmdd, '-', 2) as integer)
        ) as year_end
    from school_years
    cross join window_params
    left join level_this_year
        on school_years.school_code = level_this_year.school_code
        and school_years.school_year = level_this_year.school_year
    left join level_any_year
        on school_years.school_code = level_any_year.school_code
)

select * from final
