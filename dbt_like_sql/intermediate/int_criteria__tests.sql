-- purpose: 1.5.1 scored subjects of the year's assignments with a periodic computer-based test held in the year (kinds and modes from cfg_params; scored = cfg_subjects assessed_by 'score' for the class grade) and 1.5.2 count of tests held in the year whose results were synced; only schools with a test list
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

tests as (
    select * from stg_cbt__tests
),

assignments as (
    select * from stg_school__teaching_assignments
),

classes as (
    select * from int_classes__sizes
),

subjects as (
    select * from cfg_subjects
),

kinds as (
    select value from cfg_params where criterion_code = '1.5.1' and param = 'test_kind'
),

modes as (
    select value from cfg_params where criterion_code = '1.5.1' and param = 'mode'
),

scored_subjects as (
    select distinct assignments.school_code, assignments.school_year, assignments.subject_code
    from assignments
    left join classes
        on assignments.school_code = classes.school_code
        and assignments.school_year = classes.school_year
        and assignments.class_name = classes.class_name
    inner join subjects
        on assignments.subject_code = subjects.subject_code
        and coalesce(classes.grade, try_cast(regexp_extract(assignments.class_name, '^(\d+)', 1) as integer))
            between subjects.grade_min and subjects.grade_max
    where subjects.assessed_by = 'score'
),

tests_in_year as (
    select tests.*
    from tests
    inner join schools
        on tests.school_code = schools.school_code
        and tests.school_year = schools.school_year
    where cast(tests.held_at as date) between schools.year_start and schools.year_end
),

tested_subjects as (
    select distinct school_code, school_year, subject_code
    from tests_in_year
    where test_kind in (select value from kinds) and mode in (select value from modes)
),

has_list as (
    -- a delivered test list, even one with no rows (a header-only file), is a list of zero tests
    select school_code, school_year from int_sources__delivered where entity = 'computer_based_test'
),

subject_counts as (
    select
        scored_subjects.school_code,
        scored_subjects.school_year,
        count(*) as n_subjects,
        count(tested_subjects.subject_code) as n_subjects_tested
    from scored_subjects
    left join tested_subjects
        on scored_subjects.school_code = tested_subjects.school_code
        and scored_subjects.school_year = tested_subjects.school_year
        and scored_subjects.subject_code = tested_subjects.subject_code
    group by scored_subjects.school_code, scored_subjects.school_year
),

synced as (
    select school_code, school_year, count(*) filter (where results_synced) as n_synced
    from tests_in_year
    group by school_code, school_year
),

c_1_5_1 as (
    select
        has_list.school_code,
        has_list.school_year,
        '1.5.1' as criterion_code,
        cast(subject_counts.n_subjects_tested as double) as numerator,
        cast(subject_counts.n_subjects as double) as denominator,
        subject_counts.n_subjects_tested / subject_counts.n_subjects as value,
        case when coalesce(subject_counts.n_subjects, 0) > 0 then 'ok' else 'no_data' end as status
    from has_list
    left join subject_counts
        on has_list.school_code = subject_counts.school_code
        and has_list.school_year = subject_counts.school_year
),

c_1_5_2 as (
    select
        has_list.school_code,
        has_list.school_year,
        '1.5.2' as criterion_code,
        cast(coalesce(synced.n_synced, 0) as double) as numerator,
        cast(null as double) as denominator,
        cast(coalesce(synced.n_synced, 0) as double) as value,
        'ok' as status
    from has_list
    left join synced
        on has_list.school_code = synced.school_code
        and has_list.school_year = synced.school_year
),

final as (
    select * from c_1_5_1
    union all
    select * from c_1_5_2
)

select * from final
