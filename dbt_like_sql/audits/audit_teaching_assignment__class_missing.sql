-- purpose: teaching assignments to a class that is not in the school's class list for that year (for schools that delivered a class list)
-- vi: Phân công giảng dạy cho một lớp không có trong danh sách lớp của trường năm học đó
-- grain: one row per assignment (school × school year × staff × class × subject × semester)
-- asset: raw_teaching_assignment
-- blocking: false
with assignments as (
    select * from raw_teaching_assignment
),

classes as (
    select * from raw_class
),

schools_with_list as (
    select distinct school_code, school_year
    from classes
),

final as (
    select
        assignments.school_code,
        assignments.school_year,
        assignments.staff_id,
        assignments.class_name,
        assignments.subject_code,
        assignments.semester,
        assignments.source_file,
        assignments.source_sheet,
        assignments.source_row
    from assignments
    semi join schools_with_list
        on assignments.school_code = schools_with_list.school_code
        and assignments.school_year = schools_with_list.school_year
    anti join classes
        on assignments.school_code = classes.school_code
        and assignments.school_year = classes.school_year
        and assignments.class_name = classes.class_name
)

select * from final
order by school_code, school_year, staff_id, class_name, subject_code, semester
