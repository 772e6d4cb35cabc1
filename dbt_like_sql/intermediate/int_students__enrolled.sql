-- purpose: enrolled students of each school and year: the CSDL ngành export (csdl.student.v1) when the school has one for the year, else its platform student list; student_id is the moet_id, else the local code; the class comes from the row, else from the class list by class_code, else from the platform list
-- grain: school_code, school_year, student_id (one row per school × school year × student)
-- partition: school_year
with students as not materialized (
    -- not materialized: each of the three readers below scans the few columns it needs rather than a copy
    -- of every column of every student row
    select * from stg_school__students
),

csdl_delivered as (
    select distinct school_code, school_year from students
    where is_csdl
),

chosen as (
    select students.*
    from students
    left join csdl_delivered
        on students.school_code = csdl_delivered.school_code
        and students.school_year = csdl_delivered.school_year
    where
        students.is_enrolled
        and students.is_csdl = (csdl_delivered.school_code is not null)
),

class_list as (
    select school_code, school_year, class_code, any_value(class_name) as class_name, max(grade) as grade
    from stg_csdl__classes
    where class_code is not null
    group by school_code, school_year, class_code
),

platform_classes as (
    select school_code, school_year, moet_id, any_value(class_name) as class_name, max(grade) as grade
    from students
    where not is_csdl and moet_id is not null and class_name is not null
    group by school_code, school_year, moet_id
),

located as (
    select
        chosen.school_code,
        chosen.school_year,
        coalesce(chosen.moet_id, chosen.student_key) as student_id,
        chosen.moet_id,
        coalesce(chosen.class_name, class_list.class_name, platform_classes.class_name) as class_name,
        coalesce(chosen.grade, class_list.grade, platform_classes.grade) as grade
    from chosen
    left join class_list
        on chosen.school_code = class_list.school_code
        and chosen.school_year = class_list.school_year
        and chosen.class_code = class_list.class_code
    left join platform_classes
        on chosen.school_code = platform_classes.school_code
        and chosen.school_year = platform_classes.school_year
        and chosen.moet_id = platform_classes.moet_id
),

final as (
    select
        school_code,
        school_year,
        student_id,
        any_value(moet_id) as moet_id,
        any_value(class_name) as class_name,
        max(grade) as grade
    from located
    where student_id is not null
    group by school_code, school_year, student_id
)

select * from final
