-- purpose: 1.4 digitised learning materials: (subject, grade) pairs of the year's teaching assignments that have at least 1 approved resource (approval/moderation statuses from cfg_params) created on or before the end of the year (the units counted and the rule live in int_counted__resources; here they are added up)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with counted as (
    select * from int_counted__resources
),

has_list as (
    -- a delivered resource list, even one with no rows, counts as a list
    select school_code, school_year from int_sources__delivered
    where entity = 'learning_resource'
),

counts as (
    select
        school_code,
        school_year,
        count(*) filter (where role = 'denominator') as n_pairs,
        count(*) filter (where role = 'numerator') as n_pairs_with_resource
    from counted
    where criterion_code = '1.4'
    group by school_code, school_year
),

final as (
    select
        has_list.school_code,
        has_list.school_year,
        '1.4' as criterion_code,
        cast(counts.n_pairs_with_resource as double) as numerator,
        cast(counts.n_pairs as double) as denominator,
        counts.n_pairs_with_resource / nullif(counts.n_pairs, 0) as value,
        case when coalesce(counts.n_pairs, 0) > 0 then 'ok' else 'no_data' end as status
    from has_list
    left join counts
        on has_list.school_code = counts.school_code
        and has_list.school_year = counts.school_year
)

select * from final
