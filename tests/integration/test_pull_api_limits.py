"""The ingest step's API pull (`pipelines.assets.ingest.pull_api`) with the limits taken from the
settings when it runs: a failure shows on the asset's metadata in Vietnamese and in `api_pulls`, and a
dripping API cannot hold a whole `cds run` (real servers on 127.0.0.1, a real warehouse file)."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from connectors.http_lms import latest_pull_status
from pipelines.assets.ingest import pull_api
from pipelines.resources import PipelineConfig
from pipelines.run_summary import summary_lines
from pipelines.runner import run_pipeline
from pipelines.settings import get_settings
from tests.integration.test_http_client_limits import _no_proxy, drip_body, raw  # noqa: F401 - fixtures
from tests.integration.test_http_lms import KEY, ChangeLog, Reply, api, users_push  # noqa: F401 - fixture
from tests.integration.test_slice import EXPECTED_POINTS, ROOMS, YEAR, points_from_workbook, write_rooms

pytestmark = pytest.mark.integration


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, msg: str) -> None:
        self.lines.append(msg)

    info = warning


def config(tmp_path: Path, base: str) -> PipelineConfig:
    return PipelineConfig(
        inbox=str(tmp_path),
        out=str(tmp_path),
        indicator_set="x",
        hash_key="k",
        api_base_url=base,
        api_key=KEY,
    )


def test_a_failed_pull_shows_on_the_asset_in_vietnamese(
    api,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, base = api
    fake.handler = ChangeLog(
        [users_push(d, pins=tuple(f"CB{i:08d}" for i in range(20))) for d in range(1, 4)]
    )
    monkeypatch.setenv("CDS_API_MAX_BODY_BYTES", "4096")  # read from the settings when the step runs
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    log = Log()
    meta = pull_api(con, config(tmp_path, base), YEAR, log)
    assert meta["lms_api"] == "failed" and meta["lms_api_error_code"] == "body_too_large"
    assert "vượt giới hạn 4096 byte (CDS_API_MAX_BODY_BYTES)" in meta["lms_api_message"]
    assert meta["lms_api_message"].startswith("Không lấy được dữ liệu từ API 127.0.0.1")
    assert log.lines and "LMS API pull failed (body_too_large)" in log.lines[0] and KEY not in log.lines[0]
    st = latest_pull_status(con, YEAR)
    assert st is not None and st.failed and st.message_vi == meta["lms_api_message"]

    monkeypatch.delenv("CDS_API_MAX_BODY_BYTES")  # the next run, with the default limit, gets everything
    meta = pull_api(con, config(tmp_path, base), YEAR, log)
    assert meta["lms_api"] == "ok" and meta["lms_api_objects"] == 3 and meta["lms_api_pages"] == 1
    st = latest_pull_status(con, YEAR)
    assert st is not None and not st.failed and st.rows_loaded == meta["lms_api_rows_loaded"] > 0
    con.close()
    assert pull_api(None, config(tmp_path, ""), YEAR, log) == {"lms_api": "off (CDS_API_BASE_URL not set)"}


def test_a_dripping_api_cannot_hold_the_run(raw, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    base, served = raw(drip_body)
    monkeypatch.setenv("CDS_API_PULL_DEADLINE_SECONDS", "1.5")
    for school, rooms in ROOMS.items():
        write_rooms(tmp_path / "inbox" / YEAR / school / "phong_hoc.xlsx", school, rooms)
    settings = get_settings(
        inbox=tmp_path / "inbox",
        warehouse=tmp_path / "w.duckdb",
        out=tmp_path / "out",
        school_year=YEAR,
        api_base_url=base,
        api_key=KEY,
    )
    t0 = time.monotonic()
    outcome = run_pipeline(settings)
    elapsed = time.monotonic() - t0
    assert outcome and points_from_workbook(tmp_path / "out") == EXPECTED_POINTS  # the files' results stand
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    st = latest_pull_status(con, YEAR)
    con.close()
    assert st is not None and st.failed and st.error_code == "pull_deadline"
    assert (st.finished_at - st.started_at).total_seconds() < 5.0, "the drip held the ingest step"
    assert "1,5 giây (CDS_API_PULL_DEADLINE_SECONDS)" in (st.message_vi or "")
    assert served.requests and served.requests[0]["X-API-Key"] == KEY and 0 < served.bytes_sent < 200
    # the run says it completed with a failed source: in its summary and in the data-quality report
    summary = outcome.summary
    assert summary["status"] == "completed_with_failed_source"
    assert summary["sources"]["lms_api"]["error_code"] == "pull_deadline"
    assert any(line.startswith("API số liệu LMS: lỗi — ") for line in summary_lines(summary))
    report = (tmp_path / "out" / f"data_quality_{YEAR}.html").read_text(encoding="utf-8")
    assert "Nguồn API số liệu LMS" in report and "CDS_API_PULL_DEADLINE_SECONDS" in report
    print(f"run with a dripping API: {elapsed:.1f} s")  # noisy machine: reported, not asserted
