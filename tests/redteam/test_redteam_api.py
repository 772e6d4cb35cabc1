"""The red-team suite's LMS API classes that a run can meet only one at a time (a run has one API
address): a redirect to another origin and a body far over the size limit. The dripping server is in
the hostile run of test_redteam.py.

Each is the clean run's next run with nothing changed but the API, pointed at a server on 127.0.0.1
that behaves so. Per class: the run exits 0 with the status `completed_with_failed_source`; the pull's
record and the run summary carry the reason; the data-quality report names the source and the setting
to look at, in Vietnamese, without the API key; and every school's outputs (as test_redteam.py defines
them, ranks included since no school's score may move) are identical to the clean run.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import duckdb
import pytest

from connectors.http_lms import latest_pull_status
from tests.redteam import province as rt

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# one class per entry: the server's behaviour, extra settings, the reason, texts the report must show
CLASSES: dict[str, tuple[Callable[..., None], dict[str, str], str, tuple[str, ...]]] = {
    "api_redirect_to_another_origin": (
        rt.redirect_elsewhere,
        {},
        "redirect_refused",
        ("Nguồn API số liệu LMS", "không gửi khóa API ra ngoài", "CDS_API_BASE_URL"),
    ),
    "api_body_too_large": (
        rt.huge_body,
        {"CDS_API_MAX_BODY_BYTES": str(2**20)},
        "body_too_large",
        ("Nguồn API số liệu LMS", "CDS_API_MAX_BODY_BYTES"),
    ),
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_api_class(name: str, clean_run: rt.Clean) -> None:
    script, settings, reason, shown = CLASSES[name]
    run = rt.run_api_class(clean_run, name, script, **settings)
    assert run.rc == 0, run.stderr[-5000:]
    con = duckdb.connect(str(run.db), read_only=True)
    try:
        pull = latest_pull_status(con, rt.YEAR)
    finally:
        con.close()
    assert pull is not None and (pull.failed, pull.error_code) == (True, reason)
    summary = json.loads((run.out / f"run_summary_{rt.YEAR}.json").read_text(encoding="utf-8"))
    assert summary["status"] == "completed_with_failed_source"
    assert summary["sources"]["lms_api"]["error_code"] == reason
    report = (run.out / f"data_quality_{rt.YEAR}.html").read_text(encoding="utf-8")
    for text in shown:
        assert text in report, f"the data-quality report does not say {text!r}"
    assert rt.API_KEY not in json.dumps(summary) and rt.API_KEY not in report
    clean, got = rt.school_outputs(clean_run.root / "clean_out"), rt.school_outputs(run.out)
    schools = clean_run.province.schools
    assert all(s in clean["indicator_values"] for s in schools), "compare real outputs"
    changed = [f"{k}: {s}" for k in rt.ALL_OUTPUTS for s in schools if clean[k].get(s) != got[k].get(s)]
    assert changed == []
