# ruff: noqa: RUF005  (title + header + rows reads best as concatenation)
"""Each reference layout of docs/exports.md §3 parses from a small hand-built file (tests build the
files with openpyxl/xlwt/csv; see tests/fixtures/connectors/builders.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "connectors"))
import builders as B

from connectors.filedrop import parse_file
from connectors.layouts import load_layouts
from connectors.sheet_parser import ParseContext

pytestmark = pytest.mark.unit
SCHOOL = "08000123"
YEAR = "2024-2025"


def run(path: Path, school: str | None = SCHOOL, **ctx: object):
    rel = path.name
    res = parse_file(
        path, rel, ParseContext(file=rel, folder_year=YEAR, folder_school=school, hash_key="k", **ctx)
    )
    return res


def rows(res) -> pd.DataFrame:
    return pd.concat([s.rows for s in res.sheets], ignore_index=True)


def test_every_layout_file_is_valid_and_ids_unique() -> None:
    ids = [lay.id for lay in load_layouts()]
    assert len(ids) == len(set(ids))
    expected = {
        "csdl.school.v1",
        "csdl.class.v1",
        "csdl.student.v1",
        "school.student_list.v1",
        "csdl.staff.v1",
        "school.assignment.v1",
        "csdl.tt22_import.v1",
        "school.tt22_gradebook.v1",
        "smas.tt22_gradebook.v1",
        "csdl.tt27_import.v1",
        "vnedu.tt27.v1",
        "school.transcript_status.v1",
        "lms.activity_report.v1",
        "school.resource_list.v1",
        "cbt.test_list.v1",
        "csdl.rooms.v1",
        "taphuan.accounts.v1",
        "school.parent_accounts.v1",
        "payment.transactions.v1",
        "admission.portal.v1",
        "admission.class_split.v1",
        "school.health.v1",
        "misa.vouchers.v1",
        "school.csdl_sync_log.v1",
        "cds.self_assessment_long.v1",
        "cds.self_assessment_wide.v1",
    }
    assert expected <= set(ids)


def test_csdl_class_xls_with_code_sheet(tmp_path: Path) -> None:
    data = [
        ["STT", "Mã lớp", "Tên lớp", "Khối", "Điểm trường", "Mã GVCN", "GVCN", "Sĩ số", "Lớp ghép"],
        [1, "C6A", "Lớp 6 a", "Khối 6", "Chính", "cb00000001", "Cô A", 35, ""],
        [2, "C12", "12.6", 12, "Chính", "CB00000002", "Thầy B", 40, "x"],
    ]
    p = B.write_xls(tmp_path / "lop.xls", {"Sheet1": data, "DM_Khoi": [["Mã", "Tên"], ["6", "Khối 6"]]})
    res = run(p)
    assert res.status == "loaded", res.reason
    df = rows(res)
    assert df["class_name"].tolist() == ["6A", "12.6"]
    assert df["grade"].tolist() == [6, 12]
    assert df["homeroom_teacher_id"].tolist() == ["CB00000001", "CB00000002"]
    assert df["is_combined"].tolist() == [False, True]


def test_csdl_student_numeric_ids_and_hashes(tmp_path: Path) -> None:
    data = [
        [
            "STT",
            "Mã lớp",
            "Mã học sinh",
            "Họ tên",
            "Ngày sinh",
            "Giới tính",
            "Trạng thái HS",
            "Số CCCD",
            "SĐT liên hệ",
        ],
        [1, "C6A", 800012345.0, "Nguyễn An", "05/09/2012", "Nữ", "Đang học", 68212000123.0, "84912345678"],
        [2, "C6A", "0800012346", "Lê Bình", 41000, "Nam", "Lạ", "", ""],
    ]
    res = run(B.write_xls(tmp_path / "hs.xls", {"Sheet1": data}))
    df = rows(res)
    assert df["moet_id"].tolist() == ["0800012345", "0800012346"]
    assert df["student_key"].tolist() == df["moet_id"].tolist()
    assert df["status"].tolist() == ["studying", "other"]
    assert df["is_enrolled"].tolist() == [True, False]
    assert df["sex"].tolist() == ["F", "M"]
    assert len(df.loc[0, "citizen_id_hash"]) == 64 and "68212000123" not in df.loc[0, "citizen_id_hash"]
    assert str(df.loc[1, "dob"].date()) == "2012-04-01"
    assert any(w.reason_code == "unknown_value" for s in res.sheets for w in s.warnings)


def test_student_list_blocks_per_class(tmp_path: Path) -> None:
    hdr = ["STT", "Mã học sinh", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Ngày sinh", "Giới tính", "Lớp"]
    data = (
        B.title("TRƯỜNG THCS A", "DANH SÁCH HỌC SINH LỚP 6A", "Năm học: 2024-2025")
        + [hdr, [1, "2501234567", "0800012345", "An", "05/09/2012", "Nữ", "6A"]]
        + B.footer(1)
        + [
            [],
            ["DANH SÁCH HỌC SINH LỚP 6B"],
            ["Năm học: 2024-2025"],
            [],
            hdr,
            [1, "2501234568", "", "Bình", "06/09/2012", "Nam", ""],
        ]
        + B.footer(1)
    )
    res = run(B.write_xlsx(tmp_path / "ds.xlsx", {"DanhSachHocSinh": data}))
    assert res.status == "loaded", res.reason
    df = rows(res)
    assert df["local_id"].tolist() == ["2501234567", "2501234568"]
    assert df["student_key"].tolist() == ["0800012345", "2501234568"]


def test_staff_is_teacher_and_subjects(tmp_path: Path) -> None:
    data = [
        ["STT", "Mã CBGVNV", "Họ tên", "Email", "Trạng thái", "Chức vụ", "Môn dạy", "Cột 1"],
        [1, "cb00000001", "Cô A", "a@x.vn", "Đang làm việc", "Giáo viên", "Toán, Tin học", "z"],
        [2, "CB00000002", "Thầy B", "", "Nghỉ hưu", "Hiệu trưởng", "", ""],
    ]
    df = rows(run(B.write_xls(tmp_path / "gv.xls", {"Sheet1": data})))
    assert df["staff_id"].tolist() == ["CB00000001", "CB00000002"]
    assert df["is_teacher"].tolist() == [True, False]
    assert df.loc[0, "subjects"] == "TOAN;TIN"
    assert df["employment_status"].tolist() == ["working", "retired"]
    assert '"Cột 1":"z"' in df.loc[0, "src_extra"]


def test_assignment_explodes_classes_and_semester_from_title(tmp_path: Path) -> None:
    data = (
        B.title("TRƯỜNG THCS A", "BẢNG PHÂN CÔNG GIẢNG DẠY", "Năm học: 2024-2025 - Học kỳ: 1")
        + [
            ["STT", "Mã giáo viên", "Họ tên giáo viên", "Môn học", "Lớp", "Số tiết/tuần"],
            [1, "CB00000001", "Cô A", "Toán", "6A, 6B; Lớp 7A", 4],
        ]
        + B.footer(1)
    )
    df = rows(run(B.write_xlsx(tmp_path / "pc.xlsx", {"PC": data})))
    assert df["class_name"].tolist() == ["6A", "6B", "7A"]
    assert set(df["semester"]) == {"1"} and set(df["subject_code"]) == {"TOAN"}


def test_tt22_import_csdl_two_row_header_and_colnum_row(tmp_path: Path) -> None:
    data = [
        ["SỞ GD&ĐT LÂM ĐỒNG", None, None, "TRƯỜNG THCS A"],
        ["BẢNG ĐIỂM HỌC KỲ"],
        ["Năm học: 2024-2025 - Học kỳ: 2"],
        ["Môn học: Ngữ văn"],
        [
            "STT",
            "Tên lớp",
            "Mã định danh",
            "Họ và tên",
            "Ngày sinh",
            "ĐĐGtx",
            None,
            None,
            None,
            "ĐĐGgk",
            "ĐĐGck",
        ],
        [None, None, None, None, None, "1", "2", "3", "4"],
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"],
        ["1", "6A", "0800012345", "An", "05/09/2012", "8.5", "8,5", None, None, "7", "10"],
    ]
    res = run(B.write_xlsx(tmp_path / "tt22a.xlsx", {"Van": data}))
    assert res.status == "loaded", res.reason
    df = rows(res)
    assert df["layout_id"].iloc[0] if "layout_id" in df else res.sheets[0].layout.id == "csdl.tt22_import.v1"
    assert sorted(df["component"].tolist()) == ["ck", "gk", "tx", "tx"]
    assert set(df["semester"]) == {"2"} and set(df["period"]) == {"CN"}
    assert set(df["subject_code"]) == {"VAN"} and set(df["moet_id"]) == {"0800012345"}


def test_smas_flat_gradebook_comment_subject(tmp_path: Path) -> None:
    data = B.title(
        "TRƯỜNG THCS A",
        "BẢNG ĐIỂM MÔN HỌC",
        "Lớp: 6A - Môn học: Giáo dục thể chất - Học kỳ: II - Năm học: 2024-2025",
    ) + [
        [
            "STT",
            "Mã HS",
            "Họ tên",
            "Ngày sinh",
            "Điểm TX1",
            "Điểm TX2",
            "Điểm TX3",
            "Điểm TX4",
            "Điểm GK",
            "Điểm CK",
            "ĐTB HK1",
            "ĐTB HK2",
            "ĐTB CN",
        ],
        [1, "HS00000001", "An", "05/09/2012", "Đ", "CĐ", "Đ", None, "Đ", "Đ", "Đ", "Đ", "Đ"],
        [2, "HS00000002", "Bình", "05/09/2012", "M", None, None, None, None, None, None, None, None],
    ]
    res = run(B.write_xlsx(tmp_path / "gdtc.xlsx", {"GDTC": data}))
    assert res.status == "loaded", res.reason
    assert res.sheets[0].layout.id == "smas.tt22_gradebook.v1"
    df = rows(res)
    assert set(df["subject_code"]) == {"GDTC"}
    assert df.loc[df["component"] == "tx", "slot"].tolist() == [1, 2, 3, 1]
    assert set(df["value_text"].dropna()) == {"Đ", "CĐ", "M"}
    assert df.loc[df["component"] == "avg_year", "semester"].tolist() == ["CN"]


def test_transcript_and_resources_and_cbt(tmp_path: Path) -> None:
    uid = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"
    tr = B.title("TRƯỜNG THCS A", "DANH SÁCH HỌC BẠ SỐ", "Năm học: 2024-2025") + [
        [
            "STT",
            "Mã định danh Bộ GD&ĐT",
            "Họ và tên",
            "Lớp",
            "Mã học bạ",
            "Trạng thái ký",
            "Ngày ký",
            "Trạng thái đồng bộ",
        ],
        [1, "0800012345", "An", "6A", uid, "Đã ký phát hành", "01/06/2025", "Đã đồng bộ"],
        [2, "0800012346", "Bình", "6A", "", "Chưa ký", "", "Chưa đồng bộ"],
    ]
    df = rows(run(B.write_xlsx(tmp_path / "hb.xlsx", {"HB": tr})))
    assert df["transcript_id"].tolist()[0] == uid.lower()
    assert df["sign_status"].tolist() == ["issued", "unsigned"]
    cbt = B.title("TRƯỜNG THCS A", "DANH SÁCH BÀI KIỂM TRA TRÊN MÁY TÍNH", "Năm học: 2024-2025") + [
        [
            "STT",
            "Mã bài kiểm tra",
            "Tên bài kiểm tra",
            "Môn học",
            "Khối",
            "Loại kiểm tra",
            "Hình thức",
            "Ngày kiểm tra",
            "Số thí sinh",
            "Số bài nộp",
            "Đồng bộ kết quả",
        ],
        [1, "KT1", "GK Toán", "Toán", 6, "Giữa kỳ", "Phòng máy", "01/11/2024", 40, 39, "Đã đồng bộ SMAS"],
        [2, "KT2", "CK Tin", "Tin học", 6, "Cuối kỳ", "Trực tuyến", "01/12/2024", 40, 39, ""],
        [3, "KT3", "CK Tin", "Tin học", 6, "Cuối kỳ", "Trực tuyến", "02/12/2024", 40, 41, ""],
    ]
    res = run(B.write_xlsx(tmp_path / "cbt.xlsx", {"CBT": cbt}))
    df = rows(res)
    assert df["synced_to"].tolist() == ["smas", "none"] and df["results_synced"].tolist() == [True, False]
    assert [r.reason_code for s in res.sheets for r in s.rejects] == ["out_of_range"]


def test_lms_activity_report_one_row_per_metric(tmp_path: Path) -> None:
    data = B.title(
        "TRƯỜNG THCS A",
        "BÁO CÁO THỐNG KÊ HOẠT ĐỘNG DẠY HỌC TRỰC TUYẾN",
        ["Từ ngày: 01/09/2024 - Đến ngày: 31/12/2024", "Năm học: 2024-2025 - Học kỳ: 1"],
    ) + [
        [
            "STT",
            "Mã người dùng",
            "Họ và tên",
            "Vai trò",
            "Lớp",
            "Môn học",
            "Số buổi dạy trực tuyến",
            "Số bài giảng đã giao",
            "Số lượt truy cập",
        ],
        [1, "CB00000001", "Cô A", "Giáo viên", "6A", "Toán", 3, 0, ""],
    ]
    df = rows(run(B.write_xlsx(tmp_path / "lms.xlsx", {"LMS": data})))
    assert sorted(df["metric"]) == ["lessons_assigned", "live_sessions"]
    assert df["role"].unique().tolist() == ["teacher"] and df["grade"].unique().tolist() == [6]
    assert (
        str(df["period_start"].iloc[0].date()) == "2024-09-01"
        and str(df["period_end"].iloc[0].date()) == "2024-12-31"
    )
    assert set(df["semester"]) == {"1"}


def test_payment_semicolon_csv_with_bom(tmp_path: Path) -> None:
    data = [
        ["BÁO CÁO ĐỐI SOÁT THU PHÍ"],
        ["Từ ngày: 01/09/2024 - Đến ngày: 30/09/2024"],
        [
            "STT",
            "Mã giao dịch",
            "Mã học sinh",
            "Số tiền phải nộp",
            "Số tiền đã nộp",
            "Hình thức thanh toán",
            "Phí giao dịch",
            "Ngày thanh toán",
            "Kỳ thu",
            "Trạng thái",
        ],
        [
            1,
            "GD1",
            "2501234567",
            "1.250.000",
            "1,250,000 đ",
            "MoMo",
            "3.300",
            "05/09/2024 10:15",
            "Tháng 9/2024",
            "Thành công",
        ],
        [2, "GD2", "2501234568", "500000", "500000.0", "Séc", "", "2024-09-06", "09/2024", "Hoàn tiền"],
    ]
    res = run(B.write_csv(tmp_path / "tt.csv", data, delimiter=";", bom=True))
    assert res.status == "loaded", res.reason
    df = rows(res)
    assert df["amount_paid"].tolist() == [1250000, 500000] and df["payer_fee"].tolist()[0] == 3300
    assert df["channel"].tolist() == ["ewallet", "other"]
    assert df["billing_period"].tolist() == ["2024-09", "2024-09"]
    assert df["status"].tolist() == ["paid", "refunded"]


def test_admission_portal_and_class_split(tmp_path: Path) -> None:
    portal = B.title("TRƯỜNG TH A", "DANH SÁCH HỒ SƠ TUYỂN SINH", "Năm học: 2025-2026 - Khối: 1") + [
        [
            "STT",
            "Mã hồ sơ",
            "Họ và tên",
            "Số định danh cá nhân",
            "Đăng ký vào lớp",
            "Hình thức nộp",
            "Trạng thái",
        ],
        [1, "HS1", "An", "068219000123", "Lớp 1", "Trực tuyến", "Trúng tuyển"],
        [2, "HS2", "Bình", "", "Lớp 2", "Hồ sơ giấy", "Đã nộp"],
        [3, "HS3", "Cúc", "", "1", "Hồ sơ giấy", "Đã nộp"],
    ]
    res = run(B.write_xlsx(tmp_path / "ts.xlsx", {"TS": portal}))
    df = rows(res)
    assert df["target_grade"].tolist() == [1, 1] and df["channel"].tolist() == ["online", "paper"]
    assert [r.reason_code for s in res.sheets for r in s.rejects] == ["unknown_value"]
    hdr = ["STT", "Họ và tên", "Ngày sinh", "Nữ", "Dân tộc", "Số CCCD", "K.tật"]
    split = [
        ["LỚP 1A"],
        hdr,
        [1, "An", "01/02/2019", "x", "Kinh", "68219000123", ""],
        ["LỚP 1B"],
        hdr,
        [1, "Bình", "01/03/2019", "", "Tày", "", "x"],
    ]
    res = run(
        B.write_xlsx(tmp_path / "chia.xlsx", {"ChiaLop": split}),
    )
    assert res.status == "loaded", res.reason
    df = rows(res)
    assert df["assigned_class"].tolist() == ["1A", "1B"] and df["sex"].tolist() == ["F", "M"]
    assert df.loc[0, "application_id"].startswith("TAM-") and df.loc[1, "application_id"].startswith("ROW-")
    assert set(df["status"]) == {"enrolled"} and set(df["target_grade"]) == {1}


def test_health_bmi_warning_and_range(tmp_path: Path) -> None:
    data = B.title("TRƯỜNG TH A", "KẾT QUẢ KHÁM SỨC KHỎE HỌC SINH", "Lớp: 4B - Năm học: 2024-2025") + [
        [
            "STT",
            "Mã học sinh",
            "Họ và tên",
            "Ngày khám",
            "Chiều cao (cm)",
            "Cân nặng (kg)",
            "BMI",
            "Nhóm máu",
            "Bệnh về mắt",
        ],
        [1, "0800012345", "An", "01/10/2024", "130", "30", "17,8", "O", "Không"],
        [2, "0800012346", "Bình", "01/10/2024", "130", "30", "25", "AB", "Cận thị"],
        [3, "0800012347", "Cúc", "01/10/2024", "400", "30", "", "A", ""],
        [4, "0800012348", "Dũng", "01/10/2024", "120", "25", "17.4", "Z", ""],
    ]
    res = run(B.write_xlsx(tmp_path / "yt.xlsx", {"YT": data}))
    df = rows(res)
    assert df["class_name"].unique().tolist() == ["4B"]
    assert [w.row for s in res.sheets for w in s.warnings if w.reason_code == "implausible_value"] == [9]
    assert [r.reason_code for s in res.sheets for r in s.rejects] == ["out_of_range"]
    assert df["eye_disease"].tolist()[:2] == [None, "Cận thị"] or pd.isna(df["eye_disease"].iloc[0])
    assert df["blood_group"].tolist() == ["O", "AB", "unknown"]


def test_misa_vouchers_total_row_is_footer(tmp_path: Path) -> None:
    data = B.title("TRƯỜNG TH A", "BẢNG KÊ CHỨNG TỪ", "Từ ngày: 01/01/2025 - Đến ngày: 31/03/2025") + [
        ["STT", "Số chứng từ", "Ngày chứng từ", "Loại chứng từ", "Diễn giải", "Số tiền", "TK Nợ", "TK Có"],
        [1, "PT00012", "05/01/2025", "Phiếu thu", "Thu học phí", "1.500.000", "111", "511"],
        [2, "PC00001", 45700, "PC", "Chi", "200000", "642", "111"],
        ["Cộng", None, None, None, None, "1.700.000"],
    ]
    res = run(B.write_xlsx(tmp_path / "ct.xlsx", {"CT": data}))
    assert res.status == "loaded", res.reason
    df = rows(res)
    assert df["voucher_type"].tolist() == ["receipt", "payment"] and df["amount"].tolist() == [
        1500000,
        200000,
    ]


def test_sync_log_success_with_fewer_accepted_is_partial(tmp_path: Path) -> None:
    data = B.title("TRƯỜNG TH A", "LỊCH SỬ ĐỒNG BỘ DỮ LIỆU LÊN CSDL NGÀNH", "Năm học: 2024-2025") + [
        [
            "STT",
            "Thời gian gửi",
            "Dữ liệu đồng bộ",
            "Kỳ đồng bộ",
            "Số bản ghi gửi",
            "Số bản ghi thành công",
            "Kết quả",
        ],
        [1, "15/09/2024 08:30:00", "Học sinh", "Đầu năm", 500, 500, "Thành công"],
        [2, "15/01/2025 08:30:00", "Kết quả học tập", "1", 500, 480, "Đã đồng bộ"],
        [3, "20/05/2025 08:30:00", "Kết quả học tập", "3", 500, 0, "Lỗi"],
    ]
    df = rows(run(B.write_xlsx(tmp_path / "sync.xlsx", {"Log": data}), platform_by_school={SCHOOL: "vnedu"}))
    assert df["result"].tolist() == ["success", "partial", "error"]
    assert df["period"].tolist() == ["DN", "CK1", "CN"] and set(df["partner"]) == {"vnedu"}


def test_taphuan_province_file_school_by_name(tmp_path: Path) -> None:
    data = [
        ["DANH SÁCH TÀI KHOẢN BỒI DƯỠNG TRỰC TUYẾN"],
        [
            "STT",
            "Tên đăng nhập",
            "Họ và tên",
            "Mã định danh Bộ GD&ĐT",
            "Email",
            "Trường",
            "Trạng thái tài khoản",
            "Số khóa học hoàn thành",
        ],
        [1, "gv.a", "Cô A", "CB00000001", "A@x.vn", "Trường THCS A", "Hoạt động", 3],
    ]
    res = run(
        B.write_xlsx(tmp_path / "th.xlsx", {"TK": data}), school=None, school_names={"truong thcs a": SCHOOL}
    )
    assert res.status == "loaded", res.reason
    assert rows(res)["school_code"].tolist() == [SCHOOL]


def test_parent_accounts_and_resource_list(tmp_path: Path) -> None:
    data = B.title("TRƯỜNG TH A", "DANH SÁCH TÀI KHOẢN PHỤ HUYNH", "Năm học: 2024-2025") + [
        [
            "STT",
            "Mã học sinh",
            "Họ tên học sinh",
            "Lớp",
            "Số điện thoại phụ huynh",
            "Quan hệ",
            "Trạng thái",
            "Ứng dụng",
        ],
        [1, "2501234567", "An", "6A", "0912345678", "Mẹ", "Đã kích hoạt", "vnEdu Connect"],
    ]
    df = rows(run(B.write_xlsx(tmp_path / "ph.xlsx", {"PH": data})))
    assert df["relationship"].tolist() == ["mother"] and df["platform"].tolist() == ["vnedu"]
    assert len(df["parent_phone_hash"].iloc[0]) == 64
    data = B.title("TRƯỜNG TH A", "DANH MỤC HỌC LIỆU SỐ", "Năm học: 2024-2025") + [
        [
            "STT",
            "Mã học liệu",
            "Tên học liệu",
            "Môn học",
            "Khối",
            "Loại học liệu",
            "Trạng thái duyệt",
            "Chia sẻ lên Trục",
            "Lượt tải",
        ],
        [1, "HL1", "Bài giảng phân số", "Toán", "6", "Bài giảng điện tử", "Đã duyệt", "x", 12],
    ]
    df = rows(run(B.write_xlsx(tmp_path / "hl.xlsx", {"HL": data})))
    assert df["content_type"].tolist() == ["lecture"] and df["shared_to_hub"].tolist() == [True]
    assert df["moderation_status"].tolist() == ["normal"]


CODES = [
    "1.1",
    "1.2",
    "1.3",
    "1.3.1",
    "1.3.2",
    "1.3.3",
    "1.3.4",
    "1.3.5",
    "1.4",
    "1.5.1",
    "1.5.2",
    "2.1",
    "2.2",
    "2.3.1",
]


def test_self_assessment_long_keeps_invalid_scores(tmp_path: Path) -> None:
    data = [
        ["KẾT QUẢ TỰ ĐÁNH GIÁ MỨC ĐỘ CHUYỂN ĐỔI SỐ"],
        [
            "Mã trường",
            "Tên trường",
            "Năm học",
            "Mã tiêu chí",
            "Điểm tự đánh giá",
            "Đạt/Chưa đạt",
            "Mã minh chứng",
        ],
        [SCHOOL, "THCS A", "2024-2025", "TC 1.1", "", "Đạt", ""],
        [SCHOOL, "THCS A", "2024-2025", "1.3", "7", "", ""],
        [SCHOOL, "THCS A", "2024-2025", "Tiêu chí 1.3.1", "2", "", "H1-1.3.1-01; H1-1.3.1-02"],
        [SCHOOL, "THCS A", "2024-2025", "1.3.2.", "hai", "", ""],
        [SCHOOL, "THCS A", "2024-2025", "1.4", "1,5", "", ""],
        [SCHOOL, "THCS A", "2024-2025", "3.9", "1", "", ""],
    ]
    res = run(B.write_csv(tmp_path / "tdg.csv", data), school=None)
    df = rows(res).set_index("criterion_code")
    assert sorted(df.index) == ["1.1", "1.3.1", "1.3.2", "1.4"]  # 1.3 subtotal skipped, 3.9 rejected
    assert df.loc["1.1", "mandatory_met"] is True or df.loc["1.1", "mandatory_met"] == True  # noqa: E712
    assert df.loc["1.3.2", "self_score_raw"] == "hai" and pd.isna(df.loc["1.3.2", "self_score"])
    assert df.loc["1.3.2", "self_score_issue"] == "bad_number"
    assert df.loc["1.4", "self_score"] == 1.5
    assert [r.reason_code for s in res.sheets for r in s.rejects] == ["unknown_value"]


def test_self_assessment_wide_two_tier(tmp_path: Path) -> None:
    group = (
        [None, None, None]
        + ["Nhóm 1: Chuyển đổi số trong dạy, học"]
        + [None] * 10
        + ["Nhóm 2: Chuyển đổi số trong quản trị cơ sở giáo dục"]
    )
    head = (
        ["Mã trường", "Tên trường", "Năm học"]
        + [f"{c} (2 điểm)" for c in CODES if c.startswith("1")]
        + [f"Tiêu chí {c}" for c in CODES if c.startswith("2")]
        + ["Tổng điểm nhóm 1", "Mức"]
    )
    vals = [SCHOOL, "THCS A", "2024-2025", "Đạt", "", 9, 2, 2, 1, 1, 2, 1, 3, 3, "x", "Đạt", 5, 99, 2]
    res = run(B.write_xlsx(tmp_path / "w.xlsx", {"TDG": [group, head, vals]}), school=None)
    assert res.status == "loaded", res.reason
    df = rows(res).set_index("criterion_code")
    assert "1.3" not in df.index and len(df) == 13
    assert bool(df.loc["1.2", "mandatory_met"]) is False and bool(df.loc["2.1", "mandatory_met"]) is True
    assert [w.reason_code for s in res.sheets for w in s.warnings] == ["total_mismatch"]
