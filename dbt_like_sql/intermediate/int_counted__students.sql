-- purpose: the source rows the student-based ratios count, with their role (the one home of these rules; int_criteria__students aggregates them), one row per student counted (students matched by moet_id, else through the cross-walk): 2.3.2 enrolled CSDL students (denominator, their CSDL row) and those present in a platform student list (numerator, their platform row); 2.3.6 enrolled students (denominator, their row in the list int_students__enrolled read) and those with a health record measured in the year (numerator, their first such record); 2.4.1 enrolled students (denominator) and those with an active parent account (cfg_params status) used in the year (numerator, their first such account); a student listed on several rows is counted once, at its first row; fields_read names the values the rule read, no personal data (no name, no moet_id: the file, sheet and row find the student)
-- grain: school_code, school_year, criterion_code, role, entity, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a few rows per student of a school; read by int_criteria__students for every school and by `cds explain` for one, which the view filters down to)
with schools as (
    select * from int_schools__universe
),

students as not materialized (
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
    select value from cfg_params
    where criterion_code = '2.4.1' and param = 'status'
),

csdl_enrolled as (
    -- each enrolled CSDL student once, at its first row
    select school_code, school_year, moet_id, class_name, source_file, source_sheet, source_row
    from students
    where is_csdl and is_enrolled and moet_id is not null
    qualify row_number() over (
        partition by school_code, school_year, moet_id order by source_file, source_sheet, source_row
    ) = 1
),

platform_ids as (
    select school_code, school_year, moet_id, source_file, source_sheet, source_row
    from students
    where not is_csdl and moet_id is not null
    qualify row_number() over (
        partition by school_code, school_year, moet_id order by source_file, source_sheet, source_row
    ) = 1
),

c_2_3_2 as (
    select
        csdl_enrolled.school_code,
        csdl_enrolled.school_year,
        '2.3.2' as criterion_code,
        'denominator' as role,
        'student' as entity, csdl_enrolled.source_file, csdl_enrolled.source_sheet, csdl_enrolled.source_row,
        'Học sinh đang học trong CSDL ngành; lớp ' || coalesce(csdl_enrolled.class_name, '?')
        || '; có trong danh sách học sinh của nền tảng: '
        || case when platform_ids.moet_id is null then 'không' else 'có' end as fields_read
    from csdl_enrolled
    left join platform_ids
        on csdl_enrolled.school_code = platform_ids.school_code
        and csdl_enrolled.school_year = platform_ids.school_year
        and csdl_enrolled.moet_id = platform_ids.moet_id
    union all
    select
        csdl_enrolled.school_code, csdl_enrolled.school_year, '2.3.2', 'numerator', 'student',
        platform_ids.source_file, platform_ids.source_sheet, platform_ids.source_row,
        'Có trong danh sách học sinh của nền tảng; cùng mã định danh với học sinh đang học ở '
        || csdl_enrolled.source_file || ', dòng ' || csdl_enrolled.source_row
    from csdl_enrolled
    inner join platform_ids
        on csdl_enrolled.school_code = platform_ids.school_code
        and csdl_enrolled.school_year = platform_ids.school_year
        and csdl_enrolled.moet_id = platform_ids.moet_id
),

located as (
    select
        school_code, school_year, coalesce(moet_id, student_key) as student_id, source_file, source_sheet,
        source_row
    from students
    where is_enrolled and coalesce(moet_id, student_key) is not null
    qualify row_number() over (
        partition by school_code, school_year, coalesce(moet_id, student_key)
        order by is_csdl desc, source_file asc, source_sheet asc, source_row asc
    ) = 1
),

enrolled_rows as (
    -- where each enrolled student is listed: its row in the list int_students__enrolled chose (the CSDL
    -- export first when the school has one), the first when it has several
    select
        enrolled.school_code,
        enrolled.school_year,
        enrolled.student_id,
        enrolled.class_name,
        located.source_file,
        located.source_sheet,
        located.source_row
    from enrolled
    left join located
        on enrolled.school_code = located.school_code
        and enrolled.school_year = located.school_year
        and enrolled.student_id = located.student_id
),

