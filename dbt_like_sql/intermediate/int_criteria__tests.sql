-- purpose: 1.5.1 scored subjects of the year's assignments with a periodic computer-based test held in the year and 1.5.2 count of tests held in the year whose results were synced; only schools with a test list (the units counted and the rules live in int_counted__tests; here they are added up)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with counted as (
    select * from int_counted__tests
),

has_list as (
    -- a delivered test list, even one with no rows (a header-only file), is a list of zero tests
    select school_code, school_year from int_sources__delivered
    where entity = 'computer_based_test'
),

counts as (
    select
        school_code,
        school_year,
        count(*) filter (where criterion_code = '1.5.1' and role = 'denominator') as n_subjects,
        count(*) filter (where criterion_code = '1.5.1' and role = 'numerator') as n_subjects_tested,
        count(*) filter (where criterion_code = '1.5.2' and role = 'numerator') as n_synced,
        count(*) filter (where criterion_code = '1.5.1') > 0 as has_subjects
    from counted
    group by school_code, school_year
),

c_1_5_1 as (
    select
        has_list.school_code,
        has_list.school_year,
        '1.5.1' as criterion_code,
        cast(case when counts.has_subjects then counts.n_subjects_tested end as double) as numerator,
        cast(case when counts.has_subjects then counts.n_subjects end as double) as denominator,
        counts.n_subjects_tested / nullif(counts.n_subjects, 0) as value,
        case when coalesce(counts.n_subjects, 0) > 0 then 'ok' else 'no_data' end as status
    from has_list
    left join counts
        on has_list.school_code = counts.school_code
        and has_list.school_year = counts.school_year
),

c_1_5_2 as (
    select
        has_list.school_code,
        has_list.school_year,
        '1.5.2' as criterion_code,
        cast(coalesce(counts.n_synced, 0) as double) as numerator,
        cast(null as double) as denominator,
        cast(coalesce(counts.n_synced, 0) as double) as value,
        'ok' as status
    from has_list
    left join counts
        on has_list.school_code = counts.school_code
        and has_list.school_year = counts.school_year
),

final as (
    select * from c_1_5_1
    union all
    select * from c_1_5_2
)

select * from final
