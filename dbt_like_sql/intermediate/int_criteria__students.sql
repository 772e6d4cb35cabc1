-- purpose: student-based ratios: 2.3.2 enrolled CSDL students present in a platform student list, 2.3.6 enrolled students with a health record measured in the year, 2.4.1 enrolled students with an active parent account used in the year (the rows counted and the rules live in int_counted__students; here they are added up, and whether the inputs were delivered decides the status)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with students as (
    select * from stg_school__students
),

counted as (
    select * from int_counted__students
),

lists as (
    select
        school_code,
        school_year,
        bool_or(is_csdl) as has_csdl,
        bool_or(not is_csdl) as has_platform
    from students
    group by school_code, school_year
),

counts as (
    select
        school_code,
        school_year,
        criterion_code,
        count(*) filter (where role = 'numerator') as n,
        count(*) filter (where role = 'denominator') as n_enrolled
    from counted
    group by school_code, school_year, criterion_code
),

c_2_3_2 as (
    select
        lists.school_code,
        lists.school_year,
        '2.3.2' as criterion_code,
        cast(c.n as double) as numerator,
        cast(c.n_enrolled as double) as denominator,
        c.n / nullif(c.n_enrolled, 0) as value,
        case when lists.has_csdl and lists.has_platform and c.n_enrolled > 0 then 'ok' else 'no_data' end
            as status
    from lists
    left join counts as c
        on lists.school_code = c.school_code
        and lists.school_year = c.school_year
        and c.criterion_code = '2.3.2'
),

delivered as (
    select entity, school_code, school_year
    from int_sources__delivered
    where entity in ('health_record', 'parent_app_account')
),

c_2_3_6_2_4_1 as (
    select
        delivered.school_code,
        delivered.school_year,
        case delivered.entity when 'health_record' then '2.3.6' else '2.4.1' end as criterion_code,
        cast(c.n as double) as numerator,
        cast(c.n_enrolled as double) as denominator,
        c.n / nullif(c.n_enrolled, 0) as value,
        case when c.n_enrolled > 0 then 'ok' else 'no_data' end as status
    from delivered
    left join counts as c
        on delivered.school_code = c.school_code
        and delivered.school_year = c.school_year
        and c.criterion_code = case delivered.entity when 'health_record' then '2.3.6' else '2.4.1' end
),

final as (
    select * from c_2_3_2
    union all
    select * from c_2_3_6_2_4_1
)

select * from final
