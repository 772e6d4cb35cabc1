-- purpose: the voucher rows 2.3.7 counts (the one home of this rule; int_criteria__vouchers aggregates them): every distinct voucher number dated in the school year, at its first row (numerator; the criterion has no denominator); fields_read names the values the rule read (voucher number, type, date), no personal data
-- grain: school_code, school_year, criterion_code, role, entity, source_file, source_sheet, source_row
-- partition: school_year
-- materialized: view (a school's vouchers of a year; read by int_criteria__vouchers and by `cds explain`)
with schools as (
    select * from int_schools__universe
),

vouchers as (
    select * from stg_misa__vouchers
),

in_year as (
    select
        vouchers.*,
        count(*) over (
            partition by vouchers.school_code, vouchers.school_year, vouchers.voucher_no
        ) as n_rows
    from vouchers
    inner join schools
        on vouchers.school_code = schools.school_code
        and vouchers.school_year = schools.school_year
    where
        vouchers.voucher_date between schools.year_start and schools.year_end
        and vouchers.voucher_no is not null
    qualify row_number() over (
        partition by vouchers.school_code, vouchers.school_year, vouchers.voucher_no
        order by vouchers.source_file, vouchers.source_sheet, vouchers.source_row
    ) = 1
),

final as (
    select
        school_code,
        school_year,
        '2.3.7' as criterion_code,
        'numerator' as role,
        'accounting_voucher' as entity,
        cast(voucher_no as varchar) as item_code, source_file, source_sheet, source_row, 1.0 as amount,
        'Chứng từ số ' || voucher_no || '; loại ' || coalesce(voucher_type, '?') || '; ngày '
        || strftime(cast(voucher_date as date), '%d/%m/%Y')
        || case when n_rows > 1 then ' (' || n_rows || ' dòng cùng số chứng từ, đếm một lần)' else '' end
            as fields_read
    from in_year
)

select * from final
