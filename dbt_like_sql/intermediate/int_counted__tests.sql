-- purpose: the units 1.5.1 and 1.5.2 count, with their role (the one home of these rules; int_criteria__tests aggregates them): 1.5.1 every scored subject of the year's assignments (cfg_subjects assessed_by 'score' for the class grade) in the denominator, at its first assignment row, and those with a periodic computer-based test (kinds and modes from cfg_params) held in the year in the numerator, at the subject's first such test row; 1.5.2 every test held in the year whose results were synced (numerator; no denominator); fields_read names the values the rule read, no personal data
-- grain: school_code, school_year, criterion_code, role, entity, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a school's subjects and tests: tens of rows; read by int_criteria__tests and by `cds explain`)
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
    select value from cfg_params
    where criterion_code = '1.5.1' and param = 'test_kind'
),

modes as (
    select value from cfg_params
    where criterion_code = '1.5.1' and param = 'mode'
),

scored_subjects as (
    -- each scored subject once, at its first assignment row
    select
        assignments.school_code, assignments.school_year, assignments.subject_code, assignments.source_file,
        assignments.source_sheet, assignments.source_row
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
    qualify row_number() over (
        partition by assignments.school_code, assignments.school_year, assignments.subject_code
        order by assignments.source_file, assignments.source_sheet, assignments.source_row
    ) = 1
),

tests_in_year as (
    select
        tests.*,
        'Bài kiểm tra ' || coalesce(tests.test_id, '?') || '; môn ' || coalesce(tests.subject_code, '?')
        || '; loại ' || coalesce(tests.test_kind, '?') || '; hình thức ' || coalesce(tests.mode, '?')
        || '; ngày ' || strftime(cast(tests.held_at as date), '%d/%m/%Y') as test_fields
    from tests
    inner join schools
        on tests.school_code = schools.school_code
        and tests.school_year = schools.school_year
    where cast(tests.held_at as date) between schools.year_start and schools.year_end
),

tested_subjects as (
    -- each subject's first periodic computer-based test of the year
    select school_code, school_year, subject_code, source_file, source_sheet, source_row, test_fields
    from tests_in_year
    where test_kind in (select kinds.value from kinds) and mode in (select modes.value from modes)
    qualify row_number() over (
        partition by school_code, school_year, subject_code order by source_file, source_sheet, source_row
    ) = 1
),

c_1_5_1 as (
    select
        scored_subjects.school_code, scored_subjects.school_year, '1.5.1' as criterion_code,
        'denominator' as role, 'teaching_assignment' as entity, scored_subjects.subject_code as item_code,
        scored_subjects.source_file, scored_subjects.source_sheet, scored_subjects.source_row,
        'Môn '
        || scored_subjects.subject_code
        || ' được phân công, đánh giá bằng điểm số; có bài kiểm tra định kỳ trên máy: '
        || case when tested_subjects.source_row is null then 'không' else 'có' end as fields_read
    from scored_subjects
    left join tested_subjects
        on scored_subjects.school_code = tested_subjects.school_code
        and scored_subjects.school_year = tested_subjects.school_year
        and scored_subjects.subject_code = tested_subjects.subject_code
    union all
    select
        scored_subjects.school_code, scored_subjects.school_year, '1.5.1', 'numerator', 'computer_based_test',
        scored_subjects.subject_code, tested_subjects.source_file, tested_subjects.source_sheet,
        tested_subjects.source_row, tested_subjects.test_fields
    from scored_subjects
    inner join tested_subjects
        on scored_subjects.school_code = tested_subjects.school_code
        and scored_subjects.school_year = tested_subjects.school_year
        and scored_subjects.subject_code = tested_subjects.subject_code
),

c_1_5_2 as (
    select
        school_code,
        school_year,
        '1.5.2' as criterion_code,
        'numerator' as role,
        'computer_based_test' as entity,
        test_id as item_code,
        source_file,
        source_sheet,
        source_row,
        test_fields || '; đã đồng bộ kết quả' as fields_read
    from tests_in_year
    where results_synced
),

final as (
    select
        school_code, school_year, criterion_code, role, entity, cast(item_code as varchar) as item_code,
        source_file, source_sheet, source_row, 1.0 as amount, fields_read
    from c_1_5_1
    union all
    select
        school_code, school_year, criterion_code, role, entity, cast(item_code as varchar), source_file,
        source_sheet, source_row, 1.0, fields_read
    from c_1_5_2
)

select * from final
