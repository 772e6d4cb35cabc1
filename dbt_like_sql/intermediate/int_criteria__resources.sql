-- purpose: 1.4 digitised learning materials: (subject, grade) pairs of the year's teaching assignments that have at least 1 approved resource (approval/moderation statuses from cfg_params) created on or before the end of the year
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

assignments as (
    select * from stg_school__teaching_assignments
),

classes as (
    select * from int_classes__sizes
),

resources as (
    select * from stg_lms__resources
),

approval_ok as (
    select value from cfg_params where criterion_code = '1.4' and param = 'approval_status'
),

moderation_ok as (
    select value from cfg_params where criterion_code = '1.4' and param = 'moderation_status'
),

pairs as (
    select distinct
        assignments.school_code,
        assignments.school_year,
        assignments.subject_code,
        coalesce(classes.grade, try_cast(regexp_extract(assignments.class_name, '^(\d+)', 1) as integer)) as grade
    from assignments
    left join classes
        on assignments.school_code = classes.school_code
        and assignments.school_year = classes.school_year
        and assignments.class_name = classes.class_name
    where assignments.subject_code is not null
),

approved as (
    select distinct resources.school_code, resources.school_year, resources.subject_code, resources.grade
    from resources
    inner join schools
        on resources.school_code = schools.school_code
        and resources.school_year = schools.school_year
    where resources.approval_status in (select value from approval_ok)
        and resources.moderation_status in (select value from moderation_ok)
        and (resources.created_at is null or cast(resources.created_at as date) <= schools.year_end)
),

has_list as (
    -- a delivered resource list, even one with no rows, counts as a list
    select school_code, school_year from int_sources__delivered where entity = 'learning_resource'
),

counts as (
    select
        pairs.school_code,
        pairs.school_year,
        count(*) as n_pairs,
        count(approved.subject_code) as n_pairs_with_resource
    from pairs
    left join approved
        on pairs.school_code = approved.school_code
        and pairs.school_year = approved.school_year
        and pairs.subject_code = approved.subject_code
        and pairs.grade = approved.grade
    group by pairs.school_code, pairs.school_year
),

final as (
    select
        has_list.school_code,
        has_list.school_year,
        '1.4' as criterion_code,
        cast(counts.n_pairs_with_resource as double) as numerator,
        cast(counts.n_pairs as double) as denominator,
        counts.n_pairs_with_resource / counts.n_pairs as value,
        case when coalesce(counts.n_pairs, 0) > 0 then 'ok' else 'no_data' end as status
    from has_list
    left join counts
        on has_list.school_code = counts.school_code
        and has_list.school_year = counts.school_year
)

select * from final
