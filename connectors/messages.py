"""User-facing reason texts (Vietnamese) for quarantined files and rejected rows, keyed by reason code.

The reason codes are those of docs/exports.md §1.6; the texts are what a school's data officer reads.
"""

from __future__ import annotations

from string import ascii_uppercase

REASONS_VI: dict[str, str] = {
    # file level
    "unsupported_type": "Loại tệp không được hỗ trợ (chỉ nhận .xlsx, .xls, .csv, .json)",
    "unreadable_file": "Không đọc được tệp (tệp hỏng, bị mã hóa hoặc không đúng định dạng)",
    "bad_encoding": "Tệp CSV không ở mã UTF-8",
    "unrecognized_layout": "Không nhận ra mẫu báo cáo: không trang nào có đủ các cột bắt buộc",
    "ambiguous_layout": "Mẫu báo cáo khớp với nhiều loại dữ liệu khác nhau",
    "incomplete_header": "Trang tính gần khớp một mẫu báo cáo nhưng thiếu một cột bắt buộc (xem tên cột "
    "thiếu)",
    "missing_metadata": "Thiếu thông tin bắt buộc (năm học, mã trường, học kỳ…) ở tiêu đề hoặc trong cột",
    "missing_required_column": "Tệp JSON thiếu trường bắt buộc",
    "school_unresolved": "Không xác định được trường của tệp (không có Mã trường, tên trường hay thư mục "
    "trường)",
    "empty_file": "Tệp không có dòng dữ liệu nào",
    "too_many_rejects": "Hơn 50% số dòng của tệp bị loại nên cả tệp bị cách ly",
    "permission_denied": "Máy chủ không có quyền đọc tệp (tệp không hỏng: quyền truy cập của tệp trên máy "
    "chủ "
    "không cho tài khoản chạy hệ thống đọc); người quản trị cần cấp quyền đọc, tệp sẽ được đọc ở lần chạy "
    "sau",
    "unsafe_path": "Đường dẫn tệp không an toàn (liên kết ra ngoài thư mục nhận hoặc tên tệp không hợp lệ)",
    "file_too_large": "Tệp quá lớn hoặc giải nén ra quá lớn",
    "reader_crashed": "Trình đọc tệp bị dừng đột ngột khi đọc tệp này (tệp hỏng hoặc có cấu trúc bất thường, "
    "ví dụ ô dữ liệu ở rất xa vùng dữ liệu); các tệp khác vẫn được đọc; hãy mở tệp bằng Excel, xóa vùng "
    "thừa, "
    "lưu lại rồi gửi lại",
    "unexpected_folder": "Thư mục năm học không đúng quy ước (cần dạng 2024-2025, ví dụ 2024-2025/<mã "
    "trường>/): "
    "tệp không được đọc để không bị tính trùng sang năm học khác; hãy đổi tên thư mục",
    "unreadable_folder": "Máy chủ không có quyền mở thư mục nộp (quyền truy cập của thư mục trên máy chủ "
    "không "
    "cho tài khoản chạy hệ thống đọc): không tệp nào trong thư mục được đọc ở lần chạy này, dữ liệu đã nạp "
    "trước "
    "đó của thư mục được giữ nguyên; người quản trị cần cấp quyền đọc, thư mục sẽ được đọc ở lần chạy sau",
    "unknown_school": "Mã trường ở tên thư mục nộp không có trong danh sách trường của Sở cho năm học này: "
    "kiểm tra tên thư mục (mã trường) hoặc đề nghị Sở bổ sung trường vào danh sách; tệp chưa được đọc",
    "duplicate_file": "Tệp là bản sao (trùng từng byte) của một tệp khác trong cùng thư mục nộp của trường "
    "và "
    "năm học: chỉ đọc tệp gốc một lần; hãy xóa bản sao",
    # file recognised here, read by another step (not an error)
    "read_by_reviewer_decisions": "Tệp quyết định của người thẩm định: được đọc ở bước ghi nhận quyết định "
    "thẩm định, không nạp vào bảng dữ liệu",
    # row level
    "missing_key": "Thiếu giá trị ở cột khóa",
    "bad_id_format": "Mã không đúng định dạng",
    "bad_date": "Ngày không hợp lệ (cần dạng dd/mm/yyyy)",
    "bad_number": "Không phải số hợp lệ",
    "bad_school_year": "Năm học không hợp lệ (cần dạng 2024-2025)",
    "out_of_range": "Giá trị nằm ngoài khoảng cho phép",
    "unknown_value": "Giá trị không có trong danh mục",
    "duplicate_key": "Dòng trùng khóa với một dòng sau trong cùng tệp",
    "unknown_school_name": "Tên trường không có trong danh sách trường của Sở (so khớp không phân biệt chữ "
    "hoa, "
    "thường, có dấu hay không dấu; tên mà hai trường cùng có thì không dùng được): kiểm tra tên trường hoặc "
    "đề "
    "nghị Sở bổ sung trường vào danh sách; dòng chưa được đọc",
    "truncated_row": "Dòng cuối của tệp CSV bị cắt dở (thiếu cột và tệp không kết thúc bằng dấu xuống dòng): "
    "tệp "
    "có thể được gửi khi chưa ghi xong; dòng này bị loại, hãy xuất lại tệp đầy đủ rồi gửi lại",
    "nul_character": "Dòng có ký tự NUL (mã 0, hiện là ␀) trong ô: tệp CSV có thể bị hỏng hoặc được gửi khi "
    "chưa "
    "ghi xong; dòng này bị loại, các dòng khác vẫn được đọc; hãy xuất lại tệp rồi gửi lại",
    "duplicate_school_code": "Mã trường xuất hiện nhiều lần trong danh sách trường với thông tin khác nhau "
    "(cấp học, tên…): tất cả các dòng của mã này bị loại; hãy sửa danh sách để mỗi trường chỉ có một dòng",
    # warnings
    "unresolved_reference": "Không tìm thấy đối tượng được tham chiếu",
    "avg_mismatch": "Điểm trung bình trong tệp khác điểm tính lại",
    "total_mismatch": "Tổng điểm trong tệp khác tổng tính lại",
    "incomplete_tx": "Chưa đủ số điểm đánh giá thường xuyên",
    "implausible_value": "Giá trị bất thường",
    "precision": "Điểm có hơn 1 chữ số thập phân, đã làm tròn",
    "hidden_sheet": "Trang tính bị ẩn nên không được đọc: nếu trang chứa dữ liệu cần nộp, hãy bỏ ẩn trang "
    "(chuột phải vào tên trang → Bỏ ẩn) rồi lưu lại; nếu là dữ liệu cũ, hãy xóa trang",
    "folder_mismatch": "Năm học hoặc trường ghi trong tệp khác thư mục nộp (tệp ghi trường khác thì cả tệp "
    "bị cách ly, không tính cho trường nào: hãy đặt tệp vào đúng thư mục trường)",
    "other_level": "Dòng của trường thuộc cấp học khác (mầm non, mẫu giáo…) trong danh sách toàn tỉnh: không "
    "đọc, "
    "chỉ đếm",
}


def reason_text(code: str) -> str:
    """The Vietnamese text of a reason code (the code itself when unknown)."""
    return REASONS_VI.get(code, code)


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 27 → AB)."""
    s = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = ascii_uppercase[r] + s
    return s


def row_message(
    file: str, sheet: str, row: int, column: str, header: str, value: object, code: str, expected: str = ""
) -> str:
    """One sentence naming file, sheet, row and column, what was found and what was expected."""
    shown = "" if value is None else str(value)
    if len(shown) > 60:
        shown = shown[:57] + "…"
    where = f"Tệp {file}, trang {sheet}, dòng {row}" if sheet else f"Tệp {file}, dòng {row}"  # CSV: no sheet
    if column:
        where += f", cột {column}"
        if header:
            where += f" ({header})"
    text = f"{where}: {reason_text(code)}"
    if shown:
        text += f" — giá trị '{shown}'"
    if expected:
        text += f"; yêu cầu: {expected}"
    return text + "."