health_ids as (
    -- each student's first health record measured in the year
    select
        health.school_code,
        health.school_year,
        coalesce(health.moet_id, crosswalk.moet_id, health.student_key) as student_id,
        health.measured_at,
        health.source_file,
        health.source_sheet,
        health.source_row
    from health
    inner join schools
        on health.school_code = schools.school_code
        and health.school_year = schools.school_year
    left join crosswalk
        on health.school_code = crosswalk.school_code
        and health.school_year = crosswalk.school_year
        and health.student_code = crosswalk.code
    where cast(health.measured_at as date) between schools.year_start and schools.year_end
    qualify row_number() over (
        partition by
            health.school_code, health.school_year,
            coalesce(health.moet_id, crosswalk.moet_id, health.student_key)
        order by health.source_file, health.source_sheet, health.source_row
    ) = 1
),

parent_ids as (
    -- each student's first active parent account used in the year
    select
        parents.school_code,
        parents.school_year,
        coalesce(parents.moet_id, crosswalk.moet_id, parents.student_key) as student_id,
        parents.status,
        parents.last_active_at,
        parents.source_file,
        parents.source_sheet,
        parents.source_row
    from parents
    inner join schools
        on parents.school_code = schools.school_code
        and parents.school_year = schools.school_year
    left join crosswalk
        on parents.school_code = crosswalk.school_code
        and parents.school_year = crosswalk.school_year
        and parents.student_code = crosswalk.code
    where
        parents.status in (select parent_status_ok.value from parent_status_ok)
        and cast(parents.last_active_at as date) between schools.year_start and schools.year_end
    qualify row_number() over (
        partition by
            parents.school_code, parents.school_year,
            coalesce(parents.moet_id, crosswalk.moet_id, parents.student_key)
        order by parents.source_file, parents.source_sheet, parents.source_row
    ) = 1
),

enrolled_facts as (
    select
        enrolled_rows.*,
        health_ids.source_file as health_file,
        health_ids.source_sheet as health_sheet,
        health_ids.source_row as health_row,
        health_ids.measured_at,
        parent_ids.source_file as parent_file,
        parent_ids.source_sheet as parent_sheet,
        parent_ids.source_row as parent_row,
        parent_ids.status as parent_status,
        parent_ids.last_active_at,
        'Học sinh đang học; lớp ' || coalesce(enrolled_rows.class_name, '?') as student_fields,
        ' (học sinh đang học ở ' || coalesce(enrolled_rows.source_file, '?') || ', dòng '
        || coalesce(cast(enrolled_rows.source_row as varchar), '?') || ')' as student_ref
    from enrolled_rows
    left join health_ids
        on enrolled_rows.school_code = health_ids.school_code
        and enrolled_rows.school_year = health_ids.school_year
        and enrolled_rows.student_id = health_ids.student_id
    left join parent_ids
        on enrolled_rows.school_code = parent_ids.school_code
        and enrolled_rows.school_year = parent_ids.school_year
        and enrolled_rows.student_id = parent_ids.student_id
),

c_2_3_6 as (
    select
        school_code, school_year, '2.3.6' as criterion_code, 'denominator' as role, 'student' as entity,
        source_file, source_sheet, source_row,
        student_fields || '; có hồ sơ sức khỏe đo trong năm học: '
        || case when health_row is null then 'không' else 'có' end as fields_read
    from enrolled_facts
    union all
    select
        school_code,
        school_year,
        '2.3.6',
        'numerator',
        'health_record',
        health_file,
        health_sheet,
        health_row,
        'Hồ sơ sức khỏe đo ngày ' || strftime(cast(measured_at as date), '%d/%m/%Y') || student_ref
    from enrolled_facts
    where health_row is not null
),

c_2_4_1 as (
    select
        school_code, school_year, '2.4.1' as criterion_code, 'denominator' as role, 'student' as entity,
        source_file, source_sheet, source_row,
        student_fields || '; có tài khoản phụ huynh hoạt động trong năm học: '
        || case when parent_row is null then 'không' else 'có' end as fields_read
    from enrolled_facts
    union all
    select
        school_code,
        school_year,
        '2.4.1',
        'numerator',
        'parent_app_account',
        parent_file,
        parent_sheet,
        parent_row,
        'Tài khoản phụ huynh trạng thái ' || coalesce(parent_status, '?') || '; dùng lần cuối ngày '
        || strftime(cast(last_active_at as date), '%d/%m/%Y') || student_ref
    from enrolled_facts
    where parent_row is not null
),

final as (
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        cast(null as varchar) as item_code,
        source_file,
        source_sheet, source_row, 1.0 as amount, fields_read
    from c_2_3_2
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        cast(null as varchar),
        source_file,
        source_sheet,
        source_row, 1.0, fields_read
    from c_2_3_6
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        cast(null as varchar),
        source_file,
        source_sheet,
        source_row, 1.0, fields_read
    from c_2_4_1
)

select * from final
