-- purpose: the group totals and levels of one school year as published to the lakehouse, on the self-declared side and on the final (externally verified) side, with the school's managing unit and level of education from the registry
-- grain: one row per school × school year × side (self, final)
with scores as (
    -- the two tables carry different extra columns: the published ones named (no UNION BY NAME in Spark)
    select
        'self' as side,
        school_code,
        school_year,
        group_dh_points,
        group_dh_level,
        group_qt_points,
        group_qt_level,
        level
    from school_scores_self
    where school_year = $school_year
    union all
    select
        'final' as side,
        school_code,
        school_year,
        group_dh_points,
        group_dh_level,
        group_qt_points,
        group_qt_level,
        level
    from school_scores_final
    where school_year = $school_year
),

registry as (
    select
        school_code,
        school_year,
        arg_max(managing_unit, source_row) as managing_unit,
        arg_max(level, source_row) as school_level
    from raw_school
    where school_year = $school_year
    group by school_code, school_year
),

final as (
    select
        scores.school_code,
        scores.school_year,
        scores.side,
        registry.managing_unit,
        registry.school_level,
        scores.group_dh_points,
        scores.group_dh_level,
        scores.group_qt_points,
        scores.group_qt_level,
        scores.level
    from scores
    left join registry
        on scores.school_code = registry.school_code
        and scores.school_year = registry.school_year
)

select * from final
order by school_code, side
