"""Subjects, periods per year and assessment rules of docs/exports.md §4 (TT22 secondary, TT27 primary)."""

from __future__ import annotations

SUBJECT_NAMES = {
    "TOAN": "Toán",
    "VAN": "Ngữ văn",
    "NN1": "Ngoại ngữ 1",
    "GDCD": "Giáo dục công dân",
    "LSDL": "Lịch sử và Địa lí",
    "KHTN": "Khoa học tự nhiên",
    "LS": "Lịch sử",
    "DL": "Địa lí",
    "GDKTPL": "Giáo dục kinh tế và pháp luật",
    "LY": "Vật lí",
    "HOA": "Hóa học",
    "SINH": "Sinh học",
    "CNGH": "Công nghệ",
    "TIN": "Tin học",
    "GDQPAN": "Giáo dục quốc phòng và an ninh",
    "GDTC": "Giáo dục thể chất",
    "NT": "Nghệ thuật",
    "AN": "Âm nhạc",
    "MT": "Mĩ thuật",
    "HDTN": "Hoạt động trải nghiệm, hướng nghiệp",
    "GDDP": "Nội dung giáo dục địa phương",
    "TV": "Tiếng Việt",
    "DD": "Đạo đức",
    "TNXH": "Tự nhiên và xã hội",
    "KH": "Khoa học",
    "TDT": "Tiếng dân tộc",
    "TINCN": "Tin học và Công nghệ",
}
COMMENT_ONLY = frozenset({"GDTC", "NT", "AN", "MT", "HDTN", "GDDP"})
THCS_SUBJECTS = ("TOAN", "VAN", "NN1", "GDCD", "LSDL", "KHTN", "CNGH", "TIN", "GDTC", "NT", "HDTN", "GDDP")
THPT_CORE = ("TOAN", "VAN", "NN1", "LS", "GDQPAN", "GDTC", "HDTN", "GDDP")
THPT_ELECTIVES = ("DL", "GDKTPL", "LY", "HOA", "SINH", "CNGH", "TIN", "AN", "MT")
PERIODS_THCS = {
    "TOAN": 140,
    "VAN": 140,
    "NN1": 105,
    "GDCD": 35,
    "LSDL": 105,
    "KHTN": 140,
    "TIN": 35,
    "GDTC": 70,
    "NT": 70,
    "HDTN": 105,
    "GDDP": 35,
}
PERIODS_THPT = {
    "TOAN": 105,
    "VAN": 105,
    "NN1": 105,
    "LS": 52,
    "DL": 70,
    "GDKTPL": 70,
    "LY": 70,
    "HOA": 70,
    "SINH": 70,
    "CNGH": 70,
    "TIN": 70,
    "GDQPAN": 35,
    "GDTC": 70,
    "AN": 70,
    "MT": 70,
    "HDTN": 105,
    "GDDP": 35,
}
#: TT27 subjects in csdl.tt27_import.v1 column order: (code, header label, has periodic test).
TT27_SUBJECTS = (
    ("TOAN", "Toán", True),
    ("TV", "Tiếng Việt", True),
    ("DD", "Đạo đức", False),
    ("TNXH", "Tự nhiên và xã hội", False),
    ("KH", "Khoa học", True),
    ("LSDL", "Lịch sử và Địa lí", True),
    ("NN1", "Ngoại ngữ", True),
    ("TDT", "Tiếng dân tộc", True),
    ("TINCN", "TH-CN (Tin học)", True),
    ("AN", "Nghệ thuật (Âm nhạc)", False),
    ("MT", "Nghệ thuật (Mĩ thuật)", False),
    ("HDTN", "Hoạt động trải nghiệm", False),
    ("GDTC", "Giáo dục thể chất", False),
)
COMPETENCES = (
    ("Năng lực chung", "Tự chủ và tự học", "NL_TUCHU"),
    ("Năng lực chung", "Giao tiếp và hợp tác", "NL_GIAOTIEP"),
    ("Năng lực chung", "Giải quyết vấn đề và sáng tạo", "NL_GQVD"),
    ("Năng lực đặc thù", "Ngôn ngữ", "NL_NGONNGU"),
    ("Năng lực đặc thù", "Tính toán", "NL_TINHTOAN"),
    ("Năng lực đặc thù", "Khoa học", "NL_KHOAHOC"),
    ("Năng lực đặc thù", "Công nghệ", "NL_CONGNGHE"),
    ("Năng lực đặc thù", "Tin học", "NL_TINHOC"),
    ("Năng lực đặc thù", "Thẩm mĩ", "NL_THAMMI"),
    ("Năng lực đặc thù", "Thể chất", "NL_THECHAT"),
)
QUALITIES = (
    ("Yêu nước", "PC_YEUNUOC"),
    ("Nhân ái", "PC_NHANAI"),
    ("Chăm chỉ", "PC_CHAMCHI"),
    ("Trung thực", "PC_TRUNGTHUC"),
    ("Trách nhiệm", "PC_TRACHNHIEM"),
)


def primary_subjects(grade: int, ethnic_language: bool = False) -> list[str]:
    """TT27 subjects taught in a primary grade."""
    if grade <= 2:
        subs = ["TOAN", "TV", "DD", "TNXH", "AN", "MT", "HDTN", "GDTC"]
    elif grade == 3:
        subs = ["TOAN", "TV", "DD", "TNXH", "NN1", "TINCN", "AN", "MT", "HDTN", "GDTC"]
    else:
        subs = ["TOAN", "TV", "DD", "KH", "LSDL", "NN1", "TINCN", "AN", "MT", "HDTN", "GDTC"]
    if ethnic_language:
        subs.append("TDT")
    return subs


def has_ck1_test(subject: str, grade: int) -> bool:
    """TT27: whether the subject records Điểm KTĐK at CK1 in this grade."""
    if subject in ("TOAN", "TV", "TDT"):
        return True
    if subject in ("NN1", "TINCN"):
        return grade >= 3
    if subject in ("KH", "LSDL"):
        return grade >= 4
    return False


def periods_per_year(subject: str, grade: int) -> int:
    """Default periods per year (TT22 grades 6–12)."""
    if grade <= 9:
        if subject == "CNGH":
            return 35 if grade <= 7 else 52
        return PERIODS_THCS[subject]
    return PERIODS_THPT[subject]


def required_tx(periods: int) -> int:
    """Required tx marks per semester by periods per year."""
    if periods <= 35:
        return 2
    if periods <= 70:
        return 3
    return 4


def is_scored_for_151(subject: str, grade: int) -> bool:
    """1.5.1 denominator membership: TT22 score subjects; for primary, subjects with a periodic test."""
    if grade <= 5:
        return has_ck1_test(subject, grade)
    return subject not in COMMENT_ONLY
