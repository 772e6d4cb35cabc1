"""What arrived, per school × source (entity), for one school year: files, rows, rejects and the sources
each school is expected to deliver. Shared by the Great Expectations raw-input suite and the
data-quality report, so both count the same way. Codes and aggregates only (no personal data).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from connectors import raw_store
from connectors.entities import load_entities

# Sources every school is expected to deliver each year (the registry and the LMS are province-level;
# fees, admissions, accounting and resources depend on the school's platforms and are not required).
EXPECTED_SOURCES: tuple[str, ...] = (
    "class",
    "student",
    "staff",
    "teaching_assignment",
    "grade_entry",
    "transcript",
    "facility",
    "health_record",
    "csdl_sync_log",
    "self_assessment",
)

SOURCE_LABELS_VI: dict[str, str] = {
    "school": "Danh sách trường",
    "class": "Danh sách lớp",
    "student": "Danh sách học sinh",
    "staff": "Danh sách cán bộ, giáo viên",
    "teaching_assignment": "Phân công giảng dạy",
    "grade_entry": "Sổ điểm (TT22/TT27)",
    "transcript": "Học bạ số",
    "lms_activity": "Hoạt động dạy học trực tuyến",
    "learning_resource": "Học liệu số",
    "computer_based_test": "Kiểm tra trên máy tính",
    "facility": "Phòng học, phòng chức năng",
    "training_account": "Tài khoản bồi dưỡng giáo viên",
    "parent_app_account": "Tài khoản phụ huynh",
    "fee_transaction": "Thu phí không dùng tiền mặt",
    "admission_application": "Hồ sơ tuyển sinh",
    "health_record": "Khám sức khỏe học sinh",
    "accounting_voucher": "Chứng từ kế toán",
    "csdl_sync_log": "Nhật ký đồng bộ CSDL ngành",
    "self_assessment": "Tự đánh giá chuyển đổi số",
}


def schools(con: duckdb.DuckDBPyConnection, school_year: str) -> pd.DataFrame:
    """Every school known for the year (registry, deliveries, raw rows): school_code, school_name."""
    raw_store.ensure_schema(con)
    parts = ["SELECT school_code, name AS school_name FROM raw_school WHERE school_year = $school_year"]
    # a folder whose code the registry does not hold is no school (issue 24: no phantom in any output)
    parts.append(
        "SELECT delivery_school, NULL FROM ingest_manifest WHERE delivery_year = $school_year "
        "AND coalesce(reason_code, '') <> 'unknown_school'"
    )
    parts += [
        f"SELECT DISTINCT school_code, NULL FROM {e.table} WHERE school_year = $school_year"
        for e in load_entities().values()
        if e.name != "school"
    ]
    sql = (
        "SELECT school_code, any_value(school_name) AS school_name FROM ("
        + " UNION ALL ".join(parts)
        + ") WHERE school_code IS NOT NULL GROUP BY school_code ORDER BY school_code"
    )
    return con.execute(sql, {"school_year": school_year}).df()


def rows_by_source(con: duckdb.DuckDBPyConnection, school_year: str) -> pd.DataFrame:
    """Rows kept in the raw tables per school × source: school_code, entity, n_files, n_rows,
    newest_ingest."""
    raw_store.ensure_schema(con)
    parts = [
        f"SELECT school_code, '{e.name}' AS entity, count(DISTINCT source_file) AS n_files, "
        f"count(*) AS n_rows, max(ingested_at) AS newest_ingest FROM {e.table} "
        "WHERE school_year = $school_year GROUP BY school_code"
        for e in load_entities().values()
    ]
    return con.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2", {"school_year": school_year}).df()


def files(con: duckdb.DuckDBPyConnection, school_year: str) -> pd.DataFrame:
    """The manifest rows of the year's deliveries (one row per file, with its reason in Vietnamese); a
    file of a folder whose code the registry does not hold (`unknown_school`) has no school, and a file
    under a top-level folder that is no school year (`unexpected_folder`: it belongs to no year) is
    listed in every year, without a school (the report lists both with the unassigned files)."""
    raw_store.ensure_schema(con)
    return con.execute(
        "SELECT source_file, CASE WHEN reason_code = 'unknown_school' THEN NULL ELSE delivery_school END "
        "AS school_code, entities, status, reason_code, reason, rows_read, rows_kept, rows_rejected, "
        "ingested_at "
        "FROM ingest_manifest WHERE (delivery_year = ? OR (delivery_year IS NULL AND reason_code = "
        "'unexpected_folder')) AND coalesce(status, '') <> 'retired' ORDER BY source_file",
        [school_year],
    ).df()


def delivery_matrix(
    con: duckdb.DuckDBPyConnection,
    school_year: str,
    *,
    school_list: pd.DataFrame | None = None,
    by_source: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per school × expected source: school_code, entity, n_files, n_rows, delivered.
    `school_list` and `by_source` (from `schools` and `rows_by_source`) are read when not given."""
    sch = (schools(con, school_year) if school_list is None else school_list)[["school_code"]]
    exp = pd.DataFrame({"entity": list(EXPECTED_SOURCES)})
    grid = sch.merge(exp, how="cross")
    got = (rows_by_source(con, school_year) if by_source is None else by_source)[
        ["school_code", "entity", "n_files", "n_rows"]
    ]
    out = grid.merge(got, on=["school_code", "entity"], how="left")
    out[["n_files", "n_rows"]] = out[["n_files", "n_rows"]].fillna(0).astype("int64")
    out["delivered"] = out["n_rows"] > 0
    return out


@dataclass(frozen=True)
class Coverage:
    """Everything above for one school year, each read once: the data-quality report and the GX raw-input
    suite of one run share it (the raw tables and the manifest do not change after ingest)."""

    school_year: str
    schools: pd.DataFrame
    by_source: pd.DataFrame
    files: pd.DataFrame
    matrix: pd.DataFrame


def collect(con: duckdb.DuckDBPyConnection, school_year: str) -> Coverage:
    """`schools`, `rows_by_source`, `files` and `delivery_matrix` of one school year (one query each)."""
    sch = schools(con, school_year)
    by_source = rows_by_source(con, school_year)
    matrix = delivery_matrix(con, school_year, school_list=sch, by_source=by_source)
    return Coverage(school_year, sch, by_source, files(con, school_year), matrix)
