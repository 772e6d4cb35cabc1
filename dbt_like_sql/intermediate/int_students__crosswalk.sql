-- purpose: local-code → moet_id cross-walk of each school and year (platform student lists), plus every moet_id mapped to itself, used to match students in other entities; `code` is the zero-padded form (a 1–9 digit code left-padded to 10: moet_ids and vnEdu local codes are 10 digits and lose leading zeros when stored as numbers), so callers join on the padded form of their key
-- grain: school_code, school_year, code (one row per school × school year × student code)
-- partition: school_year
-- materialized: view (read by two models, each for the few keys without a moet_id: writing its 0.5 M rows cost more than computing them in each reader)
with students as not materialized (
    -- not materialized: each of the two readers below scans the few columns it needs rather than a copy
    -- of every column of every student row
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
    select
        school_code,
        school_year,
        case
            when length(code) <= 9 and regexp_full_match(code, '[0-9]{1,9}') then lpad(code, 10, '0')
            else code
        end as code,
        min(moet_id) as moet_id
    from pairs
    group by all
)

select * from final
