-- purpose: 2.3.3 electronic grade book and học bạ số: weighted sum (cfg_params.parts) of semester-1 grade-book completeness over (class, subject) pairs (TT22: required tx marks from cfg_subjects/cfg_tx_required plus gk and ck; TT27: level at CK1 and test_score where cfg_subjects has a CK1 test; exempt students complete) and the share of enrolled students with an issued transcript
-- grain: one row per school × criterion × school year
with assignments as (
    select * from stg_school__teaching_assignments
),

entries as not materialized (
    select * from stg_school__grade_entries
),

transcripts as (
    select * from stg_school__transcripts
),

enrolled as (
    select * from int_students__enrolled
),

crosswalk as (
    select * from int_students__crosswalk
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
    select value from cfg_params where criterion_code = '2.3.3' and param = 'sign_status'
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
    group by assignments.school_code, assignments.school_year, assignments.class_name, assignments.subject_code
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
        coalesce(tx_required.tx_required, (select min(tx_required) from tx_required)) as n_tx_required
    from pair_rules
    left join tx_required
        on pair_rules.periods_per_year > tx_required.periods_above
        and (tx_required.periods_max is null or pair_rules.periods_per_year <= tx_required.periods_max)
),

mark_bits as not materialized (
    -- every mark as a bit set: bits 0–56 = the tx slot of that number, 57 gk, 58 ck (TT22, of the semester
    -- the rule reads), 59 level, 60 test_score (TT27, of the period it reads), 61 exempt; any other mark
    -- (another semester or period, avg_sem, TT27 competence, a tx slot outside 0–56: see odd_slots) sets
    -- none
    select
        entries.school_code,
        entries.school_year,
        entries.moet_id,
        entries.student_key,
        entries.student_code,
        entries.subject_code,
        case
            when entries.scheme = 'TT22' and entries.semester = params.semester then
                case
                    when entries.component = 'tx' and entries.slot between 0 and 56 then 1::bigint << entries.slot
                    when entries.component = 'gk' then 1::bigint << 57
                    when entries.component = 'ck' then 1::bigint << 58
                    else 0::bigint
                end
                | case when list_contains(params.exempt_values, entries.value_text) then 1::bigint << 61 else 0::bigint end
            when entries.scheme = 'TT27' and entries.period = params.tt27_period then
                case
                    when entries.component = 'level' then 1::bigint << 59
                    when entries.component = 'test_score' then 1::bigint << 60
                    else 0::bigint
                end
                | case when list_contains(params.exempt_values, entries.value_text) then 1::bigint << 61 else 0::bigint end
            else 0::bigint
        end as bits
    from entries
    cross join params
),

key_marks as (
    -- marks without a moet_id (few): per student key and subject, the student through the cross-walk
    -- (else the key itself)
    select
        key_bits.school_code,
        key_bits.school_year,
        coalesce(crosswalk.moet_id, key_bits.student_key) as student_id,
        key_bits.subject_code,
        key_bits.bits
    from (
        select school_code, school_year, student_key, student_code, subject_code, bit_or(bits) as bits
        from mark_bits
        where moet_id is null and bits <> 0
        group by school_code, school_year, student_key, student_code, subject_code
    ) as key_bits
    left join crosswalk
        on key_bits.school_code = crosswalk.school_code
        and key_bits.school_year = crosswalk.school_year
        and key_bits.student_code = crosswalk.code
),

odd_slots as (
    -- tx slots outside the bit range (none from the known layouts), counted as distinct numbers
    select
        odd.school_code,
        odd.school_year,
        coalesce(odd.moet_id, crosswalk.moet_id, odd.student_key) as student_id,
        odd.subject_code,
        count(distinct odd.slot) as n_slots
    from stg_school__grade_entries as odd
    cross join params
    left join crosswalk
        on odd.school_code = crosswalk.school_code
        and odd.school_year = crosswalk.school_year
        and odd.student_code = crosswalk.code
    where odd.scheme = 'TT22' and odd.semester = params.semester and odd.component = 'tx'
        and (odd.slot < 0 or odd.slot > 56)
    group by all
),

