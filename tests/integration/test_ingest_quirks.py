"""Quirks of docs/exports.md §1 not covered elsewhere, each on a small hand-built inbox ingested end to end:
header cells with line breaks, upper-case headers, an .xlsx whose `<dimension>` is too small, a file
year that disagrees with its delivery folder (`folder_mismatch`), missing title metadata
(`missing_metadata`), no way to find the school (`school_unresolved`), a header matching two entities
(`ambiguous_layout`), and a CSV's rows (no sheet: blank sheet, messages without `trang`)."""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "connectors"))
import builders as B

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from connectors.messages import reason_text

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


def room_rows(n: int, header: list[str] = ROOM_HDR, school_year: str = Y) -> list[list]:
    body = [
        [i, f"P{i:02d}", f"Phòng {i}", "Phòng Tin học", "x", "x", 20 + i, 18 + i] for i in range(1, n + 1)
    ]
    return [
        *B.title("TRƯỜNG THCS A", "DANH SÁCH PHÒNG HỌC, PHÒNG CHỨC NĂNG", f"Năm học: {school_year}"),
        header,
        *body,
        *B.footer(n),
    ]


def ingest(inbox: Path) -> duckdb.DuckDBPyConnection:
    con = raw_store.connect(":memory:")
    ingest_inbox(con, inbox, hash_key="k")
    return con


def manifest_row(con: duckdb.DuckDBPyConnection, rel: str) -> dict:
    return raw_store.manifest(con).set_index("source_file").loc[rel].to_dict()


def rooms_loaded(con: duckdb.DuckDBPyConnection, rel: str) -> list[tuple]:
    return con.execute(
        "SELECT room_code, room_type, has_projector_or_tv, has_internet, computers_total, computers_working "
        "FROM raw_facility WHERE source_file = ? ORDER BY source_row",
        [rel],
    ).fetchall()


def expected_rooms(n: int) -> list[tuple]:
    return [(f"P{i:02d}", "it_lab", True, True, 20 + i, 18 + i) for i in range(1, n + 1)]


def test_header_line_breaks_and_upper_case(tmp_path: Path) -> None:
    # generator quirks `header_linebreaks` (a break inside the label, or a second line in brackets) and
    # `header_case`: every column is still mapped, so no value is lost and nothing is rejected
    broken = [
        "STT",
        "Mã\nphòng",
        "Tên phòng",
        "Loại phòng\n(theo danh mục)",
        "Máy chiếu/\nTi vi",
        "Kết nối\nInternet",
        "Số máy\ntính",
        "Số máy tính\nhoạt động",
    ]
    upper = [h.upper() for h in ROOM_HDR]
    both = [h.upper() for h in broken]
    inbox = tmp_path / "inbox"
    for name, header in (("xuong_dong", broken), ("in_hoa", upper), ("ca_hai", both)):
        B.write_xlsx(inbox / Y / S / f"{name}.xlsx", {"Phong": room_rows(3, header)})
    con = ingest(inbox)
    for name in ("xuong_dong", "in_hoa", "ca_hai"):
        rel = f"{Y}/{S}/{name}.xlsx"
        row = manifest_row(con, rel)
        assert (row["status"], row["layout_ids"], row["rows_read"], row["rows_kept"]) == (
            "loaded",
            "csdl.rooms.v1",
            3,
            3,
        )
        assert rooms_loaded(con, rel) == expected_rooms(3), name
    assert con.execute("SELECT count(*) FROM dq_quarantine_rows").fetchone()[0] == 0


