-- purpose: 2.3.3 electronic grade book and học bạ số: weighted sum (cfg_params.parts) of semester-1 grade-book completeness (complete (class, subject) pairs over all pairs) and the share of enrolled students with an issued transcript (the units counted and the rule live in int_counted__gradebook; here they are added up and weighed, and whether the inputs were delivered decides the status)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with counted as (
    select * from int_counted__gradebook
),

params as (
    select
        max(try_cast(value as double)) filter (where param = 'parts' and key = 'gradebook_completeness')
            as weight_gradebook,
        max(try_cast(value as double)) filter (where param = 'parts' and key = 'transcript_share')
            as weight_transcript
    from cfg_params
    where criterion_code = '2.3.3'
),

gradebook as (
    select
        school_code,
        school_year,
        count(*) filter (where role = 'denominator') as n_pairs,
        count(*) filter (where role = 'numerator') as n_pairs_complete
    from counted
    where criterion_code = '2.3.3' and entity = 'teaching_assignment'
    group by school_code, school_year
),

transcript_counts as (
    select
        school_code,
        school_year,
        count(*) filter (where role = 'denominator') as n_enrolled,
        count(*) filter (where role = 'numerator') as n_issued
    from counted
    where criterion_code = '2.3.3' and entity in ('student', 'transcript')
    group by school_code, school_year
),

has_entries as (
    -- a delivered grade book counts even when it holds no marks (header-only files)
    select school_code, school_year from int_sources__delivered
    where entity = 'grade_entry'
),

has_transcripts as (
    select school_code, school_year from int_sources__delivered
    where entity = 'transcript'
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
        params.weight_gradebook * gradebook.n_pairs_complete / nullif(gradebook.n_pairs, 0)
        + params.weight_transcript
        * transcript_counts.n_issued
        / nullif(transcript_counts.n_enrolled, 0) as value,
        case
            when
                coalesce(gradebook.n_pairs, 0) > 0
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
