-- purpose: room-list criteria: 1.7.1 classrooms with projector/TV and Internet, 1.7.2 working computers in IT labs over the largest class of the Informatics grades (not applicable without such a class), 2.3.5 rooms in the year's room list
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with schools as (
    select * from int_schools__universe
),

counted as (
    select * from int_counted__facility
),

classes as (
    select * from int_classes__sizes
),

grade_range as (
    select
        max(try_cast(value as integer)) filter (where param = 'grade_min') as grade_min,
        max(try_cast(value as integer)) filter (where param = 'grade_max') as grade_max
    from cfg_params
    where criterion_code = '1.7.2'
),

room_rows as (
    -- the rules live in int_counted__facility (the rows each criterion counts); here they are added up
    select
        school_code,
        school_year,
        count(*) filter (where criterion_code = '2.3.5') as n_rooms,
        count(*) filter (where criterion_code = '1.7.1' and role = 'denominator') as n_classrooms,
        count(*) filter (where criterion_code = '1.7.1' and role = 'numerator') as n_classrooms_equipped,
        coalesce(sum(amount) filter (where criterion_code = '1.7.2' and role = 'numerator'), 0)
            as n_lab_computers
    from counted
    where entity = 'facility'
    group by school_code, school_year
),

delivered as (
    -- a delivered room list, even one with no rows, is a list of zero rooms
    select school_code, school_year from int_sources__delivered
    where entity = 'facility'
),

room_counts as (
    select
        delivered.school_code,
        delivered.school_year,
        coalesce(room_rows.n_rooms, 0) as n_rooms,
        coalesce(room_rows.n_classrooms, 0) as n_classrooms,
        coalesce(room_rows.n_classrooms_equipped, 0) as n_classrooms_equipped,
        coalesce(room_rows.n_lab_computers, 0) as n_lab_computers
    from delivered
    left join room_rows
        on delivered.school_code = room_rows.school_code
        and delivered.school_year = room_rows.school_year
),

class_info as (
    select
        classes.school_code,
        classes.school_year,
        count(*) as n_classes,
        count(*) filter (
            where classes.grade between grade_range.grade_min and grade_range.grade_max
        ) as n_classes_in_range
    from classes
    cross join grade_range
    group by classes.school_code, classes.school_year
),

largest_class as (
    select school_code, school_year, max(amount) as largest_class
    from counted
    where criterion_code = '1.7.2' and role = 'denominator'
    group by school_code, school_year
),

c_1_7_1 as (
    select
        school_code,
        school_year,
        '1.7.1' as criterion_code,
        cast(n_classrooms_equipped as double) as numerator,
        cast(n_classrooms as double) as denominator,
        n_classrooms_equipped / n_classrooms as value,
        case when n_classrooms > 0 then 'ok' else 'no_data' end as status
    from room_counts
),

c_1_7_2 as (
    select
        schools.school_code,
        schools.school_year,
        '1.7.2' as criterion_code,
        cast(room_counts.n_lab_computers as double) as numerator,
        cast(largest_class.largest_class as double) as denominator,
        room_counts.n_lab_computers / largest_class.largest_class as value,
        case
            when class_info.n_classes > 0 and class_info.n_classes_in_range = 0 then 'not_applicable'
            when
                room_counts.school_code is null or coalesce(largest_class.largest_class, 0) = 0
                then 'no_data'
            else 'ok'
        end as status
    from schools
    left join room_counts
        on schools.school_code = room_counts.school_code
        and schools.school_year = room_counts.school_year
    left join class_info
        on schools.school_code = class_info.school_code
        and schools.school_year = class_info.school_year
    left join largest_class
        on schools.school_code = largest_class.school_code
        and schools.school_year = largest_class.school_year
),

c_2_3_5 as (
    select
        school_code,
        school_year,
        '2.3.5' as criterion_code,
        cast(n_rooms as double) as numerator,
        cast(null as double) as denominator,
        cast(n_rooms as double) as value,
        'ok' as status
    from room_counts
),

final as (
    select * from c_1_7_1
    union all
    select * from c_1_7_2
    union all
    select * from c_2_3_5
)

select * from final