def _shrink_dimension(path: Path, ref: str) -> None:
    """Rewrite the sheet's `<dimension ref=…>` (generator quirk `bad_dimension`): readers that trust it
    would see only `ref`."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml, n = re.subn(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), parts[name])
    assert n == 1
    parts[name] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in parts.items():
            z.writestr(k, v)


def test_xlsx_with_too_small_dimension_reads_every_row(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    rel = f"{Y}/{S}/kich_thuoc_sai.xlsx"
    B.write_xlsx(inbox / rel, {"Phong": room_rows(12)})
    _shrink_dimension(inbox / rel, "A1:B3")
    with zipfile.ZipFile(inbox / rel) as z:
        assert b'<dimension ref="A1:B3"/>' in z.read("xl/worksheets/sheet1.xml")
    con = ingest(inbox)
    row = manifest_row(con, rel)
    assert (row["status"], row["rows_read"], row["rows_kept"]) == ("loaded", 12, 12)
    assert rooms_loaded(con, rel) == expected_rooms(12)


def test_folder_mismatch_is_a_warning_and_the_file_year_wins(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    rel = f"{Y}/{S}/phong_nam_cu.xlsx"
    B.write_xlsx(inbox / rel, {"Phong": room_rows(4, school_year="2023-2024")})
    con = ingest(inbox)
    assert manifest_row(con, rel)["status"] == "loaded"
    assert con.execute("SELECT DISTINCT school_year FROM raw_facility").fetchall() == [("2023-2024",)]
    warns = con.execute(
        "SELECT source_file, source_sheet, source_row, reason_code, detail FROM ingest_warnings"
    ).fetchall()
    # one warning per sheet: the first row whose year differs and how many rows do
    assert warns == [(rel, "Phong", 8, "folder_mismatch", "4")]
    assert reason_text("folder_mismatch").startswith("Năm học hoặc trường ghi trong tệp khác thư mục nộp")
    assert con.execute("SELECT count(*) FROM dq_quarantine_rows").fetchone()[0] == 0


def test_missing_metadata_and_school_unresolved_quarantine_the_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    assign_hdr = ["STT", "Mã giáo viên", "Họ tên giáo viên", "Môn học", "Lớp", "Số tiết/tuần"]
    # a teaching assignment needs the semester: neither a title `Học kỳ` nor a column gives it
    no_semester = f"{Y}/{S}/phan_cong.xlsx"
    B.write_xlsx(
        inbox / no_semester,
        {
            "PC": [
                *B.title("TRƯỜNG THCS A", "BẢNG PHÂN CÔNG GIẢNG DẠY", "Năm học: 2024-2025"),
                assign_hdr,
                [1, "CB00000001", "Cô A", "Toán", "6A", 4],
                *B.footer(1),
            ]
        },
    )
    # a school file delivered in the province folder: no `Mã trường`, a school name not in the registry
    no_school = f"{Y}/province/phong.xlsx"
    B.write_xlsx(inbox / no_school, {"Phong": room_rows(2)})
    # the same file in a school folder resolves its school from the folder
    in_folder = f"{Y}/{S}/phong.xlsx"
    B.write_xlsx(inbox / in_folder, {"Phong": room_rows(2)})
    con = ingest(inbox)
    for rel, code, text, detail in (
        (
            no_semester,
            "missing_metadata",
            "Thiếu thông tin bắt buộc (năm học, mã trường, học kỳ…) ở tiêu đề hoặc trong cột",
            " (không tìm thấy học kỳ; đã tìm ở dòng tiêu đề và các cột. Hãy ghi học kỳ ở dòng tiêu đề (ví dụ "
            "«Học kỳ: 1») hoặc trong một cột)",
        ),
        (
            no_school,
            "school_unresolved",
            "Không xác định được trường của tệp (tiêu đề ghi “TRƯỜNG THCS A” nhưng chưa có danh "
            "sách trường của Sở "
            "để đối chiếu)",
            "",
        ),
    ):
        row = manifest_row(con, rel)
        assert (row["status"], row["reason_code"], row["reason"]) == ("quarantined", code, text + detail)
        assert (row["rows_kept"], row["records_written"]) == (0, 0)
        assert (
            con.execute("SELECT count(*) FROM raw_facility WHERE source_file = ?", [rel]).fetchone()[0] == 0
        )
    assert manifest_row(con, in_folder)["status"] == "loaded"
    assert con.execute("SELECT DISTINCT school_code FROM raw_facility").fetchall() == [(S,)]
    assert con.execute("SELECT count(*) FROM raw_teaching_assignment").fetchone()[0] == 0


def test_header_matching_two_entities_is_ambiguous(tmp_path: Path) -> None:
    # the four anchors of csdl.rooms.v1 and of misa.vouchers.v1 in one header: same score, two entities
    inbox = tmp_path / "inbox"
    rel = f"{Y}/{S}/hai_loai.xlsx"
    header = [
        "Mã phòng",
        "Loại phòng",
        "Máy chiếu/TV",
        "Internet",
        "Số chứng từ",
        "Ngày chứng từ",
        "Loại chứng từ",
        "Số tiền",
    ]
    B.write_xlsx(
        inbox / rel, {"X": [header, ["P01", "Phòng học", "x", "", "PT001", "05/09/2024", "Phiếu thu", 1000]]}
    )
    con = ingest(inbox)
    row = manifest_row(con, rel)
    assert (row["status"], row["reason_code"]) == ("quarantined", "ambiguous_layout")
    assert row["reason"] == "Mẫu báo cáo khớp với nhiều loại dữ liệu khác nhau"
    assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM raw_accounting_voucher").fetchone()[0] == 0


def test_csv_rows_have_a_blank_sheet(tmp_path: Path) -> None:
    # a CSV has no sheets: raw rows and rejects carry a blank sheet (as the generator's truth does) and the
    # message names the file and row only
    inbox = tmp_path / "inbox"
    rel = f"{Y}/{S}/phong.csv"
    rows = room_rows(3)
    rows[8][3] = "Phòng bí ẩn"  # second data row (sheet row 9): not in the room-type list
    B.write_csv(inbox / rel, rows, delimiter=";", bom=True)
    con = ingest(inbox)
    row = manifest_row(con, rel)
    assert (row["status"], row["rows_read"], row["rows_kept"], row["rows_rejected"]) == (
        "partly_loaded",
        3,
        2,
        1,
    )
    assert con.execute("SELECT DISTINCT source_sheet FROM raw_facility").fetchall() == [("",)]
    q = con.execute(
        "SELECT source_sheet, source_row, reason_code, message FROM dq_quarantine_rows"
    ).fetchall()
    assert q == [
        (
            "",
            9,
            "unknown_value",
            f"Tệp {rel}, dòng 9, cột D (Loại phòng): Giá trị không có trong danh mục — giá trị "
            "'Phòng bí ẩn'; "
            "yêu cầu: một trong: Phòng học, Phòng Tin học, Phòng Ngoại ngữ, Phòng học bộ môn, Thư viện, "
            "Phòng studio, Phòng y tế, Phòng hành chính, Khác.",
        )
    ]


def test_empty_json_array_is_an_empty_resource_list(tmp_path: Path) -> None:
    # §1.1: the resource list is the only array-shaped JSON export, so `[]` is that list with no resource
    # (like a HocLieu.xlsx with a header and no rows), not an unknown layout; other empty JSON stays unknown
    inbox = tmp_path / "inbox"
    for rel, body in ((f"{Y}/{S}/HocLieu.json", "[]"), (f"{Y}/{S}/khac.json", "{}")):
        (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
        (inbox / rel).write_text(body, encoding="utf-8")
    con = ingest(inbox)
    row = manifest_row(con, f"{Y}/{S}/HocLieu.json")
    assert (row["status"], row["reason_code"], row["rows_read"], row["rows_kept"]) == (
        "quarantined",
        "empty_file",
        0,
        0,
    )
    assert (row["layout_ids"], row["entities"]) == ("lms.resources.v1", "learning_resource")
    other = manifest_row(con, f"{Y}/{S}/khac.json")
    assert (other["status"], other["reason_code"]) == ("quarantined", "unrecognized_layout")
