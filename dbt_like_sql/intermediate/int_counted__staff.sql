-- purpose: the staff-list rows 2.3.4 counts, with their role (the one home of this rule; int_criteria__staff aggregates them): every active staff member (int_staff__active) in the denominator and those whose record is complete in the numerator, one row per staff member at the first working row of that staff id in the CSDL staff list (a staff id listed twice is counted once: fields_read says how many rows it has); fields_read names the values the rule read, no personal data (no name, no staff id: the file, sheet and row find the person)
-- grain: school_code, school_year, criterion_code, role, entity, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a school's staff list: tens of rows; read by int_criteria__staff and by `cds explain`)
with active as (
    select * from int_staff__active
),

staff_rows as (
    select * from stg_csdl__staff
),

located as (
    -- the first working row of each active staff id, and how many working rows it has
    select
        school_code,
        school_year,
        staff_id,
        source_file,
        source_sheet,
        source_row,
        count(*) over (partition by school_code, school_year, staff_id) as n_rows
    from staff_rows
    where employment_status = 'working' and staff_id is not null
    qualify row_number() over (
        partition by school_code, school_year, staff_id order by source_file, source_sheet, source_row
    ) = 1
),

facts as (
    select
        active.school_code,
        active.school_year,
        active.is_complete,
        located.source_file,
        located.source_sheet,
        located.source_row,
        'Trạng thái working; ' || case when active.is_teacher then 'giáo viên' else 'không là giáo viên' end
        || '; hồ sơ đủ (chức vụ, trạng thái' || case when active.is_teacher then ', môn dạy' else '' end
        || ') ' || case when active.is_complete then 'có' else 'không' end
        || case
            when located.n_rows > 1 then ' (mã cán bộ có ' || located.n_rows || ' dòng, đếm một lần)' else ''
        end
            as fields_read
    from active
    left join located
        on active.school_code = located.school_code
        and active.school_year = located.school_year
        and active.staff_id = located.staff_id
),

final as (
    select
        school_code, school_year, '2.3.4' as criterion_code, 'denominator' as role, 'staff' as entity,
        cast(null as varchar) as item_code, source_file, source_sheet, source_row, 1.0 as amount, fields_read
    from facts
    union all
    select
        school_code,
        school_year,
        '2.3.4',
        'numerator',
        'staff',
        cast(null as varchar),
        source_file,
        source_sheet,
        source_row, 1.0, fields_read
    from facts
    where is_complete
)

select * from final
