"""Manifest semantics of the file-drop connector on a small hand-built inbox (EXPORTS.md §1.6, §1.7):
idempotent re-run, modify one file, delete one file, quarantine reasons, quirks, messages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "connectors"))
import builders as B

from connectors import raw_store
from connectors.filedrop import ingest_inbox

pytestmark = pytest.mark.integration
Y, S = "2024-2025", "08000123"
ROOM_HDR = ["STT", "Mã phòng", "Tên phòng", "Loại phòng", "Máy chiếu/Ti vi", "Kết nối Internet", "Số máy tính",
            "Số máy tính hoạt động"]  # fmt: skip


def rooms(n: int, bad: int = 0) -> list[list]:
    body = [[i, f"P{i:02d}", f"Phòng {i}", "Phòng học", "x", "", 0, 0] for i in range(1, n + 1)]
    body += [[n + i, f"Q{i:02d}", "Lạ", "Phòng bí ẩn", "x", "", 0, 0] for i in range(1, bad + 1)]
    return [*B.title("TRƯỜNG THCS A", "DANH SÁCH PHÒNG HỌC, PHÒNG CHỨC NĂNG", "Năm học: 2024-2025"), ROOM_HDR, *body,
            *B.footer(n + bad)]  # fmt: skip


@pytest.fixture()
def inbox(tmp_path: Path) -> Path:
    ib = tmp_path / "inbox"
    B.write_xlsx(ib / Y / S / "phong.xlsx", {"Phong": rooms(4, bad=1)})
    B.write_xlsx(ib / Y / S / "phong2.xlsx", {"Phong": B.shift(B.nfd(rooms(3)), 2)})
    B.write_xlsx(ib / Y / S / "rac.xlsx", {"X": [["a", "b"], [1, 2]]})
    B.write_xlsx(ib / Y / S / "xau.xlsx", {"Phong": rooms(1, bad=3)})
    (ib / Y / S / "ghi_chu.txt").write_text("x")
    B.write_xlsx(ib / Y / "_truth" / "skip.xlsx", {"Phong": rooms(1)})
    return ib


def _con(tmp_path: Path):
    con = raw_store.connect(":memory:")
    raw_store.ensure_schema(con)
    return con


def test_outcomes_rerun_modify_delete(inbox: Path, tmp_path: Path) -> None:
    con = _con(tmp_path)
    s1 = ingest_inbox(con, inbox, hash_key="k")
    man = raw_store.manifest(con).set_index("source_file")
    assert man.loc[f"{Y}/{S}/phong.xlsx", "status"] == "partly_loaded"
    assert man.loc[f"{Y}/{S}/phong2.xlsx", "status"] == "loaded"
    assert man.loc[f"{Y}/{S}/rac.xlsx", "reason_code"] == "unrecognized_layout"
    assert man.loc[f"{Y}/{S}/xau.xlsx", "reason_code"] == "too_many_rejects"
    assert man.loc[f"{Y}/{S}/ghi_chu.txt", "reason_code"] == "unsupported_type"
    assert not any("_truth" in f for f in man.index)
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 7
    msg = con.execute("SELECT message FROM quarantine_rows WHERE source_file LIKE '%/phong.xlsx'").fetchone()[0]
    assert msg == (f"Tệp {Y}/{S}/phong.xlsx, trang Phong, dòng 12, cột D (Loại phòng): Giá trị không có trong "
                   "danh mục — giá trị 'Phòng bí ẩn'; yêu cầu: một trong: Phòng học, Phòng Tin học, Phòng Ngoại ngữ, "
                   "Phòng học bộ môn, Thư viện, Phòng studio, Phòng y tế, Phòng hành chính, Khác.")  # fmt: skip
    # column offset 2: the letter is the true Excel column (F), not the grid's
    assert con.execute("SELECT count(*) FROM raw_facility WHERE room_name = 'Phòng 1' AND source_file LIKE "
                       "'%phong2.xlsx'").fetchone()[0] == 1  # fmt: skip
    # idempotent re-run: only skipped events, same counts
    s2 = ingest_inbox(con, inbox, hash_key="k")
    assert s2.skipped == s1.files_seen and not s2.changed
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 7
    actions = con.execute("SELECT DISTINCT action FROM ingest_events WHERE run_id = ?", [s2.run_id]).fetchall()
    assert actions == [("skipped",)]
    # modify one file: exactly its rows are replaced
    B.write_xlsx(inbox / Y / S / "phong.xlsx", {"Phong": rooms(6)})
    s3 = ingest_inbox(con, inbox, hash_key="k")
    assert s3.replaced == 1 and s3.skipped == s1.files_seen - 1
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 9
    assert con.execute("SELECT count(*) FROM quarantine_rows WHERE source_file LIKE '%/phong.xlsx'").fetchone()[0] == 0
    # delete one file: retired, its rows gone
    (inbox / Y / S / "phong2.xlsx").unlink()
    s4 = ingest_inbox(con, inbox, hash_key="k")
    assert s4.retired == 1
    assert raw_store.manifest(con).set_index("source_file").loc[f"{Y}/{S}/phong2.xlsx", "status"] == "retired"
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 6


def test_student_codes_resolved_across_files(tmp_path: Path) -> None:
    ib = tmp_path / "inbox"
    hdr = ["STT", "Mã học sinh", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Ngày sinh", "Giới tính", "Lớp"]
    B.write_xlsx(ib / Y / S / "ds.xlsx", {"DS": [*B.title("TRƯỜNG THCS A", "DANH SÁCH HỌC SINH LỚP 6A",
                 "Năm học: 2024-2025"), hdr, [1, "2501234567", "0800012345", "An", "05/09/2012", "Nữ", "6A"]]})  # fmt: skip
    gb = [*B.title("TRƯỜNG THCS A", "BẢNG ĐIỂM MÔN HỌC", "Lớp: 6A - Môn học: Toán - Học kỳ: I - Năm học: 2024-2025"),
          ["STT", "Mã HS", "Họ tên", "Điểm TX1", "Điểm GK", "Điểm CK"],
          [1, "2501234567", "An", 8, 7, 9], [2, "0800012345", "An", 8, 7, 9], [3, "2599999999", "X", 5, 5, 5]]  # fmt: skip
    B.write_xlsx(ib / Y / S / "a_diem.xlsx", {"Toan": gb})
    con = _con(tmp_path)
    ingest_inbox(con, ib, hash_key="k")
    got = dict(con.execute("SELECT student_key, any_value(moet_id) FROM raw_grade_entry GROUP BY 1").fetchall())
    assert got == {"2501234567": "0800012345", "0800012345": "0800012345", "2599999999": None}
    n = con.execute("SELECT count(*) FROM ingest_warnings WHERE reason_code = 'unresolved_reference'").fetchone()[0]
    assert n == 1
