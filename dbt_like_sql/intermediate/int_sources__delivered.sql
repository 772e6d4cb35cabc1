-- purpose: which entities each school delivered for each school year, from the ingest manifest: a file of a recognised layout counts as delivered when it was loaded, partly loaded, or quarantined only because it has no data rows (`empty_file`: the school sent its list and the list is empty, so a rule reads it as zero rows, not as missing data), or quarantined as `too_many_rejects` with every data row rejected (nothing of it could be kept even if it were loaded: zero usable rows, as for an empty list; a file with rows that would be kept is withheld, so its entity stays undelivered → no_data); every school and year with rows in a raw table delivered that entity; a file without rows (header-only) names its delivery folder's school and year; province files without rows name no school
-- grain: entity, school_code, school_year (one row per entity × school × school year)
-- partition: school_year
with manifest as (
    select * from ingest_manifest
),

counted_files as (
    select source_file, delivery_school, delivery_year, entities
    from manifest
    where
        status in ('loaded', 'partly_loaded')
        or (status = 'quarantined' and reason_code = 'empty_file')
        or (
            status = 'quarantined'
            and reason_code = 'too_many_rejects'
            and rows_read > 0
            and rows_rejected >= rows_read
        )
),

file_entities as (
    select
        counted_files.source_file,
        counted_files.delivery_school,
        counted_files.delivery_year,
        trim(entity_list.entity) as entity
    from counted_files
    cross join unnest(string_split(coalesce(counted_files.entities, ''), ',')) as entity_list (entity)
    where trim(entity_list.entity) <> ''
),

file_schools as (
    -- each file's schools and years from its raw rows (int_sources__files: one pass over the raw rows for
    -- this model, the universe and the marts), plus the self-assessment rows (not a criterion input)
    select entity, source_file, school_code, school_year from int_sources__files
    union
    select 'self_assessment', source_file, school_code, school_year from raw_self_assessment
),

from_rows as (
    select distinct entity, school_code, school_year from file_schools
),

files_with_rows as (
    select distinct source_file, entity from file_schools
),

from_folder as (
    select distinct
        file_entities.entity,
        file_entities.delivery_school as school_code,
        file_entities.delivery_year as school_year
    from file_entities
    anti join files_with_rows
        on file_entities.source_file = files_with_rows.source_file
        and file_entities.entity = files_with_rows.entity
    where file_entities.delivery_school is not null and file_entities.delivery_year is not null
),

final as (
    select entity, school_code, school_year from from_rows
    where school_code is not null and school_year is not null
    union
    select entity, school_code, school_year from from_folder
)

select * from final
