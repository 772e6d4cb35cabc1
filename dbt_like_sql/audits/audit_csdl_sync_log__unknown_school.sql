-- purpose: CSDL sync-log rows of a school that is not in the school registry for that year (criterion 2.3.8 cannot be credited to any known school)
-- vi: Nhật ký đồng bộ CSDL ngành của một trường không có trong danh sách trường năm học đó (tiêu chí 2.3.8 không tính được cho trường nào)
-- grain: one row per sync attempt (school × school year × sent_at × entity)
-- asset: raw_csdl_sync_log
-- blocking: false
with sync_logs as (
    select * from raw_csdl_sync_log
),

registry as (
    select distinct school_code, school_year
    from raw_school
),

final as (
    select
        sync_logs.school_code,
        sync_logs.school_year,
        sync_logs.sent_at,
        sync_logs.entity,
        sync_logs.period,
        sync_logs.result,
        sync_logs.source_file,
        sync_logs.source_sheet,
        sync_logs.source_row
    from sync_logs
    anti join registry
        on sync_logs.school_code = registry.school_code
        and sync_logs.school_year = registry.school_year
)

select * from final
order by school_code, school_year, sent_at, entity
