-- purpose: enrolled students of each school and year: the CSDL ngành export (csdl.student.v1) when the school has one for the year, else its platform student list; student_id is the moet_id, else the local code
-- grain: one row per school × school year × student
with students as (
    select * from stg_school__students
),

csdl_delivered as (
    select distinct school_code, school_year from students where is_csdl
),

chosen as (
    select students.*
    from students
    left join csdl_delivered
        on students.school_code = csdl_delivered.school_code
        and students.school_year = csdl_delivered.school_year
    where students.is_enrolled
        and students.is_csdl = (csdl_delivered.school_code is not null)
),

final as (
    select
        school_code,
        school_year,
        coalesce(moet_id, student_key) as student_id,
        any_value(moet_id) as moet_id,
        any_value(class_name) as class_name,
        max(grade) as grade
    from chosen
    where coalesce(moet_id, student_key) is not null
    group by school_code, school_year, coalesce(moet_id, student_key)
)

select * from final
