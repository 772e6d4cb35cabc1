-- purpose: active staff (employment_status = working) with the teacher flag and whether the record is complete (position and status filled; teachers also at least one subject)
-- grain: school_code, school_year, staff_id (one row per school × school year × staff member)
-- partition: school_year
with staff as (
    select * from stg_csdl__staff
),

final as (
    select
        school_code,
        school_year,
        staff_id,
        bool_or(coalesce(is_teacher, false)) as is_teacher,
        bool_or(
            coalesce(trim(position), '') <> ''
            and coalesce(trim(employment_status), '') <> ''
            and (not coalesce(is_teacher, false) or coalesce(trim(subjects), '') <> '')
        ) as is_complete
    from staff
    where employment_status = 'working' and staff_id is not null
    group by school_code, school_year, staff_id
)

select * from final
