"""Issue 24: JSON push files are capped by size and nesting. A push over `MAX_JSON_BYTES` is quarantined
as `file_too_large` from its size alone (never read: a 199 MB push once took the process tree to 7.6 GB);
arrays nested 100,000 deep are `unreadable_file` with a Vietnamese reason (not Python's English
RecursionError); a school's ordinary push still loads and the other schools' rows equal a run without
these files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from connectors import raw_store
from connectors.filedrop import MAX_JSON_BYTES, ingest_inbox
from reports.data_quality import collect, render
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
PUSH = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox" / YEAR / "province"
BIG = f"{YEAR}/08000003/dti_push_users_08000003_01.json"
DEEP = f"{YEAR}/08000002/dti_push_users_08000002_01.json"


def big_push(path: Path) -> None:
    """A well-formed push of school 08000003 just over the cap (made-up user pins)."""
    user = {
        "role": "GV",
        "metrics": [{"key": "live_sessions", "value": 3}, {"key": "total_tests", "value": 1}],
    }
    users = [{"user_pin": f"CB{i:08d}", **user} for i in range(MAX_JSON_BYTES // 90)]
    data = {
        "error_code": 0,
        "data": {
            "school_code": "08000003",
            "school_year_code": 2024,
            "semester_code": 1,
            "measured_at": "2025-01-12T23:00:00+07:00",
            "users": users,
        },
    }
    path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    assert path.stat().st_size > MAX_JSON_BYTES


def test_json_push_capped_by_size_and_nesting(tmp_path: Path) -> None:
    base = tmp_path / "base"
    for school, rooms in ROOMS.items():
        write_rooms(base / YEAR / school / "PhongHoc.xlsx", school, rooms)
    (base / YEAR / "province").mkdir(parents=True)
    shutil.copyfile(PUSH / "dti_push_users_08000001_01.json", base / YEAR / "province" / "push_08000001.json")
    root = tmp_path / "in"
    shutil.copytree(base, root)
    big_push(root / BIG)
    (root / DEEP).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")

    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    got = {
        f: (status, code, reason, sha)
        for f, status, code, reason, sha in con.execute(
            "SELECT source_file, status, reason_code, reason, file_sha256 FROM ingest_manifest"
        ).fetchall()
    }
    status, code, reason, sha = got[BIG]
    assert (status, code) == ("quarantined", "file_too_large") and sha.startswith("blocked:")  # never read
    assert (
        f"tối đa {MAX_JSON_BYTES // 2**20} MB" in reason
        and re.search(r"tệp JSON \d+,\d MB", reason)
        and "từng trường hoặc từng học kỳ" in reason
    )
    status, code, reason, _ = got[DEEP]
    assert (status, code) == ("quarantined", "unreadable_file")
    assert "lồng nhau quá sâu" in reason and "Recursion" not in reason
    assert got[f"{YEAR}/province/push_08000001.json"][:2] == ("loaded", None)

    clean = raw_store.connect(":memory:")
    ingest_inbox(clean, base, YEAR, hash_key="k")
    for table in ("raw_facility", "raw_lms_activity"):
        q = f"SELECT * EXCLUDE (ingested_at) FROM {table} ORDER BY ALL"
        assert con.execute(q).fetchall() == clean.execute(q).fetchall(), table
    assert con.execute("SELECT count(*) FROM raw_lms_activity").fetchone()[0] > 0
    html = render(collect(con, YEAR, with_audits=False))
    assert "dti_push_users_08000003_01.json" in html and "dti_push_users_08000002_01.json" in html
    assert not ingest_inbox(con, root, YEAR, hash_key="k").changed  # the next run skips them
