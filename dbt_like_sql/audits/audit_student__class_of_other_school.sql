-- purpose: students whose class code is not a class of their own school but is a class of another school in the same year
-- vi: Học sinh có mã lớp không thuộc trường mình mà thuộc một trường khác cùng năm học
-- grain: one row per student row (school × school year × student × source row)
-- asset: raw_student
-- blocking: false
with students as (
    select * from raw_student
),

classes as (
    select * from raw_class
),

own_class as (
    select distinct school_code, school_year, class_code
    from classes
    where class_code is not null
),

final as (
    select
        students.school_code,
        students.school_year,
        coalesce(students.moet_id, students.student_key) as student_id,
        students.class_code,
        classes.school_code as class_school_code,
        students.source_file,
        students.source_sheet,
        students.source_row
    from students
    inner join classes
        on students.class_code = classes.class_code
        and students.school_year = classes.school_year
        and students.school_code <> classes.school_code
    anti join own_class
        on students.school_code = own_class.school_code
        and students.school_year = own_class.school_year
        and students.class_code = own_class.class_code
)

select * from final
order by school_code, school_year, student_id
