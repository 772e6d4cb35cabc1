"""Issue 24: hidden and very hidden sheets are not read and are reported. A room list with a very
hidden sheet of last year's rooms and a hidden copy loads its visible rooms only; the data-quality report
lists both sheets with the Vietnamese reason; a file whose only room list is hidden is quarantined saying
so; the other schools' rows are those of a run without these files."""

from __future__ import annotations

import json
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
S = f"{YEAR}/08000001"
OLD = [("CU1", "Phòng học", "x", "x"), ("CU2", "Phòng học", "x", "x"), ("CU3", "Phòng Tin học", "x", "x")]


def add_room_sheet(wb: openpyxl.Workbook, title: str, rooms: list[tuple], state: str) -> None:
    ws = wb.create_sheet(title)
    ws.append([f"Năm học: {YEAR}"])
    ws.append(["STT", "Mã phòng", "Tên phòng", "Loại phòng", "Máy chiếu/Ti vi", "Kết nối Internet"])
    for i, (code, kind, proj, net) in enumerate(rooms, 1):
        ws.append([i, code, f"Phòng {code}", kind, proj, net])
    ws.sheet_state = state


def test_hidden_sheets_are_reported_not_read(tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(REGISTRY, base / YEAR / "province")
    for school, rooms in ROOMS.items():
        write_rooms(base / YEAR / school / "PhongHoc.xlsx", school, rooms)
    root = tmp_path / "in"
    shutil.copytree(base, root)
    path = root / S / "PhongHoc_bo_sung.xlsx"
    write_rooms(path, "08000001", [("T1", "Phòng học", "x", "x")])
    wb = openpyxl.load_workbook(path)
    add_room_sheet(wb, "NamCu", OLD, "veryHidden")
    add_room_sheet(wb, "BanSao", OLD, "hidden")
    wb.save(path)
    only_hidden = openpyxl.Workbook()
    only_hidden.active.title = "GhiChu"
    only_hidden.active.append(["ghi chú"])
    add_room_sheet(only_hidden, "Phong", OLD, "hidden")
    only_hidden.save(root / S / "PhongHoc_an.xlsx")

    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    codes = [
        r[0]
        for r in con.execute("SELECT room_code FROM raw_facility WHERE school_code = '08000001'").fetchall()
    ]
    assert "T1" in codes and not {"CU1", "CU2", "CU3"} & set(codes)
    (report,) = con.execute(
        "SELECT sheets_report FROM ingest_manifest WHERE source_file = ?", [f"{S}/PhongHoc_bo_sung.xlsx"]
    ).fetchone()
    not_parsed = sorted((s["sheet"], s["reason_code"], s["detail"]) for s in json.loads(report)["not_parsed"])
    assert [(s, c) for s, c, _ in not_parsed] == [("BanSao", "hidden_sheet"), ("NamCu", "hidden_sheet")]
    assert not_parsed[0][2].endswith("(trang ẩn)") and not_parsed[1][2].endswith(
        "(trang ẩn sâu — very hidden)"
    )
    status, code, reason = con.execute(
        "SELECT status, reason_code, reason FROM ingest_manifest WHERE source_file = ?",
        [f"{S}/PhongHoc_an.xlsx"],
    ).fetchone()
    assert (status, code) == (
        "quarantined",
        "unrecognized_layout",
    ) and "các trang ẩn không được đọc: “Phong”" in reason

    clean = raw_store.connect(":memory:")
    ingest_inbox(clean, base, YEAR, hash_key="k")
    q = "SELECT * EXCLUDE (ingested_at) FROM raw_facility WHERE source_file NOT LIKE '%bo_sung%' ORDER BY ALL"
    assert con.execute(q).fetchall() == clean.execute(q).fetchall()

    html = render(collect(con, YEAR, with_audits=False))
    assert "Trang tính không được đọc" in html and "<td>NamCu</td>" in html and "very hidden" in html
    assert "Trang tính bị ẩn nên không được đọc" in html
    assert "Trang tính bị ẩn" not in render(collect(clean, YEAR, with_audits=False))
