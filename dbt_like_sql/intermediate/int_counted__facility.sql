-- purpose: the source rows the room-list criteria count, with their role (the one home of these rules; int_criteria__facility aggregates them): 1.7.1 classrooms (denominator) and those with both projector/TV and Internet (numerator); 1.7.2 the IT-lab rooms whose working computers are summed (numerator, amount = computers_working) and the largest class of the Informatics grades (denominator, amount = class size; the class-list row when the size comes from it); 2.3.5 every room of the year's list (numerator); fields_read names the values the rule read, no personal data
-- grain: school_code, school_year, criterion_code, role, entity, item_code, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (small: a school's rooms and classes; read by int_criteria__facility and by `cds explain`)
with rooms as (
    select * from stg_csdl__rooms
),

classes as (
    select * from int_classes__sizes
),

class_rows as (
    select * from stg_csdl__classes
),

classroom_types as (
    select value from cfg_params
    where criterion_code = '1.7.1' and param = 'room_type'
),

lab_types as (
    select value from cfg_params
    where criterion_code = '1.7.2' and param = 'room_type'
),

grade_range as (
    select
        max(try_cast(value as integer)) filter (where param = 'grade_min') as grade_min,
        max(try_cast(value as integer)) filter (where param = 'grade_max') as grade_max
    from cfg_params
    where criterion_code = '1.7.2'
),

room_facts as (
    select
        rooms.*,
        rooms.room_type in (select classroom_types.value from classroom_types) as is_classroom,
        rooms.room_type in (select lab_types.value from lab_types) as is_lab,
        'Mã phòng ' || coalesce(rooms.room_code, '?') || '; loại ' || coalesce(rooms.room_type, '?')
        || '; máy chiếu/TV ' || case when rooms.has_projector_or_tv then 'có' else 'không' end
        || '; Internet ' || case when rooms.has_internet then 'có' else 'không' end as room_fields
    from rooms
),

c_1_7_1 as (
    select
        school_code, school_year, '1.7.1' as criterion_code, 'denominator' as role, 'facility' as entity,
        room_code as item_code,
        source_file,
        source_sheet,
        source_row,
        1.0 as amount,
        room_fields as fields_read
    from room_facts
    where is_classroom
    union all
    select
        school_code, school_year, '1.7.1', 'numerator', 'facility', room_code, source_file, source_sheet,
        source_row, 1.0, room_fields
    from room_facts
    where is_classroom and has_projector_or_tv and has_internet
),

c_1_7_2_labs as (
    select
        school_code, school_year, '1.7.2' as criterion_code, 'numerator' as role, 'facility' as entity,
        room_code as item_code, source_file, source_sheet, source_row,
        cast(coalesce(computers_working, 0) as double) as amount,
        'Mã phòng '
        || coalesce(room_code, '?')
        || '; loại '
        || coalesce(room_type, '?')
        || '; máy tính hoạt động '
        || coalesce(cast(computers_working as varchar), '0') as fields_read
    from room_facts
    where is_lab
),

in_range as (
    select classes.*
    from classes
    cross join grade_range
    where classes.grade between grade_range.grade_min and grade_range.grade_max and classes.class_size > 0
),

largest as (
    select in_range.*
    from in_range
    qualify
        in_range.class_size
        = max(in_range.class_size) over (partition by in_range.school_code, in_range.school_year)
),

c_1_7_2_class as (
    select
        largest.school_code, largest.school_year, '1.7.2' as criterion_code, 'denominator' as role,
        'class' as entity, largest.class_name as item_code, class_rows.source_file, class_rows.source_sheet,
        class_rows.source_row, cast(largest.class_size as double) as amount,
        'Lớp ' || largest.class_name || '; khối ' || cast(largest.grade as varchar) || '; sĩ số '
        || cast(largest.class_size as varchar)
        || case when largest.in_class_list then '' else ' (đếm từ danh sách học sinh)' end as fields_read
    from largest
    left join class_rows
        on largest.in_class_list
        and largest.school_code = class_rows.school_code
        and largest.school_year = class_rows.school_year
        and largest.class_name = class_rows.class_name
),

c_2_3_5 as (
    select
        school_code, school_year, '2.3.5' as criterion_code, 'numerator' as role, 'facility' as entity,
        room_code as item_code,
        source_file,
        source_sheet,
        source_row,
        1.0 as amount,
        room_fields as fields_read
    from room_facts
),

final as (
    select * from c_1_7_1
    union all
    select * from c_1_7_2_labs
    union all
    select * from c_1_7_2_class
    union all
    select * from c_2_3_5
)

select * from final
