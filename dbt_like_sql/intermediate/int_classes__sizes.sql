-- purpose: classes of each school and year with grade and size (Sĩ số of the class list, else the count of its enrolled students)
-- grain: school_code, school_year, class_name (one row per school × school year × class)
-- partition: school_year
with class_list as (
    select school_code, school_year, class_name, max(grade) as grade, max(n_students) as n_students
    from stg_csdl__classes
    where class_name is not null
    group by school_code, school_year, class_name
),

enrolled as (
    select school_code, school_year, class_name, max(grade) as grade, count(*) as n_enrolled
    from int_students__enrolled
    where class_name is not null
    group by school_code, school_year, class_name
),

final as (
    select
        school_code,
        school_year,
        class_name,
        coalesce(
            class_list.grade, enrolled.grade, try_cast(regexp_extract(class_name, '^(\d+)', 1) as integer)
        ) as grade,
        coalesce(class_list.n_students, enrolled.n_enrolled) as class_size,
        coalesce(enrolled.n_enrolled, 0) as n_enrolled,
        class_list.class_name is not null as in_class_list
    from class_list
    -- USING, not ON: a full join's USING keys are those of either side (ON would need a coalesce per key)
    full join enrolled using (school_code, school_year, class_name)  -- noqa: ST07
)

select * from final
