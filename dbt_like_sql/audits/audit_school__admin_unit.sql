-- purpose: School registry rows whose province or commune code is not an official administrative unit of that school year (cfg_admin_units: the units since the 1 July 2025 reform for school years starting in 2025 or later, the former units before): unknown codes, codes abolished by the reform (stale) and communes of another province
-- vi: Mã tỉnh hoặc mã xã/phường trong danh sách trường không có trong danh mục đơn vị hành chính của năm học (mã không tồn tại, mã cũ đã bỏ sau sắp xếp 01/7/2025, mã chưa có, hoặc xã thuộc tỉnh khác)
-- grain: one row per school × school year × registry row
-- asset: raw_school
-- blocking: false
with registry as (
    select
        school_code,
        school_year,
        province_code,
        commune_code,
        commune_name,
        source_file,
        source_sheet,
        source_row,
        case when try_cast(left(school_year, 4) as integer) >= 2025 then '2025' else 'pre2025' end as era
    from raw_school
    where province_code is not null or commune_code is not null
),

units as (
    select
        era,
        lpad(cast(province_code as varchar), 2, '0') as province_code,
        province_name,
        lpad(cast(commune_code as varchar), 5, '0') as commune_code,
        commune_name
    from cfg_admin_units
),

provinces as (
    select distinct era, province_code from units
),

other_era as (select distinct era, commune_code from units),

checked as (
    select
        registry.*,
        province_known.province_code is not null as is_province_known,
        same_era.commune_code is not null as is_commune_known,
        same_era.province_code as commune_province_code,
        other_era.commune_code is not null as is_commune_of_other_era
    from registry
    left join provinces as province_known
        on registry.era = province_known.era
        and registry.province_code = province_known.province_code
    left join units as same_era
        on registry.era = same_era.era
        and registry.commune_code = same_era.commune_code
    left join other_era
        on registry.era != other_era.era
        and registry.commune_code = other_era.commune_code
),

final as (
    select
        school_code,
        school_year,
        province_code,
        commune_code,
        commune_name,
        case
            when province_code is not null and not is_province_known then 'unknown_province'
            when commune_code is null then null
            when not is_commune_known and is_commune_of_other_era and era = '2025' then 'stale_commune'
            when not is_commune_known and is_commune_of_other_era then 'commune_not_yet_created'
            when not is_commune_known then 'unknown_commune'
            when province_code is not null and commune_province_code != province_code
                then 'commune_of_other_province'
        end as problem,
        case
            when province_code is not null and not is_province_known
                then 'Mã tỉnh ' || province_code || ' không có trong danh mục đơn vị hành chính của năm học'
            when commune_code is null then null
            when not is_commune_known and is_commune_of_other_era and era = '2025'
                then 'Mã xã ' || commune_code || ' là mã cũ, đã bỏ từ 01/7/2025: cập nhật mã xã/phường mới'
            when not is_commune_known and is_commune_of_other_era
                then 'Mã xã ' || commune_code || ' chỉ có từ 01/7/2025, chưa dùng được cho năm học này'
            when not is_commune_known
                then 'Mã xã ' || commune_code || ' không có trong danh mục đơn vị hành chính'
            when province_code is not null and commune_province_code != province_code
                then
                    'Mã xã ' || commune_code || ' thuộc tỉnh ' || commune_province_code
                    || ', không thuộc tỉnh ' || province_code
        end as problem_vi,
        source_file,
        source_sheet,
        source_row
    from checked
)

select * from final
where problem is not null
order by school_code, school_year, source_file, source_row
