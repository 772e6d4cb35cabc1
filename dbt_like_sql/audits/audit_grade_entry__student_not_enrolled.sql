-- purpose: grade-book entries of students who are not enrolled in that school and year (unknown, transferred out, dropped out), for schools that delivered a student list; they would inflate criterion 2.3.3
-- vi: Điểm trong sổ điểm của học sinh không đang học tại trường năm học đó (không có trong danh sách, đã chuyển đi hoặc thôi học)
-- grain: one row per school × school year × student key found in the grade book
-- asset: raw_grade_entry
-- blocking: false
with grades as (
    select * from raw_grade_entry
),

students as (
    select * from raw_student
),

schools_with_list as (
    select distinct school_code, school_year
    from students
),

enrolled_ids as (
    select school_code, school_year, moet_id as student_id
    from students
    where is_enrolled and moet_id is not null
    union
    select school_code, school_year, local_id as student_id
    from students
    where is_enrolled and local_id is not null
    union
    select school_code, school_year, student_key as student_id
    from students
    where is_enrolled and student_key is not null
),

graded as (
    select
        grades.school_code,
        grades.school_year,
        coalesce(grades.moet_id, grades.student_key) as student_id,
        grades.student_key,
        grades.local_id,
        grades.source_file
    from grades
    semi join schools_with_list
        on grades.school_code = schools_with_list.school_code
        and grades.school_year = schools_with_list.school_year
),

not_enrolled as (
    -- no enrolled id equals the entry's student id, student key or local id: three anti joins on
    -- equalities (hash joins) instead of one on an OR of them (a nested-loop join)
    select graded.*
    from graded
    anti join enrolled_ids as by_id
        on graded.school_code = by_id.school_code
        and graded.school_year = by_id.school_year
        and graded.student_id = by_id.student_id
    anti join enrolled_ids as by_key
        on graded.school_code = by_key.school_code
        and graded.school_year = by_key.school_year
        and graded.student_key = by_key.student_id
    anti join enrolled_ids as by_local
        on graded.school_code = by_local.school_code
        and graded.school_year = by_local.school_year
        and graded.local_id = by_local.student_id
),

final as (
    select
        school_code,
        school_year,
        student_id,
        count(*) as n_entries,
        string_agg(distinct source_file, ', ' order by source_file) as source_files
    from not_enrolled
    group by school_code, school_year, student_id
)

select * from final
order by school_code, school_year, student_id