marks as (
    -- per student and subject, in one aggregation: the marks under its moet_id (the student is that
    -- moet_id, no cross-walk needed), under its other keys and its odd slots; a mark that sets no bit
    -- cannot make a student complete, so it is left out first (a student × subject without a row is as
    -- incomplete as one without flags)
    select school_code, school_year, student_id, subject_code, bit_or(bits) as bits, sum(n_slots)::bigint as n_odd_slots
    from (
        select school_code, school_year, moet_id as student_id, subject_code, bits, 0 as n_slots
        from mark_bits
        where moet_id is not null and bits <> 0
        union all
        select school_code, school_year, student_id, subject_code, bits, 0 as n_slots from key_marks
        union all
        select school_code, school_year, student_id, subject_code, 0::bigint as bits, n_slots from odd_slots
    ) as student_rows
    group by school_code, school_year, student_id, subject_code
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
                    when pair_required.scheme = 'TT27' then
                        coalesce(enrolled_marks.has_level, false)
                        and (not pair_required.needs_test_score or coalesce(enrolled_marks.has_test_score, false))
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
    group by pair_required.school_code, pair_required.school_year, pair_required.class_name,
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
        group by pair_required.school_code, pair_required.school_year, pair_required.class_name,
            pair_required.subject_code
    ) as pair_total
    left join pair_ok
        on pair_total.school_code = pair_ok.school_code
        and pair_total.school_year = pair_ok.school_year
        and pair_total.class_name = pair_ok.class_name
        and pair_total.subject_code = pair_ok.subject_code
),

gradebook as (
    select
        school_code,
        school_year,
        count(*) as n_pairs,
        count(*) filter (where is_complete) as n_pairs_complete
    from pair_status
    group by school_code, school_year
),

has_entries as (
    -- a delivered grade book counts even when it holds no marks (header-only files)
    select school_code, school_year from int_sources__delivered where entity = 'grade_entry'
),

issued as (
    select distinct school_code, school_year, moet_id
    from transcripts
    where sign_status in (select value from issued_values) and moet_id is not null
),

transcript_counts as (
    select
        enrolled.school_code,
        enrolled.school_year,
        count(*) as n_enrolled,
        count(issued.moet_id) as n_issued
    from enrolled
    left join issued
        on enrolled.school_code = issued.school_code
        and enrolled.school_year = issued.school_year
        and enrolled.student_id = issued.moet_id
    group by enrolled.school_code, enrolled.school_year
),

has_transcripts as (
    select school_code, school_year from int_sources__delivered where entity = 'transcript'
),

school_years as (
    select school_code, school_year from gradebook
    union
    select school_code, school_year from has_transcripts
),

final as (
    select
        school_years.school_code,
        school_years.school_year,
        '2.3.3' as criterion_code,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        params.weight_gradebook * gradebook.n_pairs_complete / gradebook.n_pairs
        + params.weight_transcript * transcript_counts.n_issued / transcript_counts.n_enrolled as value,
        case
            when coalesce(gradebook.n_pairs, 0) > 0
                and has_entries.school_code is not null
                and has_transcripts.school_code is not null
                and coalesce(transcript_counts.n_enrolled, 0) > 0
            then 'ok'
            else 'no_data'
        end as status
    from school_years
    cross join params
    left join gradebook
        on school_years.school_code = gradebook.school_code
        and school_years.school_year = gradebook.school_year
    left join has_entries
        on school_years.school_code = has_entries.school_code
        and school_years.school_year = has_entries.school_year
    left join has_transcripts
        on school_years.school_code = has_transcripts.school_code
        and school_years.school_year = has_transcripts.school_year
    left join transcript_counts
        on school_years.school_code = transcript_counts.school_code
        and school_years.school_year = transcript_counts.school_year
)

select * from final
