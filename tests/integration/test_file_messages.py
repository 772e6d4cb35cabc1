"""Issue 24: messages that say what happened. A file the pipeline's account may not read is
`permission_denied` (before: "damaged or encrypted"); a file whose title names a school the registry does
not hold says that name matched nothing (before: "no school code, name or folder"); a reader's own English
error text is wrapped in a Vietnamese sentence (a JSON syntax error names its line and column). The
other schools load as without these files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from tests.integration.test_folder_mismatch import write_titled_rooms
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "sample_exports" / "inbox" / YEAR / "province" / "DanhSachTruong.xlsx"
LOCKED = f"{YEAR}/08000002/PhongHoc.xlsx"
MANIFEST = "SELECT source_file, status, reason_code, reason FROM ingest_manifest ORDER BY 1"
CHILD = """
import sys
from connectors import raw_store
from connectors.filedrop import ingest_inbox
if __name__ == "__main__":
    con = raw_store.connect(sys.argv[2])
    ingest_inbox(con, sys.argv[1], hash_key="k")
"""


def test_a_file_the_pipeline_may_not_read_is_permission_denied(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
    os.chmod(root / LOCKED, 0)
    drop: list[str] = []
    if os.geteuid() == 0:  # root reads anything: run the ingest as root without the override capabilities
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        drop = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    (tmp_path / "child.py").write_text(CHILD, encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    done = subprocess.run(
        [*drop, sys.executable, str(tmp_path / "child.py"), str(root), str(wh)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    con = raw_store.connect(wh)
    rows = {r[0]: r[1:] for r in con.execute(MANIFEST).fetchall()}
    status, code, reason = rows[LOCKED]
    assert (status, code) == ("quarantined", "permission_denied")
    assert "không có quyền đọc tệp" in reason and "hỏng" in reason and "mã hóa" not in reason
    loaded = dict(con.execute("SELECT school_code, count(*) FROM raw_facility GROUP BY 1").fetchall())
    assert loaded == {s: len(r) for s, r in ROOMS.items() if s != "08000002"}
    con.close()

    os.chmod(root / LOCKED, 0o644)  # permission granted: the next run reads it
    con = raw_store.connect(wh)
    ingest_inbox(con, root, hash_key="k")
    assert con.execute("SELECT status FROM ingest_manifest WHERE source_file = ?", [LOCKED]).fetchone() == (
        "loaded",
    )


def test_a_school_name_that_matches_nothing_says_so_and_reader_errors_are_wrapped(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
    clean = raw_store.connect(":memory:")
    ingest_inbox(clean, root, YEAR, hash_key="k")
    (root / YEAR / "province").mkdir()
    shutil.copyfile(REGISTRY, root / YEAR / "province" / "DanhSachTruong.xlsx")
    rooms = [("T1", "Phòng học", "x", "x")]
    write_titled_rooms(root / YEAR / "province" / "PhongHoc_TruongLa.xlsx", "TRƯỜNG THCS HOA SEN", rooms)
    (root / YEAR / "08000001" / "dti_push_users_08000001_02.json").write_text(
        '{"error_code": 0,\n "data": {"users": [\n  {"user_pin": "CB1", role: "GV"}]}}', encoding="utf-8"
    )
    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    rows = {r[0]: r[1:] for r in con.execute(MANIFEST).fetchall()}
    status, code, reason = rows[f"{YEAR}/province/PhongHoc_TruongLa.xlsx"]
    assert (status, code) == ("quarantined", "school_unresolved")
    assert "“TRƯỜNG THCS HOA SEN”" in reason and "không khớp trường nào trong danh sách" in reason
    status, code, reason = rows[f"{YEAR}/08000001/dti_push_users_08000001_02.json"]
    assert (status, code) == ("quarantined", "unreadable_file")
    assert "lỗi cú pháp JSON ở dòng 3, cột 23" in reason and "thông báo gốc của trình đọc tệp" in reason
    q = "SELECT * EXCLUDE (ingested_at) FROM raw_facility ORDER BY ALL"
    assert con.execute(q).fetchall() == clean.execute(q).fetchall()
