-- purpose: the source rows behind each computed criterion value, exactly those its rule counted: the rows of every int_counted__* model (one per family of criteria, each the one home of its rules), with their role (numerator, denominator; 'other' for rows read but counted in neither, e.g. admission applications of an unknown channel), the unit's code where it is not personal, the amount added up and the fields the rule read; no personal data; a reviewer drills down from a value to files, sheets and rows (`cds explain`, the reviewer HTML and workbook read it)
-- grain: school_code, school_year, criterion_code, role, entity, item_code, source_file, source_sheet, source_row (one row per school × school year × criterion × role × counted unit (a source row; for the grade book a class × subject pair, for 2.3.8 a required sync without a file))
-- materialized: view (the union of the int_counted__* models; a reviewer's drill-down reads one school or criterion, which the view filters down to)
with counted as (
    -- the same columns from every model, named (Spark SQL has no UNION BY NAME)
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__facility
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__students
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__staff
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__teachers
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__gradebook
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__lms
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__resources
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__tests
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__fees
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__vouchers
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__admission
    union all
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from int_counted__sync
),

final as (
    select
        school_code,
        school_year,
        criterion_code,
        role,
        entity,
        item_code,
        source_file,
        source_sheet,
        source_row,
        amount,
        fields_read
    from counted
)

select * from final
