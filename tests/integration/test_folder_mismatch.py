"""Issue 24: a school's export dropped in another school's folder is quarantined as `folder_mismatch`
(its title names the other school, which the registry resolves), not loaded as either school: the
other schools' rows are those of a run without it, the data-quality report names it in Vietnamese,
and the next run changes nothing. The province folder's registry (many schools by design) is not held
to any folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from reports.data_quality import collect, render
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
REGISTRY = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox" / YEAR / "province"
MISPLACED = f"{YEAR}/08000001/PhongHoc_THCS_Thanh_Van.xlsx"


def write_titled_rooms(path: Path, title: str, rooms: list[tuple]) -> None:
    """A room list whose title names the school (as vendor exports do), with no code anywhere."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DanhSachPhong"
    ws.append(["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    ws.append([title, None, None, "Độc lập - Tự do - Hạnh phúc"])
    ws.append([])
    ws.append(["DANH SÁCH PHÒNG HỌC, PHÒNG CHỨC NĂNG"])
    ws.append([f"Năm học: {YEAR}"])
    ws.append([])
    ws.append(["STT", "Mã phòng", "Tên phòng", "Loại phòng", "Máy chiếu/Ti vi", "Kết nối Internet"])
    for i, (code, kind, proj, net) in enumerate(rooms, 1):
        ws.append([i, code, f"Phòng {code}", kind, proj, net])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_a_file_naming_another_school_is_quarantined(tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(REGISTRY, base / YEAR / "province")
    for school, rooms in ROOMS.items():
        write_rooms(base / YEAR / school / "PhongHoc.xlsx", school, rooms)
    root = tmp_path / "in"
    shutil.copytree(base, root)
    extra = [("T1", "Phòng học", "x", "x"), ("T2", "Phòng Tin học", "x", "x")]
    write_titled_rooms(root / MISPLACED, "TRƯỜNG THCS THANH VĂN", extra)  # 08000002's name in the registry
    write_titled_rooms(root / YEAR / "08000001" / "PhongHoc_dung.xlsx", "TRƯỜNG TIỂU HỌC THỦY THƯỢNG", extra)

    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    status, code, reason = con.execute(
        "SELECT status, reason_code, reason FROM ingest_manifest WHERE source_file = ?", [MISPLACED]
    ).fetchone()
    assert (status, code) == ("quarantined", "folder_mismatch")
    assert "trường 08000002" in reason and "2 dòng" in reason and "thư mục trường 08000001" in reason
    # the school's own file with its own name in the title loads
    assert con.execute(
        "SELECT status FROM ingest_manifest WHERE source_file = ?", [f"{YEAR}/08000001/PhongHoc_dung.xlsx"]
    ).fetchone() == ("loaded",)

    clean = raw_store.connect(":memory:")
    ingest_inbox(clean, base, YEAR, hash_key="k")
    q = (
        "SELECT * EXCLUDE (ingested_at) FROM raw_facility WHERE source_file NOT LIKE '%PhongHoc_dung.xlsx' "
        "ORDER BY ALL"
    )
    assert con.execute(q).fetchall() == clean.execute(q).fetchall()
    schools = "SELECT * EXCLUDE (ingested_at) FROM raw_school ORDER BY ALL"
    assert con.execute(schools).fetchall() == clean.execute(schools).fetchall()

    html = render(collect(con, YEAR, with_audits=False))
    assert (
        "PhongHoc_THCS_Thanh_Van.xlsx" in html
        and "Năm học hoặc trường ghi trong tệp khác thư mục nộp" in html
    )

    again = ingest_inbox(con, root, YEAR, hash_key="k")
    assert not again.changed
