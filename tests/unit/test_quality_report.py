"""The data-quality report parses, has the expected sections per school (worst first), escapes a
hostile school name and never prints values of personal-data columns."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from connectors import raw_store
from quality import coverage
from quality.audits import load_audits, run_audit
from reports.data_quality import EXAMPLES_PER_REASON, collect, render, write_report

pytestmark = pytest.mark.unit

Y = "2024-2025"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.h2: list[str] = []
        self.h3: list[str] = []
        self._in: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._in = tag if tag in ("h2", "h3") else None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in == "h2":
            self.h2.append(data.strip())
        elif self._in == "h3":
            self.h3.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _prov(df: pd.DataFrame, file: str) -> pd.DataFrame:
    df["school_year"] = Y
    df["source_system"] = "csdl"
    df["layout_id"] = "t"
    df["source_file"] = file
    df["source_sheet"] = "Sheet1"
    df["source_row"] = range(2, 2 + len(df))
    df["file_sha256"] = "sha"
    df["ingested_at"] = dt.datetime(2025, 1, 1)
    return df


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect(":memory:")
    raw_store.ensure_schema(c)
    raw_store.insert_rows(
        c,
        "school",
        _prov(
            pd.DataFrame(
                {
                    "school_code": ["08000001", "08000002"],
                    "name": ["<script>alert('x')</script> THCS", "Trường Tiểu học Hòa Bình"],
                }
            ),
            "DanhSachTruong.xlsx",
        ),
    )
    raw_store.insert_rows(
        c,
        "facility",
        _prov(
            pd.DataFrame({"school_code": ["08000001"] * 3, "room_code": ["P1", "P2", "P3"]}),
            f"{Y}/08000001/phong.xlsx",
        ),
    )
    raw_store.insert_rows(
        c,
        "health_record",
        _prov(
            pd.DataFrame(
                {
                    "school_code": ["08000002"] * 2,
                    "student_key": ["0800000001", "0800000002"],
                    "height_cm": [140.0, 777.0],
                }
            ),
            f"{Y}/08000002/suckhoe.xlsx",
        ),
    )
    raw_store.insert_frame(
        c,
        "dq_quarantine_rows",
        pd.DataFrame(
            [
                {
                    "stage": "validate",
                    "entity": "health_record",
                    "school_code": "08000002",
                    "school_year": Y,
                    "source_file": f"{Y}/08000002/suckhoe.xlsx",
                    "source_sheet": "Sheet1",
                    "source_row": 3,
                    "canonical_column": "height_cm",
                    "value": "777",
                    "reason_code": "out_of_range",
                    "check_name": "height_cm:max",
                },
                {
                    "stage": "ingest",
                    "entity": "health_record",
                    "school_code": "08000002",
                    "school_year": Y,
                    "source_file": f"{Y}/08000002/suckhoe.xlsx",
                    "source_sheet": "Sheet1",
                    "source_row": 9,
                    "canonical_column": "measured_at",
                    "value": "32/13/2024",
                    "reason_code": "bad_date",
                    "check_name": "",
                },
            ]
        ),
    )
    raw_store.insert_frame(
        c,
        "ingest_manifest",
        pd.DataFrame(
            [
                {
                    "source_file": f"{Y}/08000002/la.pdf",
                    "delivery_year": Y,
                    "delivery_school": "08000002",
                    "status": "quarantined",
                    "reason_code": "unsupported_type",
                },
            ]
        ),
    )
    return c


def test_report_sections_escaping_and_privacy(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path, data = write_report(con, tmp_path, Y)
    html = path.read_text(encoding="utf-8")
    p = _Collector()
    p.feed(html)
    p.close()
    assert path.name == f"data_quality_{Y}.html"
    assert "script" not in p.tags  # the hostile name is text, not a tag
    assert "&lt;script&gt;" in html
    # worst school first: 08000002 has a quarantined file, rejects and missing sources
    assert p.h2[0] == "Tổng quan"
    assert p.h2[1].startswith("Trường 08000002")
    assert p.h2[2].startswith("Trường 08000001") and "<script>" in p.h2[2]
    for section in (
        "Dữ liệu đã nhận",
        "Dữ liệu bị loại",
        "Tệp bị cách ly",
        "Nguồn dữ liệu còn thiếu",
        "Kiểm tra chéo",
    ):
        assert p.h3.count(section) == 2
    text = "".join(p.text)
    assert "Giá trị nằm ngoài khoảng cho phép" in text
    assert "Loại tệp không được hỗ trợ" in text
    assert "Ngày không hợp lệ" in text
    assert "777" not in text  # height is personal data: never printed
    assert "32/13/2024" in text  # measured_at is not personal data
    assert "(dữ liệu cá nhân, không hiển thị)" in text
    assert data.totals["quarantined_files"] == 1
    assert data.totals["rejected"] == 2


def test_rejected_rows_count_per_reason_examples_and_rows_without_a_school(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """One row failing two rules counts once in the school's rejected rows but under both reasons; a reason
    shows at most EXAMPLES_PER_REASON examples, in report order; a row without a school is in no section."""
    rows = [
        {
            "stage": "validate",
            "entity": "health_record",
            "school_code": "08000002",
            "school_year": Y,
            "source_file": f"{Y}/08000002/suckhoe.xlsx",
            "source_sheet": "Sheet1",
            "source_row": 3,
            "canonical_column": "measured_at",
            "value": "x",
            "reason_code": "bad_date",
            "check_name": "c",
        },
        *(
            {
                "stage": "validate",
                "entity": "facility",
                "school_code": "08000001",
                "school_year": Y,
                "source_file": f"{Y}/08000001/phong.xlsx",
                "source_sheet": "Sheet1",
                "source_row": r,
                "canonical_column": "room_code",
                "value": f"P{r}",
                "reason_code": "out_of_range",
                "check_name": "c",
            }
            for r in (9, 5, 7, 6, 8)
        ),
        {
            "stage": "validate",
            "entity": "facility",
            "school_code": None,
            "school_year": Y,
            "source_file": f"{Y}/x/phong.xlsx",
            "source_sheet": "Sheet1",
            "source_row": 2,
            "canonical_column": "room_code",
            "value": "Z",
            "reason_code": "out_of_range",
            "check_name": "c",
        },
    ]
    raw_store.insert_frame(con, "dq_quarantine_rows", pd.DataFrame(rows))
    data = collect(con, Y)
    by_code = {s.school_code: s for s in data.schools}
    s2 = by_code["08000002"]
    assert s2.n_rejected == 2  # rows 3 (two reasons) and 9
    reasons = {(r["label"], r["reason_code"]): r["count"] for r in s2.rejected}
    assert reasons[("Khám sức khỏe học sinh", "bad_date")] == 2
    assert reasons[("Khám sức khỏe học sinh", "out_of_range")] == 1
    s1 = by_code["08000001"]
    assert s1.n_rejected == 5 and [r["count"] for r in s1.rejected] == [5]
    assert [e["row"] for e in s1.rejected[0]["examples"]] == [5, 6, 7][:EXAMPLES_PER_REASON]
    assert not any(
        e["file"] == f"{Y}/x/phong.xlsx" for s in data.schools for r in s.rejected for e in r["examples"]
    )


def test_report_from_precomputed_coverage_and_audits_equals_the_report_alone(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """A run hands the report the coverage frames and audit results its checks computed: same report."""
    alone = collect(con, Y)
    results = [run_audit(con, a, Y) for a in load_audits().values()]
    shared = collect(con, Y, cov=coverage.collect(con, Y), audit_results=results)
    shared.generated_at = alone.generated_at
    assert render(shared) == render(alone)
