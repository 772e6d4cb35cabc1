-- purpose: national mart: the thi đua summary of each province (schools, final levels, mean group totals, findings of high severity and points at stake) from the published school scores and findings
-- grain: one row per school year × province
with final_scores as (
    select * from lake_school_scores
    where side = 'final'
),

findings as (
    select * from lake_findings
),

scores_by_province as (
    select
        school_year,
        province_code,
        count(*) as n_schools,
        count(*) filter (where level = 1) as n_level_1,
        count(*) filter (where level = 2) as n_level_2,
        count(*) filter (where level = 3) as n_level_3,
        round(avg(group_dh_points), 2) as mean_dh_points,
        round(avg(group_qt_points), 2) as mean_qt_points
    from final_scores
    group by school_year, province_code
),

findings_by_province as (
    select
        school_year,
        province_code,
        count(*) filter (where severity = 'high') as n_findings_high,
        round(coalesce(sum(points_at_stake), 0), 2) as points_at_stake
    from findings
    group by school_year, province_code
),

final as (
    select
        scores_by_province.*,
        coalesce(findings_by_province.n_findings_high, 0) as n_findings_high,
        coalesce(findings_by_province.points_at_stake, 0) as points_at_stake
    from scores_by_province
    left join findings_by_province
        on scores_by_province.school_year = findings_by_province.school_year
        and scores_by_province.province_code = findings_by_province.province_code
)

select * from final
order by school_year, province_code
