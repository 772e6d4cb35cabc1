-- purpose: the units 2.3.3 counts, with their role (the one home of this rule; int_criteria__gradebook aggregates them and weighs the parts, cfg_params.parts): grade-book part: every (class, subject) pair of the semester's teaching assignments (denominator, at its first assignment row) and the pairs whose every enrolled student is complete (numerator), complete meaning TT22: required tx marks from cfg_subjects/cfg_tx_required plus gk and ck of the semester, TT27: level at the period and test_score where cfg_subjects has a CK1 test, exempt students complete; the counted unit is the pair, not the grade entry (millions of rows on a province): fields_read gives the pair's enrolled and complete students and where its marks are (file, sheet, first–last row, number of rows); transcript part: enrolled students (denominator, their row in the list int_students__enrolled read) and those with an issued transcript (numerator, the transcript row); no personal data (no name, no moet_id)
-- grain: school_code, school_year, criterion_code, role, entity, item_code, source_file, source_sheet, source_row (item_code: the class/subject or subject/grade pair a teaching-assignment row stands for; one row can hold several)
-- partition: school_year
-- materialized: table (the pair rule reads every grade entry: computed once here, int_criteria__gradebook, `cds explain` and the reviewer outputs read the result; a few rows per pair and per enrolled student)
with assignments as (
    select * from stg_school__teaching_assignments
),

entries as (
    select * from stg_school__grade_entries
),

transcripts as (
    select * from stg_school__transcripts
),

enrolled as (
    select * from int_students__enrolled
),

classes as (
    select * from int_classes__sizes
),

subjects as (
    select * from cfg_subjects
),

tx_required as (
    select * from cfg_tx_required
),

grade_schemes as (
    select * from cfg_grade_schemes
),

params as (
    select
        max(value) filter (where param = 'semester') as semester,
        max(value) filter (where param = 'tt27_period') as tt27_period,
        max(try_cast(value as double)) filter (where param = 'parts' and key = 'gradebook_completeness')
            as weight_gradebook,
        max(try_cast(value as double)) filter (where param = 'parts' and key = 'transcript_share')
            as weight_transcript,
        list(value) filter (where param = 'exempt_value') as exempt_values
    from cfg_params
    where criterion_code = '2.3.3'
),

issued_values as (
    select value from cfg_params
    where criterion_code = '2.3.3' and param = 'sign_status'
),

pairs as (
    select
        assignments.school_code,
        assignments.school_year,
        assignments.class_name,
        assignments.subject_code,
        max(assignments.periods_per_week) as periods_per_week
    from assignments
    cross join params
    where assignments.semester = params.semester and assignments.class_name is not null
    group by
        assignments.school_code, assignments.school_year, assignments.class_name, assignments.subject_code
),

pair_rules as (
    select
        pairs.school_code,
        pairs.school_year,
        pairs.class_name,
        pairs.subject_code,
        coalesce(subjects.scheme, grade_schemes.scheme) as scheme,
        coalesce(subjects.ck1_test, false) as needs_test_score,
        coalesce(subjects.periods_per_year, pairs.periods_per_week * 35) as periods_per_year
    from pairs
    left join classes
        on pairs.school_code = classes.school_code
        and pairs.school_year = classes.school_year
        and pairs.class_name = classes.class_name
    left join subjects
        on pairs.subject_code = subjects.subject_code
        and classes.grade between subjects.grade_min and subjects.grade_max
    left join grade_schemes
        on classes.grade = grade_schemes.grade
),

pair_required as (
    select
        pair_rules.*,
        coalesce(
            tx_required.tx_required, (select min(tx_rules.tx_required) from tx_required as tx_rules)
        ) as n_tx_required
    from pair_rules
    left join tx_required
        on pair_rules.periods_per_year > tx_required.periods_above
        and (tx_required.periods_max is null or pair_rules.periods_per_year <= tx_required.periods_max)
),

marks as (
    -- per student and subject: the marks the rule reads as bits, and the odd tx slots (int_gradebook__marks)
    select * from int_gradebook__marks
),

enrolled_marks as (
    -- the marks of enrolled students, with their class
    select
        enrolled.class_name,
        marks.school_code,
        marks.school_year,
        marks.student_id,
        marks.subject_code,
        bit_count(marks.bits & ((1::bigint << 57) - 1)) + marks.n_odd_slots as n_tx,
        (marks.bits >> 57) & 1 = 1 as has_gk,
        (marks.bits >> 58) & 1 = 1 as has_ck,
        (marks.bits >> 59) & 1 = 1 as has_level,
        (marks.bits >> 60) & 1 = 1 as has_test_score,
        (marks.bits >> 61) & 1 = 1 as is_exempt
    from marks
    inner join enrolled
        on marks.school_code = enrolled.school_code
        and marks.school_year = enrolled.school_year
        and marks.student_id = enrolled.student_id
),

