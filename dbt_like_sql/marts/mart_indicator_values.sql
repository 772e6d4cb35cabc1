-- purpose: the value of every criterion the data can prove, with numerator, denominator, status and source files
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

classrooms as (
    select * from int_facility__classrooms
),

c_1_7_1 as (
    select
        schools.school_code,
        schools.school_year,
        '1.7.1' as criterion_code,
        classrooms.n_classrooms_equipped::double as numerator,
        classrooms.n_classrooms::double as denominator,
        case when classrooms.n_classrooms > 0
            then round(classrooms.n_classrooms_equipped / classrooms.n_classrooms, 6) end as value,
        case when classrooms.n_classrooms > 0 then 'ok' else 'no_data' end as status,
        coalesce(classrooms.source_files, []) as source_files
    from schools
    left join classrooms
        on schools.school_code = classrooms.school_code
        and schools.school_year = classrooms.school_year
),

final as (
    select * from c_1_7_1
)

select * from final
