-- purpose: 2.3.8 periodic data exchange with CSDL ngành: required syncs (entities × milestones with their deadline day, from cfg_params) met by a successful sync of that entity and period sent on or before the end of the deadline day (the units counted and the rule live in int_counted__sync; here they are added up)
-- grain: school_code, school_year, criterion_code (one row per school × criterion × school year)
-- partition: school_year
with counted as (
    select * from int_counted__sync
),

final as (
    select
        school_code,
        school_year,
        '2.3.8' as criterion_code,
        cast(count(*) filter (where role = 'numerator') as double) as numerator,
        cast(count(*) filter (where role = 'denominator') as double) as denominator,
        count(*) filter (where role = 'numerator') / nullif(count(*) filter (where role = 'denominator'), 0)
            as value,
        'ok' as status
    from counted
    where criterion_code = '2.3.8'
    group by school_code, school_year
)

select * from final