pair_ok as (
    -- per (class, subject): the enrolled students whose marks do not leave the pair incomplete (a student
    -- without marks of the subject always does)
    select
        pair_required.school_code,
        pair_required.school_year,
        pair_required.class_name,
        pair_required.subject_code,
        count(*) filter (
            where (
                coalesce(enrolled_marks.is_exempt, false)
                or case
                    when pair_required.scheme = 'TT27'
                        then
                            coalesce(enrolled_marks.has_level, false)
                            and (
                                not pair_required.needs_test_score
                                or coalesce(enrolled_marks.has_test_score, false)
                            )
                    else
                        coalesce(enrolled_marks.n_tx, 0) >= pair_required.n_tx_required
                        and coalesce(enrolled_marks.has_gk, false) and coalesce(enrolled_marks.has_ck, false)
                end
            ) is distinct from false
        ) as n_ok
    from pair_required
    inner join enrolled_marks
        on pair_required.school_code = enrolled_marks.school_code
        and pair_required.school_year = enrolled_marks.school_year
        and pair_required.class_name = enrolled_marks.class_name
        and pair_required.subject_code = enrolled_marks.subject_code
    group by
        pair_required.school_code, pair_required.school_year, pair_required.class_name,
        pair_required.subject_code
),

class_sizes as (
    select school_code, school_year, class_name, count(*) as n_students
    from enrolled
    group by school_code, school_year, class_name
),

pair_status as (
    -- a (class, subject) pair is complete when every enrolled student of the class is (true for a class
    -- without enrolled students)
    select
        pair_total.school_code,
        pair_total.school_year,
        pair_total.class_name,
        pair_total.subject_code,
        coalesce(pair_ok.n_ok, 0) as n_ok,
        pair_total.n_students,
        coalesce(pair_ok.n_ok, 0) = pair_total.n_students as is_complete
    from (
        select
            pair_required.school_code,
            pair_required.school_year,
            pair_required.class_name,
            pair_required.subject_code,
            coalesce(sum(class_sizes.n_students), 0) as n_students
        from pair_required
        left join class_sizes
            on pair_required.school_code = class_sizes.school_code
            and pair_required.school_year = class_sizes.school_year
            and pair_required.class_name = class_sizes.class_name
        group by
            pair_required.school_code, pair_required.school_year, pair_required.class_name,
            pair_required.subject_code
    ) as pair_total
    left join pair_ok
        on pair_total.school_code = pair_ok.school_code
        and pair_total.school_year = pair_ok.school_year
        and pair_total.class_name = pair_ok.class_name
        and pair_total.subject_code = pair_ok.subject_code
),

pair_rows as (
    -- where each pair is assigned: its first assignment row of the semester, and how many it has
    select
        assignments.school_code,
        assignments.school_year,
        assignments.class_name,
        assignments.subject_code,
        assignments.source_file,
        assignments.source_sheet,
        assignments.source_row
    from assignments
    cross join params
    where assignments.semester = params.semester and assignments.class_name is not null
    qualify row_number() over (
        partition by
            assignments.school_code, assignments.school_year, assignments.class_name,
            assignments.subject_code
        order by assignments.source_file, assignments.source_sheet, assignments.source_row
    ) = 1
),

pair_marks as (
    -- where the marks of each class and subject are: per file and sheet, the first and last row and how many
    -- (a summary of the grade entries, not one row per entry)
    select
        school_code,
        school_year,
        class_name,
        subject_code,
        string_agg(
            source_file || ', trang ' || coalesce(source_sheet, '?') || ', dòng ' || first_row
            || case when last_row > first_row then '–' || last_row else '' end
            || ' (' || n_rows || ' mục điểm)',
            '; ' order by source_file, source_sheet
        ) as where_marks
    from (
        select
            school_code, school_year, class_name, subject_code, source_file, source_sheet,
            min(source_row) as first_row, max(source_row) as last_row, count(*) as n_rows
        from entries
        group by all
    ) as per_sheet
    group by all
),

-- one requirement per pair (the first scheme, then the fewest regular marks) for the description
pair_required_first as (
    select * from pair_required
    qualify row_number() over (
        partition by school_code, school_year, class_name, subject_code order by scheme, n_tx_required
    ) = 1
),

