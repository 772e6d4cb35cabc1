-- purpose: Student rows whose MOET id (10 digits) does not start with a province code: a MOET id begins with the code of the province that issued it (cfg_admin_units, before or since the 2025 reform), so such a value is most likely a platform's local id (vnEdu writes 10-digit local ids) read into the MOET-id column
-- vi: Mã định danh Bộ GD&ĐT của học sinh có 10 chữ số nhưng hai chữ số đầu không phải mã tỉnh: nhiều khả năng là mã học sinh riêng của phần mềm (vnEdu) bị ghi vào cột mã định danh
-- grain: one row per student row (school × school year × source file × sheet × row)
-- asset: raw_student
-- blocking: false
with students as (
    select * from raw_student
    where moet_id is not null and length(moet_id) = 10
),

provinces as (
    select distinct lpad(cast(province_code as varchar), 2, '0') as province_code
    from cfg_admin_units
),

final as (
    select
        students.school_code,
        students.school_year,
        students.moet_id,
        left(students.moet_id, 2) as id_prefix,
        students.layout_id,
        students.source_file,
        students.source_sheet,
        students.source_row
    from students
    anti join provinces
        on left(students.moet_id, 2) = provinces.province_code
)

select * from final
order by school_code, school_year, source_file, source_sheet, source_row
