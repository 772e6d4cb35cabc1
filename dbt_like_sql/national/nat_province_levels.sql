-- purpose: national mart: how many schools of each province reach each level, on the self-declared and on the final (externally verified) side, read from the published school scores of every province
-- grain: one row per school year × province × side × level
with scores as (
    select * from lake_school_scores
),

final as (
    select
        school_year,
        province_code,
        side,
        level,
        count(*) as n_schools
    from scores
    group by school_year, province_code, side, level
)

select * from final
order by school_year, province_code, side, level