pair_facts as (
    select
        pair_status.school_code,
        pair_status.school_year,
        pair_status.is_complete,
        pair_status.class_name || '/' || coalesce(pair_status.subject_code, '?') as item_code,
        pair_rows.source_file,
        pair_rows.source_sheet,
        pair_rows.source_row,
        'Sổ điểm lớp '
        || pair_status.class_name
        || ', môn '
        || coalesce(pair_status.subject_code, '?')
        || ' ('
        || coalesce(pair_required.scheme, '?')
        || case
            when pair_required.scheme = 'TT27'
                then
                    ': cần mức đạt'
                    || case when pair_required.needs_test_score then ' và điểm kiểm tra' else '' end
            else ': cần ' || pair_required.n_tx_required || ' điểm thường xuyên, giữa kỳ và cuối kỳ'
        end
        || '): ' || pair_status.n_ok || '/' || pair_status.n_students || ' học sinh đủ điểm; '
        || case when pair_status.is_complete then 'đủ' else 'chưa đủ' end
        || '; điểm ở ' || coalesce(pair_marks.where_marks, 'không có dòng điểm') as fields_read
    from pair_status
    inner join pair_required_first as pair_required
        on pair_status.school_code = pair_required.school_code
        and pair_status.school_year = pair_required.school_year
        and pair_status.class_name = pair_required.class_name
        and pair_status.subject_code is not distinct from pair_required.subject_code
    left join pair_rows
        on pair_status.school_code = pair_rows.school_code
        and pair_status.school_year = pair_rows.school_year
        and pair_status.class_name = pair_rows.class_name
        and pair_status.subject_code is not distinct from pair_rows.subject_code
    left join pair_marks
        on pair_status.school_code = pair_marks.school_code
        and pair_status.school_year = pair_marks.school_year
        and pair_status.class_name = pair_marks.class_name
        and pair_status.subject_code = pair_marks.subject_code
),

issued as (
    -- each student's first issued transcript (sign statuses from cfg_params)
    select school_code, school_year, moet_id, sign_status, source_file, source_sheet, source_row
    from transcripts
    where sign_status in (select issued_values.value from issued_values) and moet_id is not null
    qualify row_number() over (
        partition by school_code, school_year, moet_id order by source_file, source_sheet, source_row
    ) = 1
),

located as (
    select
        school_code, school_year, coalesce(moet_id, student_key) as student_id, source_file, source_sheet,
        source_row
    from stg_school__students
    where is_enrolled and coalesce(moet_id, student_key) is not null
    qualify row_number() over (
        partition by school_code, school_year, coalesce(moet_id, student_key)
        order by is_csdl desc, source_file asc, source_sheet asc, source_row asc
    ) = 1
),

enrolled_rows as (
    -- where each enrolled student is listed: its row in the list int_students__enrolled chose (the CSDL
    -- export first when the school has one), the first when it has several
    select
        enrolled.school_code,
        enrolled.school_year,
        enrolled.student_id,
        enrolled.class_name,
        located.source_file,
        located.source_sheet,
        located.source_row
    from enrolled
    left join located
        on enrolled.school_code = located.school_code
        and enrolled.school_year = located.school_year
        and enrolled.student_id = located.student_id
),

transcript_facts as (
    select
        enrolled_rows.*,
        issued.sign_status,
        issued.source_file as transcript_file,
        issued.source_sheet as transcript_sheet,
        issued.source_row as transcript_row
    from enrolled_rows
    left join issued
        on enrolled_rows.school_code = issued.school_code
        and enrolled_rows.school_year = issued.school_year
        and enrolled_rows.student_id = issued.moet_id
),

final as (
    select
        school_code,
        school_year,
        '2.3.3' as criterion_code,
        'denominator' as role,
        'teaching_assignment' as entity,
        item_code, source_file, source_sheet, source_row, 1.0 as amount, fields_read
    from pair_facts
    union all
    select
        school_code,
        school_year,
        '2.3.3',
        'numerator',
        'teaching_assignment',
        item_code,
        source_file,
        source_sheet,
        source_row, 1.0, fields_read
    from pair_facts
    where is_complete
    union all
    select
        school_code,
        school_year,
        '2.3.3',
        'denominator',
        'student',
        null,
        source_file,
        source_sheet,
        source_row,
        1.0,
        'Học bạ: học sinh đang học; lớp ' || coalesce(class_name, '?') || '; có học bạ đã ký: '
        || case when transcript_row is null then 'không' else 'có' end
    from transcript_facts
    union all
    select
        school_code, school_year, '2.3.3', 'numerator', 'transcript', null, transcript_file, transcript_sheet,
        transcript_row, 1.0,
        'Học bạ trạng thái '
        || sign_status
        || ' (học sinh đang học ở '
        || coalesce(source_file, '?')
        || ', dòng '
        || coalesce(source_row::varchar, '?') || ')'
    from transcript_facts
    where transcript_row is not null
)

select * from final
