"""Manifest semantics of the file-drop connector on a small hand-built inbox (docs/exports.md §1.6, §1.7):
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
ROOM_HDR = [
    "STT",
    "Mã phòng",
    "Tên phòng",
    "Loại phòng",
    "Máy chiếu/Ti vi",
    "Kết nối Internet",
    "Số máy tính",
    "Số máy tính hoạt động",
]


def rooms(n: int, bad: int = 0) -> list[list]:
    body = [[i, f"P{i:02d}", f"Phòng {i}", "Phòng học", "x", "", 0, 0] for i in range(1, n + 1)]
    body += [[n + i, f"Q{i:02d}", "Lạ", "Phòng bí ẩn", "x", "", 0, 0] for i in range(1, bad + 1)]
    return [
        *B.title("TRƯỜNG THCS A", "DANH SÁCH PHÒNG HỌC, PHÒNG CHỨC NĂNG", "Năm học: 2024-2025"),
        ROOM_HDR,
        *body,
        *B.footer(n + bad),
    ]


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
    msg = con.execute(
        "SELECT message FROM dq_quarantine_rows WHERE source_file LIKE '%/phong.xlsx'"
    ).fetchone()[0]
    assert msg == (
        f"Tệp {Y}/{S}/phong.xlsx, trang Phong, dòng 12, cột D (Loại phòng): Giá trị không có trong "
        "danh mục — giá trị 'Phòng bí ẩn'; yêu cầu: một trong: Phòng học, Phòng Tin học, Phòng Ngoại ngữ, "
        "Phòng học bộ môn, Thư viện, Phòng studio, Phòng y tế, Phòng hành chính, Khác."
    )
    # column offset 2: the letter is the true Excel column (F), not the grid's
    assert (
        con.execute(
            "SELECT count(*) FROM raw_facility WHERE room_name = 'Phòng 1' AND source_file LIKE "
            "'%phong2.xlsx'"
        ).fetchone()[0]
        == 1
    )
    # idempotent re-run: only skipped events, same counts
    s2 = ingest_inbox(con, inbox, hash_key="k")
    assert s2.skipped == s1.files_seen and not s2.changed
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 7
    actions = con.execute(
        "SELECT DISTINCT action FROM ingest_events WHERE run_id = ?", [s2.run_id]
    ).fetchall()
    assert actions == [("skipped",)]
    # modify one file: exactly its rows are replaced
    B.write_xlsx(inbox / Y / S / "phong.xlsx", {"Phong": rooms(6)})
    s3 = ingest_inbox(con, inbox, hash_key="k")
    assert s3.replaced == 1 and s3.skipped == s1.files_seen - 1
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 9
    assert (
        con.execute(
            "SELECT count(*) FROM dq_quarantine_rows WHERE source_file LIKE '%/phong.xlsx'"
        ).fetchone()[0]
        == 0
    )
    # delete one file: retired, its rows gone
    (inbox / Y / S / "phong2.xlsx").unlink()
    s4 = ingest_inbox(con, inbox, hash_key="k")
    assert s4.retired == 1
    assert raw_store.manifest(con).set_index("source_file").loc[f"{Y}/{S}/phong2.xlsx", "status"] == "retired"
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 6


def test_student_codes_resolved_across_files(tmp_path: Path) -> None:
    ib = tmp_path / "inbox"
    hdr = ["STT", "Mã học sinh", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Ngày sinh", "Giới tính", "Lớp"]
    B.write_xlsx(
        ib / Y / S / "ds.xlsx",
        {
            "DS": [
                *B.title("TRƯỜNG THCS A", "DANH SÁCH HỌC SINH LỚP 6A", "Năm học: 2024-2025"),
                hdr,
                [1, "2501234567", "0800012345", "An", "05/09/2012", "Nữ", "6A"],
            ]
        },
    )
    gb = [
        *B.title(
            "TRƯỜNG THCS A", "BẢNG ĐIỂM MÔN HỌC", "Lớp: 6A - Môn học: Toán - Học kỳ: I - Năm học: 2024-2025"
        ),
        ["STT", "Mã HS", "Họ tên", "Điểm TX1", "Điểm GK", "Điểm CK"],
        [1, "2501234567", "An", 8, 7, 9],
        [2, "0800012345", "An", 8, 7, 9],
        [3, "2599999999", "X", 5, 5, 5],
    ]
    B.write_xlsx(ib / Y / S / "a_diem.xlsx", {"Toan": gb})
    con = _con(tmp_path)
    ingest_inbox(con, ib, hash_key="k")
    got = dict(
        con.execute("SELECT student_key, any_value(moet_id) FROM raw_grade_entry GROUP BY 1").fetchall()
    )
    assert got == {"2501234567": "0800012345", "0800012345": "0800012345", "2599999999": None}
    n = con.execute(
        "SELECT count(*) FROM ingest_warnings WHERE reason_code = 'unresolved_reference'"
    ).fetchone()[0]
    assert n == 1


def test_unchanged_files_skip_the_content_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-run hashes every file but inspects (zip directory, widths…) and parses only those whose
    sha256 the manifest does not hold: a touched file with the same bytes is skipped, a file with the
    same size and mtime but other bytes is replaced, a blocked file with the same bytes is checked again
    (the manifest holds no hash of its bytes) and skipped."""
    import os

    from connectors.filedrop import plan as filedrop_plan

    ib = tmp_path / "inbox"
    touched = B.write_xlsx(ib / Y / S / "phong.xlsx", {"Phong": rooms(4)})
    same_stat = B.write_csv(ib / Y / S / "phong.csv", rooms(3))
    edited = B.write_xlsx(ib / Y / S / "phong3.xlsx", {"Phong": rooms(2)})
    wide = ib / Y / S / "rong.csv"
    wide.write_bytes(b",".join([b"c"] * 1005) + b"\n1\n")  # blocked by the content checks
    inspected: list[str] = []
    real_check = filedrop_plan.check_content

    def spy(resolved: Path, ext: str, size: int):  # type: ignore[no-untyped-def]
        inspected.append(resolved.name)
        return real_check(resolved, ext, size)

    monkeypatch.setattr(filedrop_plan, "check_content", spy)
    con = _con(tmp_path)
    s1 = ingest_inbox(con, ib, hash_key="k")
    assert (s1.ingested, s1.quarantined) == (3, 1)
    assert sorted(inspected) == ["phong.csv", "phong.xlsx", "phong3.xlsx", "rong.csv"]
    man = raw_store.manifest(con).set_index("source_file")
    assert man.loc[f"{Y}/{S}/rong.csv", "reason_code"] == "file_too_large"
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 9

    st = same_stat.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # same bytes, newer mtime
    os.utime(wide, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    text = same_stat.read_bytes()
    assert text.count("Phòng 1".encode()) == 1
    same_stat.write_bytes(text.replace("Phòng 1".encode(), "Phòng 9".encode()))  # same size…
    os.utime(same_stat, ns=(st.st_atime_ns, st.st_mtime_ns))  # …and the same mtime
    assert (same_stat.stat().st_size, same_stat.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    B.write_xlsx(edited, {"Phong": rooms(5)})
    inspected.clear()
    s2 = ingest_inbox(con, ib, hash_key="k")
    # only the files with new bytes, and the blocked one (its manifest hash is not of its bytes)
    assert sorted(inspected) == ["phong.csv", "phong3.xlsx", "rong.csv"]
    assert (s2.files_seen, s2.skipped, s2.replaced, s2.ingested, s2.quarantined) == (4, 2, 2, 0, 0)
    assert sorted(s2.changed_files) == [f"{Y}/{S}/phong.csv", f"{Y}/{S}/phong3.xlsx"]
    events = dict(
        con.execute("SELECT source_file, action FROM ingest_events WHERE run_id = ?", [s2.run_id]).fetchall()
    )
    assert events == {
        f"{Y}/{S}/phong.xlsx": "skipped",
        f"{Y}/{S}/rong.csv": "skipped",
        f"{Y}/{S}/phong.csv": "replaced",
        f"{Y}/{S}/phong3.xlsx": "replaced",
    }
    rows = con.execute("SELECT source_file, count(*) FROM raw_facility GROUP BY 1").fetchall()
    assert dict(rows) == {f"{Y}/{S}/phong.xlsx": 4, f"{Y}/{S}/phong.csv": 3, f"{Y}/{S}/phong3.xlsx": 5}
    assert con.execute("SELECT count(*) FROM raw_facility WHERE room_name = 'Phòng 9'").fetchone()[0] == 1
    man2 = raw_store.manifest(con).set_index("source_file")
    assert man2.loc[f"{Y}/{S}/rong.csv", "reason_code"] == "file_too_large"
    assert man2.loc[f"{Y}/{S}/rong.csv", "file_sha256"] == man.loc[f"{Y}/{S}/rong.csv", "file_sha256"]
