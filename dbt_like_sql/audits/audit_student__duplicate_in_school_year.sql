-- purpose: students recorded more than once in one school and year: the same student id on several rows of one source system, or in several classes (inflates every per-student denominator)
-- vi: Học sinh được ghi nhiều lần trong cùng một trường và năm học (cùng mã trên nhiều dòng hoặc ở nhiều lớp)
-- grain: one row per school × school year × student id that is duplicated
-- asset: raw_student
-- blocking: false
with students as (
    select * from raw_student
),

rejected as (
    select source_file, source_sheet, source_row
    from dq_quarantine_rows
    where stage = 'validate' and entity = 'student'
),

kept as (
    select students.*
    from students
    anti join rejected
        on students.source_file = rejected.source_file
        and students.source_sheet = rejected.source_sheet
        and students.source_row = rejected.source_row
),

keyed as (
    select
        school_code,
        school_year,
        coalesce(moet_id, student_key) as student_id,
        source_system,
        class_name,
        source_file,
        source_row
    from kept
    where coalesce(moet_id, student_key) is not null
),

per_system as (
    select
        school_code,
        school_year,
        student_id,
        max(n_rows) as max_rows_in_one_system
    from (
        select school_code, school_year, student_id, source_system, count(*) as n_rows
        from keyed
        group by school_code, school_year, student_id, source_system
    ) as by_system
    group by school_code, school_year, student_id
),

per_student as (
    select
        school_code,
        school_year,
        student_id,
        count(*) as n_rows,
        count(distinct class_name) as n_classes,
        string_agg(distinct class_name, ', ' order by class_name) as class_names,
        string_agg(distinct source_file, ', ' order by source_file) as source_files
    from keyed
    group by school_code, school_year, student_id
),

final as (
    select
        per_student.school_code,
        per_student.school_year,
        per_student.student_id,
        per_student.n_rows,
        per_student.n_classes,
        per_student.class_names,
        per_student.source_files
    from per_student
    inner join per_system
        on per_student.school_code = per_system.school_code
        and per_student.school_year = per_system.school_year
        and per_student.student_id = per_system.student_id
    where per_system.max_rows_in_one_system > 1 or per_student.n_classes > 1
)

select * from final
order by school_code, school_year, student_id
