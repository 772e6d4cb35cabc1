-- purpose: the province a warehouse publishes as: the province code most schools of the school year's registry carry ('00' when the registry has none)
-- grain: one row per school year
-- column: province_code (varchar): the province code most schools of the year's registry carry; '00' when the registry has none
with registry as (
    select province_code, count(distinct school_code) as n_schools
    from raw_school
    where school_year = $school_year and province_code is not null
    group by province_code
),

final as (
    select coalesce((select arg_max(province_code, n_schools) from registry), '00') as province_code
)

select * from final
