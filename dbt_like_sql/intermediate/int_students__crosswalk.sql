-- purpose: local-code → moet_id cross-walk of each school and year (platform student lists), plus every moet_id mapped to itself, used to match students in other entities
-- grain: one row per school × school year × student code
with students as (
    select * from stg_school__students
),

pairs as (
    select school_code, school_year, local_id as code, moet_id
    from students
    where local_id is not null and moet_id is not null
    union all
    select school_code, school_year, moet_id as code, moet_id
    from students
    where moet_id is not null
),

final as (
    select school_code, school_year, code, min(moet_id) as moet_id
    from pairs
    group by school_code, school_year, code
)

select * from final
