"""Cross-file references resolved over the raw layer after each load (docs/exports.md §2, §3.12):

- student codes: a `student_key` is looked up among the school's moet_ids, then among its local codes
  (the cross-walk of `school.student_list.v1`); unmatched keys keep `student_key` and get the warning
  `unresolved_reference`;
- training accounts: matched to staff by staff_id, then unique case-folded email, then unique
  normalised name + school; the rule that matched goes to `match_method` (`none` with a warning).

Running it over the whole warehouse makes the result independent of file order; it is idempotent
(warnings it wrote are replaced on each run). Statements are parameter-free and fixed: no SQL models.
"""

from __future__ import annotations

import duckdb

STUDENT_REF_TABLES = ("raw_grade_entry", "raw_parent_app_account", "raw_fee_transaction", "raw_health_record")
_DETAIL = "ref:"

# norm() of docs/exports.md §1.3 in DuckDB: no accents, đ→d, lower, non-alphanumerics → one space
_NORM = (
    "trim(regexp_replace(lower(strip_accents(replace(replace({x}, 'đ', 'd'), 'Đ', 'd'))), "
    "'[^a-z0-9]+', ' ', 'g'))"
)


#: A digit-only code shorter than 10 restored to 10 digits: moet_ids and vnEdu local codes are 10 digits,
#: and `ids_as_numbers` exports drop their leading zeros (`329535838` for `0329535838`, §1.4).
STUDENT_CODE_WIDTH = 10
_PAD = "CASE WHEN regexp_full_match({x}, '[0-9]{{1,9}}') THEN lpad({x}, 10, '0') ELSE {x} END"


def padded(x: str) -> str:
    """SQL for the zero-padded form of a student code expression (unchanged unless 1–9 digits)."""
    return _PAD.format(x=x)


def resolve_students(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Fill moet_id (and local_id when the key was a local code) from raw_student.

    Order (§2): the code as written among the school's moet_ids, then among its local codes; then the
    zero-padded code (leading zeros lost in numeric cells) against the zero-padded moet_ids and local
    codes. A key matched in its padded form is stored restored (`student_key` gets the padded code)."""
    has_local = "local_id" in [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    moets = "(SELECT DISTINCT school_code, school_year, moet_id FROM raw_student WHERE moet_id IS NOT NULL)"
    locals_ = """(SELECT school_code, school_year, local_id, any_value(moet_id) AS moet_id FROM raw_student
                 WHERE local_id IS NOT NULL AND moet_id IS NOT NULL GROUP BY ALL)"""
    con.execute(f"""
        UPDATE {table} AS t SET moet_id = t.student_key
        FROM {moets} s
        WHERE t.moet_id IS NULL AND s.school_code = t.school_code AND s.school_year = t.school_year
          AND s.moet_id = t.student_key
    """)
    set_local = ", local_id = t.student_key" if has_local else ""
    con.execute(f"""
        UPDATE {table} AS t SET moet_id = s.moet_id{set_local}
        FROM {locals_} s
        WHERE t.moet_id IS NULL AND s.school_code = t.school_code AND s.school_year = t.school_year
          AND s.local_id = t.student_key
    """)
    key = padded("t.student_key")
    con.execute(f"""
        UPDATE {table} AS t SET moet_id = s.moet_id, student_key = s.moet_id
        FROM {moets} s
        WHERE t.moet_id IS NULL AND s.school_code = t.school_code AND s.school_year = t.school_year
          AND {padded("s.moet_id")} = {key} AND regexp_full_match(t.student_key, '[0-9]{{1,9}}')
    """)
    set_local = f", local_id = {key}" if has_local else ""
    con.execute(f"""
        UPDATE {table} AS t SET moet_id = s.moet_id, student_key = {key}{set_local}
        FROM (SELECT school_code, school_year, {padded("local_id")} AS code, any_value(moet_id) AS moet_id
              FROM {locals_} GROUP BY ALL) s
        WHERE t.moet_id IS NULL AND s.school_code = t.school_code AND s.school_year = t.school_year
          AND s.code = {key}
    """)
    con.execute(f"""
        INSERT INTO ingest_warnings
        SELECT DISTINCT source_file, file_sha256, source_sheet, source_row, 'unresolved_reference',
               '{_DETAIL}student_key ' || student_key
        FROM {table} WHERE moet_id IS NULL AND student_key IS NOT NULL
    """)


def match_training_accounts(con: duckdb.DuckDBPyConnection) -> None:
    """staff_id → unique email → unique normalised name + school; `match_method` records the rule."""
    con.execute("UPDATE raw_training_account SET match_method = NULL, matched_staff_id = NULL")
    con.execute("""
        UPDATE raw_training_account AS t SET match_method = 'staff_id', matched_staff_id = s.staff_id
        FROM (SELECT DISTINCT staff_id FROM raw_staff) s
        WHERE t.staff_id IS NOT NULL AND upper(t.staff_id) = s.staff_id
    """)
    con.execute("""
        UPDATE raw_training_account AS t SET match_method = 'email', matched_staff_id = s.staff_id
        FROM (SELECT lower(email) AS em, any_value(staff_id) AS staff_id FROM raw_staff
              WHERE email IS NOT NULL GROUP BY 1 HAVING count(DISTINCT staff_id) = 1) s
        WHERE t.match_method IS NULL AND t.email IS NOT NULL AND lower(t.email) = s.em
    """)
    name_t, name_s = _NORM.format(x="t.full_name"), _NORM.format(x="full_name")
    con.execute(f"""
        UPDATE raw_training_account AS t SET match_method = 'name', matched_staff_id = s.staff_id
        FROM (SELECT school_code, {name_s} AS nm, any_value(staff_id) AS staff_id FROM raw_staff
              WHERE full_name IS NOT NULL GROUP BY ALL HAVING count(DISTINCT staff_id) = 1) s
        WHERE t.match_method IS NULL AND t.full_name IS NOT NULL AND s.school_code = t.school_code
          AND s.nm = {name_t}
    """)
    con.execute("UPDATE raw_training_account SET match_method = 'none' WHERE match_method IS NULL")
    con.execute(f"""
        INSERT INTO ingest_warnings
        SELECT source_file, file_sha256, source_sheet, source_row, 'unresolved_reference',
               '{_DETAIL}account ' || account_id
        FROM raw_training_account WHERE match_method = 'none'
    """)


def resolve_all(con: duckdb.DuckDBPyConnection) -> None:
    """Re-resolve every cross-file reference in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"DELETE FROM ingest_warnings WHERE reason_code = 'unresolved_reference' "
            f"AND detail LIKE '{_DETAIL}%'"
        )
        for table in STUDENT_REF_TABLES:
            resolve_students(con, table)
        match_training_accounts(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
