"""Each SQL audit returns exactly the planted offending rows on a small DuckDB fixture, every audit has its
header, and the audits run as Dagster asset checks with the count and a preview in their metadata."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from connectors import raw_store
from indicator_sets.config import load_config_tables
from pipelines.assets.checks import build_audit_checks
from pipelines.partitions import school_year_partitions
from pipelines.resources import WarehouseResource
from quality.audits import load_audits, run_audit, to_markdown
from warehouse.sql_models import has_header

pytestmark = pytest.mark.unit
DEFAULT_SET = Path(__file__).resolve().parents[2] / "indicator_sets" / "qd4725_2022.yaml"

Y = "2024-2025"
A, B, X = "08000001", "08000002", "08999999"


def _rows(entity: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["school_year"] = df["school_year"].fillna(Y) if "school_year" in df else Y
    df["source_system"] = "csdl"
    df["layout_id"] = "test"
    df["source_file"] = df.get("source_file", f"{entity}.xlsx")
    df["source_sheet"] = "Sheet1"
    df["source_row"] = range(2, 2 + len(df))
    df["file_sha256"] = "sha"
    df["ingested_at"] = dt.datetime(2025, 1, 1)
    return df


def _load(con: duckdb.DuckDBPyConnection) -> None:
    raw_store.ensure_schema(con)
    ins = raw_store.insert_rows
    ins(
        con,
        "school",
        _rows(
            "school",
            [
                {
                    "school_code": A,
                    "province_code": "08",
                    "commune_code": "02212",
                },  # Nông Tiến, Tuyên Quang: fine
                {"school_code": B, "province_code": "08", "commune_code": "99999"},  # no such commune
                {
                    "school_code": "08000006",
                    "province_code": "08",
                    "commune_code": "00070",
                },  # a ward of Hà Nội
                {
                    "school_code": "08000004",
                    "province_code": "99",
                    "commune_code": "02212",
                },  # no such province
                {
                    "school_code": "08000005",
                    "province_code": "08",
                    "commune_code": "03980",
                },  # created in 2025
                # since the reform: 02200 was merged away (stale), 02212 lives on
                {
                    "school_code": A,
                    "province_code": "08",
                    "commune_code": "02200",
                    "school_year": "2025-2026",
                },
                {
                    "school_code": B,
                    "province_code": "08",
                    "commune_code": "02212",
                    "school_year": "2025-2026",
                },
            ],
        ),
    )
    load_config_tables(con, DEFAULT_SET)
    ins(
        con,
        "class",
        _rows(
            "class",
            [
                {"school_code": A, "class_code": f"{A}-2024-01", "class_name": "6A"},
                {"school_code": A, "class_code": f"{A}-2024-02", "class_name": "6B"},
                {"school_code": B, "class_code": f"{B}-2024-01", "class_name": "6A"},
            ],
        ),
    )
    st = [
        # A: 0800000001 twice in one system (duplicate); 0800000002 in two classes (duplicate)
        {
            "school_code": A,
            "student_key": "0800000001",
            "moet_id": "0800000001",
            "class_code": f"{A}-2024-01",
            "class_name": "6A",
            "is_enrolled": True,
        },
        {
            "school_code": A,
            "student_key": "0800000001",
            "moet_id": "0800000001",
            "class_code": f"{A}-2024-01",
            "class_name": "6A",
            "is_enrolled": True,
        },
        {
            "school_code": A,
            "student_key": "0800000002",
            "moet_id": "0800000002",
            "class_code": f"{A}-2024-01",
            "class_name": "6A",
            "is_enrolled": True,
        },
        {
            "school_code": A,
            "student_key": "0800000002",
            "moet_id": "0800000002",
            "class_code": f"{A}-2024-02",
            "class_name": "6B",
            "is_enrolled": True,
            "source_file": "other.xlsx",
        },
        # A: a student of class B's 6A (class of another school)
        {
            "school_code": A,
            "student_key": "0800000003",
            "moet_id": "0800000003",
            "class_code": f"{B}-2024-01",
            "class_name": "6A",
            "is_enrolled": True,
        },
        # A: transferred out (not enrolled)
        {
            "school_code": A,
            "student_key": "0800000004",
            "moet_id": "0800000004",
            "class_code": f"{A}-2024-02",
            "class_name": "6B",
            "is_enrolled": False,
        },
        # B: good student
        {
            "school_code": B,
            "student_key": "0800000005",
            "moet_id": "0800000005",
            "class_code": f"{B}-2024-01",
            "class_name": "6A",
            "is_enrolled": True,
        },
        # B: a 10-digit id that no province issued (a vnEdu local id read as the MOET id)
        {
            "school_code": B,
            "student_key": "9912345678",
            "moet_id": "9912345678",
            "class_code": f"{B}-2024-01",
            "class_name": "6A",
            "is_enrolled": True,
        },
    ]
    st[1]["source_file"] = "student_dup.xlsx"
    ins(con, "student", _rows("student", st))
    ins(
        con,
        "grade_entry",
        _rows(
            "grade_entry",
            [
                {"school_code": A, "student_key": "0800000001", "moet_id": "0800000001", "component": "gk"},
                {"school_code": A, "student_key": "0800000004", "moet_id": "0800000004", "component": "gk"},
                {"school_code": A, "student_key": "0800000004", "moet_id": "0800000004", "component": "ck"},
                {"school_code": A, "student_key": "HS99999999", "moet_id": None, "component": "gk"},
                # a school without a student list is not audited here (completeness is a GX finding)
                {
                    "school_code": "08000003",
                    "student_key": "0800000009",
                    "moet_id": "0800000009",
                    "component": "gk",
                },
            ],
        ),
    )
    ins(
        con,
        "teaching_assignment",
        _rows(
            "teaching_assignment",
            [
                {
                    "school_code": A,
                    "staff_id": "CB00000001",
                    "class_name": "6A",
                    "subject_code": "TOAN",
                    "semester": "1",
                },
                {
                    "school_code": A,
                    "staff_id": "CB00000001",
                    "class_name": "9Z",
                    "subject_code": "TOAN",
                    "semester": "1",
                },
                {
                    "school_code": "08000003",
                    "staff_id": "CB00000002",
                    "class_name": "7A",
                    "subject_code": "VAN",
                    "semester": "1",
                },
            ],
        ),
    )
    ins(
        con,
        "csdl_sync_log",
        _rows(
            "csdl_sync_log",
            [
                {"school_code": A, "sent_at": dt.datetime(2024, 9, 10), "entity": "student", "period": "DN"},
                {"school_code": X, "sent_at": dt.datetime(2024, 9, 11), "entity": "student", "period": "DN"},
            ],
        ),
    )
    ins(
        con,
        "fee_transaction",
        _rows(
            "fee_transaction",
            [
                {
                    "school_code": A,
                    "transaction_id": "T1",
                    "bill_id": "HD1",
                    "amount_due": 500000,
                    "amount_paid": 300000,
                    "status": "paid",
                },
                {
                    "school_code": A,
                    "transaction_id": "T2",
                    "bill_id": "HD1",
                    "amount_due": 500000,
                    "amount_paid": 300000,
                    "status": "paid",
                },
                {
                    "school_code": A,
                    "transaction_id": "T3",
                    "bill_id": "HD2",
                    "amount_due": 500000,
                    "amount_paid": 500000,
                    "status": "paid",
                },
                {
                    "school_code": A,
                    "transaction_id": "T4",
                    "bill_id": "HD2",
                    "amount_due": 500000,
                    "amount_paid": 500000,
                    "status": "failed",
                },
                {
                    "school_code": B,
                    "transaction_id": "T5",
                    "bill_id": None,
                    "amount_due": 100000,
                    "amount_paid": 120000,
                    "status": "paid",
                },
            ],
        ),
    )


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect(":memory:")
    _load(c)
    return c


EXPECTED_KEYS = {
    "audit_student__duplicate_in_school_year": (
        ["school_code", "student_id"],
        {(A, "0800000001"), (A, "0800000002")},
    ),
    "audit_student__class_of_other_school": (
        ["school_code", "student_id", "class_school_code"],
        {(A, "0800000003", B)},
    ),
    "audit_grade_entry__student_not_enrolled": (
        ["school_code", "student_id", "n_entries"],
        {(A, "0800000004", 2), (A, "HS99999999", 1)},
    ),
    "audit_teaching_assignment__class_missing": (
        ["school_code", "staff_id", "class_name"],
        {(A, "CB00000001", "9Z")},
    ),
    "audit_csdl_sync_log__unknown_school": (["school_code", "entity"], {(X, "student")}),
    "audit_fee_transaction__paid_above_due": (
        ["school_code", "bill_key", "overpaid_vnd"],
        {(A, "HD1", 100000), (B, "T5", 20000)},
    ),
    "audit_student__moet_id_province": (["school_code", "moet_id", "id_prefix"], {(B, "9912345678", "99")}),
    "audit_school__admin_unit": (
        ["school_code", "commune_code", "problem"],
        {
            (B, "99999", "unknown_commune"),
            ("08000006", "00070", "commune_of_other_province"),
            ("08000004", "02212", "unknown_province"),
            ("08000005", "03980", "commune_not_yet_created"),
        },
    ),
}


def test_every_audit_has_header_and_expected_case() -> None:
    audits = load_audits()
    assert set(audits) == set(EXPECTED_KEYS)
    assert all(has_header(a.model) for a in audits.values())


@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_audit_returns_planted_rows(con: duckdb.DuckDBPyConnection, name: str) -> None:
    cols, expected = EXPECTED_KEYS[name]
    result = run_audit(con, load_audits()[name], Y)
    got = {tuple(r) for r in result.rows[cols].itertuples(index=False)}
    assert got == expected
    assert result.count == len(expected)
    assert run_audit(con, load_audits()[name], "2023-2024").count == 0


def test_audits_on_missing_tables_pass() -> None:
    empty = duckdb.connect(":memory:")
    assert all(run_audit(empty, a, Y).passed for a in load_audits().values())


def test_markdown_preview_escapes_pipes() -> None:
    md = to_markdown(pd.DataFrame({"a": ["x|y"], "b": [None]}))
    assert md.splitlines() == ["| a | b |", "|---|---|", "| x\\|y |  |"]


def test_audits_run_as_asset_checks(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    c = duckdb.connect(str(path))
    _load(c)
    c.close()
    parts = school_year_partitions()
    checks = build_audit_checks(parts)
    assets = {a.asset for a in load_audits().values()}
    specs = [dg.AssetSpec(k, partitions_def=parts, skippable=True) for k in sorted(assets)]

    @dg.multi_asset(specs=specs, partitions_def=parts)
    def stub_raw():  # the raw tables are already loaded above
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key)

    defs = dg.Definitions(
        assets=[stub_raw],
        asset_checks=checks,
        jobs=[dg.define_asset_job("audits", selection=dg.AssetSelection.all(), partitions_def=parts)],
        resources={"warehouse": WarehouseResource(path=str(path), threads=1, memory_limit="1GB")},
    )
    result = defs.resolve_job_def("audits").execute_in_process(partition_key=Y, raise_on_error=False)
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evals) == set(EXPECTED_KEYS)
    dup = evals["audit_student__duplicate_in_school_year"]
    # raw-data audits warn (the models are robust to them); only the published-output suite blocks
    assert not dup.passed and dup.severity == dg.AssetCheckSeverity.WARN
    assert dup.metadata["offending_rows"].value == 2
    assert "0800000002" in dup.metadata["preview"].value
    fee = evals["audit_fee_transaction__paid_above_due"]
    assert not fee.passed and fee.severity == dg.AssetCheckSeverity.WARN


def test_admin_unit_audit_since_the_reform(con: duckdb.DuckDBPyConnection) -> None:
    """From 2025-2026 on, the registry is checked against the units since 1 July 2025: a commune code
    the reform abolished is reported as stale, with a Vietnamese text telling what to do."""
    result = run_audit(con, load_audits()["audit_school__admin_unit"], "2025-2026")
    assert result.rows[["school_code", "commune_code", "problem"]].values.tolist() == [
        [A, "02200", "stale_commune"]
    ]
    assert "đã bỏ từ 01/7/2025" in result.rows["problem_vi"].iloc[0]


def test_every_audit_has_a_vietnamese_text_for_people() -> None:
    """The Dagster UI and the data-quality report show the audits' `-- vi:` text, not the English purpose."""
    from quality.audits import load_audits

    for audit in load_audits().values():
        assert audit.title_vi != audit.model.purpose, audit.name
        assert any(ch in audit.title_vi for ch in "ăâđêôơưạảấầẩậắằẳặẹẻẽếềểệịọỏốồổộớờởợụủứừửựỳỷỹ"), audit.name
        assert audit.description.startswith(audit.title_vi)
