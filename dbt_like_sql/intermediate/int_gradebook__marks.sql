-- purpose: the fold of the grade-book marks criterion 2.3.3 reads, per student and subject (int_counted__gradebook applies the rule, the one home of it): the marks of the semester (TT22) or period (TT27) of cfg_params as one bit set (bits 0–56 = the tx slot of that number, 57 gk, 58 ck, 59 level, 60 test_score, 61 exempt) and the number of distinct tx slots outside 0–56; a student is its moet_id, else its key's moet_id through the cross-walk, else the key; a student and subject whose marks set no bit (and have no odd slot) has no row; no personal data beyond the ids
-- grain: school_code, school_year, student_id, subject_code (one row per school × school year × student × subject with a mark the rule reads)
-- partition: school_year
-- materialized: table (the one pass over the grade entries, the largest raw table, for the marks: a year at a time, about a quarter of its rows; int_counted__gradebook reads this instead of the entries)
with entries as not materialized (
    select * from stg_school__grade_entries
),

crosswalk as (
    select * from int_students__crosswalk
),

params as (
    select
        max(value) filter (where param = 'semester') as semester,
        max(value) filter (where param = 'tt27_period') as tt27_period,
        list(value) filter (where param = 'exempt_value') as exempt_values
    from cfg_params
    where criterion_code = '2.3.3'
),

mark_bits as not materialized (
    -- every mark of the semester (TT22) or period (TT27) the rule reads as a bit set: bits 0–56 = the tx
    -- slot of that number, 57 gk, 58 ck, 59 level, 60 test_score, 61 exempt; any other mark (avg_sem, TT27
    -- competence, a tx slot outside 0–56: see odd_slots) sets none; the marks of other semesters and periods
    -- are left out first
    select
        entries.school_code,
        entries.school_year,
        entries.moet_id,
        entries.student_key,
        entries.student_code,
        entries.subject_code,
        case
            when entries.scheme = 'TT22'
                then
                    case
                        when
                            entries.component = 'tx' and entries.slot between 0 and 56
                            then 1::bigint << entries.slot
                        when entries.component = 'gk' then 1::bigint << 57
                        when entries.component = 'ck' then 1::bigint << 58
                        else 0::bigint
                    end
            when entries.component = 'level' then 1::bigint << 59
            when entries.component = 'test_score' then 1::bigint << 60
            else 0::bigint
        end
        | case
            when list_contains(params.exempt_values, entries.value_text) then 1::bigint << 61 else 0::bigint
        end as bits
    from entries
    cross join params
    where
        (entries.scheme = 'TT22' and entries.semester = params.semester)
        or (entries.scheme = 'TT27' and entries.period = params.tt27_period)
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
    from entries as odd
    cross join params
    left join crosswalk
        on odd.school_code = crosswalk.school_code
        and odd.school_year = crosswalk.school_year
        and odd.student_code = crosswalk.code
    where
        odd.scheme = 'TT22' and odd.semester = params.semester and odd.component = 'tx'
        and (odd.slot < 0 or odd.slot > 56)
    group by all
),

marks as (
    -- per student and subject, in one aggregation: the marks under its moet_id (the student is that
    -- moet_id, no cross-walk needed), under its other keys and its odd slots; a mark that sets no bit
    -- cannot make a student complete, so it is left out first (a student × subject without a row is as
    -- incomplete as one without flags)
    select
        school_code,
        school_year,
        student_id,
        subject_code,
        bit_or(bits) as bits,
        sum(n_slots)::bigint as n_odd_slots
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
)

select * from marks
