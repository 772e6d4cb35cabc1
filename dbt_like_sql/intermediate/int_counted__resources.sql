-- purpose: the units 1.4 counts, with their role (the one home of this rule; int_criteria__resources aggregates them): every (subject, grade) pair of the year's teaching assignments (grade from the class list, else the class name) in the denominator, at its first assignment row, and the pairs with at least 1 approved resource (approval/moderation statuses from cfg_params) created on or before the end of the year in the numerator, at that pair's first such resource row; fields_read names the values the rule read, no personal data
-- grain: school_code, school_year, criterion_code, role, entity, item_code, source_file, source_sheet, source_row (item_code: the class/subject or subject/grade pair a teaching-assignment row stands for; one row can hold several)
-- partition: school_year
-- materialized: view (a school's subjects × grades: tens of rows; read by int_criteria__resources and by `cds explain`)
with schools as (
    select * from int_schools__universe
),

assignments as (
    select * from stg_school__teaching_assignments
),

classes as (
    select * from int_classes__sizes
),

resources as (
    select * from stg_lms__resources
),

approval_ok as (
    select value from cfg_params
    where criterion_code = '1.4' and param = 'approval_status'
),

moderation_ok as (
    select value from cfg_params
    where criterion_code = '1.4' and param = 'moderation_status'
),

pairs as (
    -- each (subject, grade) pair once, at its first assignment row
    select
        assignments.school_code,
        assignments.school_year,
        assignments.subject_code,
        coalesce(classes.grade, try_cast(regexp_extract(assignments.class_name, '^(\d+)', 1) as integer))
            as grade,
        assignments.source_file,
        assignments.source_sheet,
        assignments.source_row
    from assignments
    left join classes
        on assignments.school_code = classes.school_code
        and assignments.school_year = classes.school_year
        and assignments.class_name = classes.class_name
    where assignments.subject_code is not null
    qualify row_number() over (
        partition by
            assignments.school_code, assignments.school_year, assignments.subject_code,
            coalesce(classes.grade, try_cast(regexp_extract(assignments.class_name, '^(\d+)', 1) as integer))
        order by assignments.source_file, assignments.source_sheet, assignments.source_row
    ) = 1
),

approved as (
    -- each (subject, grade) pair's first approved resource, and how many it has
    select
        resources.school_code,
        resources.school_year,
        resources.subject_code,
        resources.grade,
        resources.resource_id,
        count(*) over (
            partition by resources.school_code, resources.school_year, resources.subject_code, resources.grade
        ) as n_resources,
        resources.source_file,
        resources.source_sheet,
        resources.source_row
    from resources
    inner join schools
        on resources.school_code = schools.school_code
        and resources.school_year = schools.school_year
    where
        resources.approval_status in (select approval_ok.value from approval_ok)
        and resources.moderation_status in (select moderation_ok.value from moderation_ok)
        and (resources.created_at is null or cast(resources.created_at as date) <= schools.year_end)
    qualify row_number() over (
        partition by resources.school_code, resources.school_year, resources.subject_code, resources.grade
        order by resources.source_file, resources.source_sheet, resources.source_row
    ) = 1
),

facts as (
    select
        pairs.*,
        approved.resource_id,
        approved.n_resources,
        approved.source_file as resource_file,
        approved.source_sheet as resource_sheet,
        approved.source_row as resource_row,
        'Môn ' || pairs.subject_code || ', khối ' || coalesce(cast(pairs.grade as varchar), '?') as pair_text
    from pairs
    left join approved
        on pairs.school_code = approved.school_code
        and pairs.school_year = approved.school_year
        and pairs.subject_code = approved.subject_code
        and pairs.grade = approved.grade
),

final as (
    select
        school_code,
        school_year,
        '1.4' as criterion_code,
        'denominator' as role,
        'teaching_assignment' as entity,
        subject_code || '/' || coalesce(cast(grade as varchar), '?') as item_code, source_file, source_sheet,
        source_row, 1.0 as amount,
        pair_text || ' được phân công dạy; có học liệu đã duyệt: '
        || case when resource_row is null then 'không' else 'có' end as fields_read
    from facts
    union all
    select
        school_code, school_year, '1.4', 'numerator', 'learning_resource',
        subject_code || '/' || coalesce(cast(grade as varchar), '?'),
        resource_file,
        resource_sheet,
        resource_row,
        1.0,
        pair_text || ': học liệu ' || coalesce(resource_id, '?') || ' đã duyệt, tạo đến hết năm học ('
        || n_resources || ' học liệu như vậy)'
    from facts
    where resource_row is not null
)

select * from final
