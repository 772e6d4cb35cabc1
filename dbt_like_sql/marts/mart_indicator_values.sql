-- purpose: the value of every leaf criterion for every known school: computed ones (ok, no_data, not_applicable) with numerator, denominator and value, document and mandatory ones as self_declared (their points come from the self-assessment), with the source files behind each value
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
-- column: school_code (varchar): the school's code in the education database (CSDL) registry
-- column: school_year (varchar): the school year, as 'YYYY-YYYY' (e.g. 2024-2025)
-- column: criterion_code (varchar): the leaf criterion of Decision 4725 (e.g. 1.3.1), as in cfg_criteria
-- column: numerator (double): the count or sum the criterion's rule adds up (status ok only, else null)
-- column: denominator (double): what the numerator is divided by, for a ratio criterion (status ok only; null for a presence criterion)
-- column: value (double): the computed value rounded to 6 decimals, compared with the criterion's thresholds (status ok only, else null)
-- column: value_exact (double): the computed value unrounded (status ok only, else null)
-- column: status (varchar): ok (computed), no_data (the school delivered no rows the rule reads), not_applicable (the rule does not apply to the school, e.g. its level), self_declared (a document or mandatory criterion: its points come from the self-assessment)
-- column: source_files (varchar[]): the source files (inbox paths) whose validated rows feed the criterion for the school, sorted; empty when none
with schools as (
    select * from int_schools__universe
),

criteria as (
    select * from cfg_criteria
    where is_leaf
),

computed as (
    select * from int_criteria__lms
    union all
    select * from int_criteria__resources
    union all
    select * from int_criteria__tests
    union all
    select * from int_criteria__teachers
    union all
    select * from int_criteria__facility
    union all
    select * from int_criteria__students
    union all
    select * from int_criteria__staff
    union all
    select * from int_criteria__gradebook
    union all
    select * from int_criteria__vouchers
    union all
    select * from int_criteria__sync
    union all
    select * from int_criteria__admission
    union all
    select * from int_criteria__fees
),

inputs as (
    select * from cfg_criterion_inputs
),

entity_files as (
    -- the files of the validated source rows (int_sources__rows), one row per entity × school × year ×
    -- file: the files of mart_indicator_provenance (criterion inputs × source rows) without expanding
    -- every source row, from the per-file counts of int_sources__files
    select entity, school_code, school_year, source_file from int_sources__files
    where n_rows_kept > 0
),

files as (
    select
        entity_files.school_code,
        entity_files.school_year,
        inputs.criterion_code,
        list(distinct entity_files.source_file order by entity_files.source_file) as source_files
    from inputs
    inner join entity_files on inputs.entity = entity_files.entity
    group by entity_files.school_code, entity_files.school_year, inputs.criterion_code
),

joined as (
    select
        schools.school_code,
        schools.school_year,
        criteria.criterion_code,
        criteria.kind,
        case
            when criteria.kind = 'document' then 'self_declared'
            else coalesce(computed.status, 'no_data')
        end as status,
        computed.numerator,
        computed.denominator,
        computed.value,
        files.source_files
    from schools
    cross join criteria
    left join computed
        on schools.school_code = computed.school_code
        and schools.school_year = computed.school_year
        and criteria.criterion_code = computed.criterion_code
    left join files
        on schools.school_code = files.school_code
        and schools.school_year = files.school_year
        and criteria.criterion_code = files.criterion_code
),

final as (
    select
        school_code,
        school_year,
        criterion_code,
        case when status = 'ok' then numerator end as numerator,
        case when status = 'ok' then denominator end as denominator,
        case when status = 'ok' then round(value, 6) end as value,
        case when status = 'ok' then value end as value_exact,
        status,
        coalesce(source_files, []) as source_files
    from joined
)

select * from final
