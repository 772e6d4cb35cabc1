-- purpose: student-based ratios: 2.3.2 enrolled CSDL students present in a platform student list, 2.3.6 enrolled students with a health record measured in the year, 2.4.1 enrolled students with an active parent account used in the year (students matched by moet_id through the cross-walk)
-- grain: one row per school × criterion × school year
with schools as (
    select * from int_schools__universe
),

students as (
    select * from stg_school__students
),

enrolled as (
    select * from int_students__enrolled
),

crosswalk as (
    select * from int_students__crosswalk
),

health as (
    select * from stg_school__health_records
),

parents as (
    select * from stg_school__parent_accounts
),

parent_status_ok as (
    select value from cfg_params where criterion_code = '2.4.1' and param = 'status'
),

csdl_enrolled as (
    select distinct school_code, school_year, moet_id
    from students
    where is_csdl and is_enrolled and moet_id is not null
),

platform_ids as (
    select distinct school_code, school_year, moet_id
    from students
    where not is_csdl and moet_id is not null
),

lists as (
    select
        school_code,
        school_year,
        bool_or(is_csdl) as has_csdl,
        bool_or(not is_csdl) as has_platform
    from students
    group by school_code, school_year
),

c_2_3_2_counts as (
    select
        csdl_enrolled.school_code,
        csdl_enrolled.school_year,
        count(*) as n_enrolled,
        count(platform_ids.moet_id) as n_present
    from csdl_enrolled
    left join platform_ids
        on csdl_enrolled.school_code = platform_ids.school_code
        and csdl_enrolled.school_year = platform_ids.school_year
        and csdl_enrolled.moet_id = platform_ids.moet_id
    group by csdl_enrolled.school_code, csdl_enrolled.school_year
),

c_2_3_2 as (
    select
        lists.school_code,
        lists.school_year,
        '2.3.2' as criterion_code,
        cast(c.n_present as double) as numerator,
        cast(c.n_enrolled as double) as denominator,
        c.n_present / c.n_enrolled as value,
        case when lists.has_csdl and lists.has_platform and c.n_enrolled > 0 then 'ok' else 'no_data' end
            as status
    from lists
    left join c_2_3_2_counts as c
        on lists.school_code = c.school_code
        and lists.school_year = c.school_year
),

health_ids as (
    select distinct health.school_code, health.school_year,
        coalesce(health.moet_id, crosswalk.moet_id, health.student_key) as student_id
    from health
    inner join schools
        on health.school_code = schools.school_code
        and health.school_year = schools.school_year
    left join crosswalk
        on health.school_code = crosswalk.school_code
        and health.school_year = crosswalk.school_year
        and crosswalk.code = health.student_code
    where cast(health.measured_at as date) between schools.year_start and schools.year_end
),

parent_ids as (
    select distinct parents.school_code, parents.school_year,
        coalesce(parents.moet_id, crosswalk.moet_id, parents.student_key) as student_id
    from parents
    inner join schools
        on parents.school_code = schools.school_code
        and parents.school_year = schools.school_year
    left join crosswalk
        on parents.school_code = crosswalk.school_code
        and parents.school_year = crosswalk.school_year
        and crosswalk.code = parents.student_code
    where parents.status in (select value from parent_status_ok)
        and cast(parents.last_active_at as date) between schools.year_start and schools.year_end
),

enrolled_counts as (
    select
        enrolled.school_code,
        enrolled.school_year,
        count(*) as n_enrolled,
        count(health_ids.student_id) as n_health,
        count(parent_ids.student_id) as n_parent
    from enrolled
    left join health_ids
        on enrolled.school_code = health_ids.school_code
        and enrolled.school_year = health_ids.school_year
        and enrolled.student_id = health_ids.student_id
    left join parent_ids
        on enrolled.school_code = parent_ids.school_code
        and enrolled.school_year = parent_ids.school_year
        and enrolled.student_id = parent_ids.student_id
    group by enrolled.school_code, enrolled.school_year
),

c_2_3_6 as (
    select
        has_health.school_code,
        has_health.school_year,
        '2.3.6' as criterion_code,
        cast(c.n_health as double) as numerator,
        cast(c.n_enrolled as double) as denominator,
        c.n_health / c.n_enrolled as value,
        case when c.n_enrolled > 0 then 'ok' else 'no_data' end as status
    from (select school_code, school_year from int_sources__delivered where entity = 'health_record') as has_health
    left join enrolled_counts as c
        on has_health.school_code = c.school_code
        and has_health.school_year = c.school_year
),

c_2_4_1 as (
    select
        has_parents.school_code,
        has_parents.school_year,
        '2.4.1' as criterion_code,
        cast(c.n_parent as double) as numerator,
        cast(c.n_enrolled as double) as denominator,
        c.n_parent / c.n_enrolled as value,
        case when c.n_enrolled > 0 then 'ok' else 'no_data' end as status
    from (select school_code, school_year from int_sources__delivered where entity = 'parent_app_account') as has_parents
    left join enrolled_counts as c
        on has_parents.school_code = c.school_code
        and has_parents.school_year = c.school_year
),

final as (
    select * from c_2_3_2
    union all
    select * from c_2_3_6
    union all
    select * from c_2_4_1
)

select * from final
