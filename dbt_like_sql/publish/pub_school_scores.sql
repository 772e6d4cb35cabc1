-- purpose: the group totals and levels of one school year as published to the lakehouse, on the self-declared side and on the final (externally verified) side, with the school's managing unit and level of education from the registry
-- grain: one row per school × school year × side (self, final)
-- column: school_code (varchar): the school's code in the education database (CSDL) registry
-- column: school_year (varchar): the school year, as 'YYYY-YYYY' (e.g. 2024-2025)
-- column: side (varchar): self (the school's own assessment) or final (after external verification)
-- column: managing_unit (varchar): the school's managing unit from the registry (e.g. a commune people's committee or the Department)
-- column: school_level (varchar): the school's level of education from the registry (e.g. TH, THCS, THPT, GDTX)
-- column: group_dh_points (double): the points of group DH (digital transformation in teaching and learning)
-- column: group_dh_level (bigint): the level (1 to 3) group DH reaches
-- column: group_qt_points (double): the points of group QT (digital transformation in school management)
-- column: group_qt_level (bigint): the level (1 to 3) group QT reaches
-- column: level (bigint): the school's overall digital-transformation level (1 to 3)
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
    from score_schools__self
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
    from score_schools__final
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
