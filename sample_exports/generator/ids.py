"""Synthetic identities: names from syllable lists, structurally valid IDs, phones, dates.

Nothing here is real personal data. Every function takes an explicit `random.Random`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Lò",
    "Hà",
    "Sầm",
    "Giàng",
    "Thào",
    "Lục",
)
MIDDLE_M = ("Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thành", "Gia", "Anh")
MIDDLE_F = ("Thị", "Ngọc", "Thu", "Minh", "Thanh", "Kim", "Mai", "Phương", "Bảo")
GIVEN_M = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hùng",
    "Khánh",
    "Long",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tuấn",
    "Việt",
    "Hiếu",
    "Đạt",
    "Khoa",
    "Lâm",
    "Trung",
    "Tiến",
)
GIVEN_F = (
    "An",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hằng",
    "Hoa",
    "Lan",
    "Linh",
    "Mai",
    "Ngân",
    "Nhung",
    "Phương",
    "Quỳnh",
    "Thảo",
    "Trang",
    "Vy",
    "Yến",
    "Hương",
    "Loan",
)
ETHNICITIES = ("Kinh", "Tày", "Thái", "Mường", "H'Mông", "Dao", "Nùng", "Khơ Mú")
COMMUNE_WORDS = (
    "Tân",
    "Hòa",
    "Phú",
    "An",
    "Bình",
    "Thạnh",
    "Sơn",
    "Lâm",
    "Minh",
    "Quang",
    "Hưng",
    "Thượng",
    "Trung",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Phong",
    "Thủy",
    "Vân",
)
PHONE_PREFIXES = (
    "032",
    "033",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
    "086",
    "096",
    "097",
    "098",
    "081",
    "082",
    "083",
    "084",
    "085",
    "088",
    "091",
    "094",
    "070",
    "076",
    "077",
    "078",
    "079",
    "089",
    "090",
    "093",
)


def person_name(rng: random.Random, female: bool) -> str:
    """A Vietnamese-looking full name made from syllable lists (NFC)."""
    mid = MIDDLE_F if female else MIDDLE_M
    given = GIVEN_F if female else GIVEN_M
    return f"{rng.choice(SURNAMES)} {rng.choice(mid)} {rng.choice(given)}"


def phone(rng: random.Random) -> str:
    """A 10-digit mobile number starting with 0."""
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**7):07d}"


def citizen_id(rng: random.Random, province_code: str, dob: date, female: bool) -> str:
    """A structurally valid 12-digit CCCD: province of birth (3), century/sex (1), year (2), random (6)."""
    century = (dob.year // 100) - 19  # 1900s -> 0, 2000s -> 1
    sex_digit = 2 * century + (1 if female else 0)
    return f"0{province_code}{sex_digit}{dob.year % 100:02d}{rng.randrange(10**6):06d}"


def birth_date(rng: random.Random, school_start_year: int, grade: int) -> date:
    """Date of birth of a pupil in `grade` in the year starting `school_start_year`."""
    year = school_start_year - 5 - grade
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def adult_birth_date(rng: random.Random, start_year: int) -> date:
    """Date of birth of a staff member (aged 23–60)."""
    return date(start_year - rng.randint(23, 60), 1, 1) + timedelta(days=rng.randrange(365))


def random_day(rng: random.Random, start: date, end: date) -> date:
    """A day in [start, end]."""
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def fake_uuid4(rng: random.Random) -> str:
    """A deterministic UUID v4 string."""
    b = bytearray(rng.getrandbits(8) for _ in range(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
