"""The thin vertical slice end to end: rooms exports → raw → validation → SQL → 1.7.1 points → thi đua
workbook, on a hand-made inbox whose expected points are worked out by hand below."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings

pytestmark = pytest.mark.integration

YEAR = "2024-2025"
# (room code, room type, projector/TV, Internet)
ROOMS = {
    "08000001": [
        ("P01", "Phòng học", "x", "x"),
        ("P02", "Phòng học", None, "x"),
        ("P03", "Phòng học", "x", "x"),
        ("P04", "Phòng Tin học", "x", "x"),
    ],
    "08000002": [("A1", "Phòng học", "x", "x"), ("A2", "Phòng học", "x", "x")],
    "08000003": [
        ("B1", "Phòng học", "x", None),
        ("B2", "Phòng học", None, None),
        ("B3", "Phòng học", "x", "x"),
    ],
}
# 1.7.1 = 8 × equipped classrooms / classrooms (the it_lab is not a classroom)
EXPECTED_POINTS = {"08000001": 5.33, "08000002": 8.0, "08000003": 2.67}


def write_rooms(path: Path, school: str, rooms: list[tuple]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DanhSachPhong"
    ws.append(["SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH THỬ NGHIỆM", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    ws.append([f"TRƯỜNG {school}", None, None, "Độc lập - Tự do - Hạnh phúc"])
    ws.append([])
    ws.append(["DANH SÁCH PHÒNG HỌC, PHÒNG CHỨC NĂNG"])
    ws.append([f"Năm học: {YEAR}"])
    ws.append([])
    ws.append(["STT", "Mã phòng", "Tên phòng", "Loại phòng", "Máy chiếu/Ti vi", "Kết nối Internet"])
    for i, (code, kind, proj, net) in enumerate(rooms, 1):
        ws.append([i, code, f"Phòng {code}", kind, proj, net])
    ws.append([])
    ws.append([f"Tổng số: {len(rooms)}"])
    ws.append(["Xã Thử, ngày 1 tháng 10 năm 2024"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


@pytest.fixture()
def inbox(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "phong_hoc.xlsx", school, rooms)
    return root


def run(inbox: Path, tmp_path: Path) -> Path:
    settings = get_settings(
        inbox=inbox, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", school_year=YEAR
    )
    assert run_pipeline(settings)
    return tmp_path / "out"


def points_from_workbook(out: Path) -> dict[str, float]:
    frame = pd.read_excel(
        out / f"thi_dua_{YEAR}.xlsx",
        sheet_name=f"Thi đua {YEAR}",
        engine="calamine",
        dtype={"Mã trường": str},
    )
    return dict(
        zip(frame["Mã trường"].astype(str), frame["Điểm nhóm I (dạy, học) – tính từ dữ liệu"], strict=True)
    )


def test_slice_scores_each_school_by_hand(inbox: Path, tmp_path: Path) -> None:
    out = run(inbox, tmp_path)
    assert points_from_workbook(out) == EXPECTED_POINTS
    values = pd.read_csv(
        out / f"indicator_values_{YEAR}.csv", dtype={"school_code": str, "criterion_code": str}
    )
    values = values[values["criterion_code"] == "1.7.1"]
    assert set(values["school_code"]) == set(EXPECTED_POINTS)
    assert dict(zip(values["school_code"], values["points"], strict=True)) == EXPECTED_POINTS
    row = values.set_index("school_code").loc["08000001"]
    assert (row["numerator"], row["denominator"], row["status"]) == (2, 3, "ok")
    assert row["value"] == pytest.approx(0.666667)


def test_bad_file_does_not_stop_the_run(inbox: Path, tmp_path: Path) -> None:
    (inbox / YEAR / "08000002" / "hong.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (inbox / YEAR / "08000003" / "ghi_chu.txt").write_text("xin chào", encoding="utf-8")
    out = run(inbox, tmp_path)
    assert points_from_workbook(out) == EXPECTED_POINTS  # the other files' results are unchanged
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    rows = dict(
        con.execute(
            "SELECT source_file, reason_code FROM ingest_manifest WHERE status='quarantined'"
        ).fetchall()
    )
    con.close()
    assert rows == {
        f"{YEAR}/08000002/hong.xlsx": "unreadable_file",
        f"{YEAR}/08000003/ghi_chu.txt": "unsupported_type",
    }


def test_cds_explain_prints_exactly_the_rows_counted(inbox: Path, tmp_path: Path) -> None:
    """Hand-checked: write_rooms puts the header on sheet row 7, so P01…P04 are rows 8…11; for 1.7.1 of
    08000001 the classrooms P01, P02, P03 (rows 8, 9, 10) are the denominator, P01 and P03 (8, 10), which
    have both a projector/TV and Internet, the numerator; the IT lab P04 (row 11) is in neither."""
    import subprocess
    import sys

    run(inbox, tmp_path)
    cds = Path(sys.executable).with_name("cds")
    done = subprocess.run(
        [
            str(cds),
            "explain",
            "--school",
            "08000001",
            "--criterion",
            "1.7.1",
            "--year",
            YEAR,
            "--warehouse",
            str(tmp_path / "wh.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "Tiêu chí 1.7.1" in text and "tối đa 8 điểm" in text
    assert "tử số 2, mẫu số 3, giá trị 0,666667, điểm 5,33 (tính được)" in text
    f = f"{YEAR}/08000001/phong_hoc.xlsx, trang DanhSachPhong, dòng"
    numerator = text.split("Dòng tính vào tử số (2):")[1].split("Dòng tính vào mẫu số")[0]
    denominator = text.split("Dòng tính vào mẫu số (3):")[1]
    assert [line.split(":")[0].strip(" -") for line in numerator.strip().splitlines()] == [
        f"{f} 8",
        f"{f} 10",
    ]
    assert [line.split(":")[0].strip(" -") for line in denominator.strip().splitlines()] == [
        f"{f} 8",
        f"{f} 9",
        f"{f} 10",
    ]
    assert "Mã phòng P02; loại classroom; máy chiếu/TV không; Internet có" in denominator
    assert "P04" not in text
    # a self-declared criterion says so instead of listing every row of its sources
    other = subprocess.run(
        [
            str(cds),
            "explain",
            "--school",
            "08000001",
            "--criterion",
            "1.7.3",
            "--year",
            YEAR,
            "--warehouse",
            str(tmp_path / "wh.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0 and "theo tự khai của trường, không tính từ dữ liệu" in other.stdout
    # a computed criterion whose inputs this inbox lacks (no staff list) lists no row
    staff = subprocess.run(
        [
            str(cds),
            "explain",
            "--school",
            "08000001",
            "--criterion",
            "2.3.4",
            "--year",
            YEAR,
            "--warehouse",
            str(tmp_path / "wh.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert staff.returncode == 0 and "Không có dòng nào được đếm" in staff.stdout
    # the reviewer HTML links the computed value to the same rows
    html = (tmp_path / "out" / f"reviewer_{YEAR}.html").read_text(encoding="utf-8")
    assert 'href="#r-08000001-1.7.1"' in html
    block = html.split('id="r-08000001-1.7.1"')[1].split("</details>")[0]
    cells = re.findall(r'<td>(Tử số|Mẫu số)</td><td>[^<]*</td><td>[^<]*</td><td class="n">(\d+)</td>', block)
    assert cells == [("Tử số", "8"), ("Tử số", "10"), ("Mẫu số", "8"), ("Mẫu số", "9"), ("Mẫu số", "10")]
