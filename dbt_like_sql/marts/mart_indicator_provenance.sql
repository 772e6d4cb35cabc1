-- purpose: the source rows behind each computed criterion value, exactly those its rule counted: the rows of every int_counted__* model (one per family of criteria, each the one home of its rules), with their role (numerator, denominator; 'other' for rows read but counted in neither, e.g. admission applications of an unknown channel), the unit's code where it is not personal, the amount added up and the fields the rule read; no personal data; a reviewer drills down from a value to files, sheets and rows (`cds explain`, the reviewer HTML and workbook read it)
-- grain: school_code, school_year, criterion_code, role, entity, item_code, source_file, source_sheet, source_row (one row per school × school year × criterion × role × counted unit (a source row; for the grade book a class × subject pair, for 2.3.8 a required sync without a file))
-- partition: school_year
-- materialized: view (the union of the int_counted__* models; a reviewer's drill-down reads one school or criterion, which the view filters down to)
-- column: school_code (varchar): the school's code in the education database (CSDL) registry
-- column: school_year (varchar): the school year, as 'YYYY-YYYY' (e.g. 2024-2025)
-- column: criterion_code (varchar): the leaf criterion of Decision 4725 whose value the row counts in (e.g. 2.3.3)
-- column: role (varchar): numerator or denominator (the side of the criterion's ratio the row is counted on), or other for a row read but counted in neither
-- column: entity (varchar): the kind of source row counted (e.g. student, teaching_assignment, facility), as in the export layouts
-- column: item_code (varchar): the counted unit's code where it is not personal (e.g. a room code, a class/subject pair); null for a person
-- column: source_file (varchar): the source file (inbox path) the row was read from; for 2.3.8 null when a required sync has no file
-- column: source_sheet (varchar): the sheet (or JSON/CSV part) of source_file holding the row
-- column: source_row (bigint): the row number in source_sheet, as a reviewer sees it in the file
-- column: amount (double): what the row adds to the criterion's side (1 for a counted unit; a sum such as an amount paid otherwise)
-- column: fields_read (varchar): the fields the rule read from the row and their values, in Vietnamese for the reviewer (no personal data)
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
