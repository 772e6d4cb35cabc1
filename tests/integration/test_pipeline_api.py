"""The ingest stage pulls the LMS metrics API when it is configured (real server on 127.0.0.1), and a
failing API is reported without losing the files' results."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings
from tests.integration.test_http_lms import KEY, Reply, api, users_push  # noqa: F401 - fixture import
from tests.integration.test_slice import EXPECTED_POINTS, ROOMS, YEAR, points_from_workbook, write_rooms

pytestmark = pytest.mark.integration


def make_inbox(root: Path) -> Path:
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "phong_hoc.xlsx", school, rooms)
    return root


def test_ingest_pulls_api_rows(api, tmp_path: Path) -> None:  # noqa: F811
    fake, base = api
    fake.handler = lambda q: Reply(200, {"data": [users_push(5, school="08000001")], "next_cursor": None})
    settings = get_settings(
        inbox=make_inbox(tmp_path / "inbox"),
        warehouse=tmp_path / "w.duckdb",
        out=tmp_path / "out",
        school_year=YEAR,
        api_base_url=base,
        api_key=KEY,
    )
    assert run_pipeline(settings)
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT metric, value FROM raw_lms_activity WHERE school_code='08000001' ORDER BY 1"
    ).fetchall()
    con.close()
    assert rows == [("lessons_assigned", 1.0), ("live_sessions", 2.0)]


def test_failing_api_does_not_fail_the_run(api, tmp_path: Path) -> None:  # noqa: F811
    fake, base = api
    fake.handler = lambda q: Reply(401, {"error": "bad key"})
    settings = get_settings(
        inbox=make_inbox(tmp_path / "inbox"),
        warehouse=tmp_path / "w.duckdb",
        out=tmp_path / "out",
        school_year=YEAR,
        api_base_url=base,
        api_key="wrong",
    )
    assert run_pipeline(settings)
    assert points_from_workbook(tmp_path / "out") == EXPECTED_POINTS
