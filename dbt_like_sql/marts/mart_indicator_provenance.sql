-- purpose: the source rows behind each criterion value: every validated row of the criterion's input entities (cfg_criterion_inputs) for the school and year, so a reviewer can drill down from a value to files, sheets and rows
-- grain: one row per school × school year × criterion × source row
-- materialized: view (2 M rows on the medium preset, tens of millions on a province: writing them cost 8× computing them; a reviewer's drill-down reads one school or criterion, which the view filters down to before the join)
with inputs as (
    select * from cfg_criterion_inputs
),

source_rows as (
    select * from int_sources__rows
),

final as (
    select
        source_rows.school_code,
        source_rows.school_year,
        inputs.criterion_code,
        source_rows.entity,
        source_rows.source_file,
        source_rows.source_sheet,
        source_rows.source_row
    from inputs
    inner join source_rows on inputs.entity = source_rows.entity
)

select * from final
