-- purpose: classrooms and classrooms equipped with projector/TV and Internet (criterion 1.7.1 inputs)
-- grain: one row per school × school year that delivered a room list
with rooms as (
    select * from stg_csdl__rooms
),

final as (
    select
        school_code,
        school_year,
        count(*) filter (where room_type = 'classroom') as n_classrooms,
        count(*) filter (where room_type = 'classroom' and has_projector_or_tv and has_internet)
            as n_classrooms_equipped,
        list(distinct source_file order by source_file) as source_files,
        count(*) as n_source_rows
    from rooms
    group by school_code, school_year
)

select * from final
