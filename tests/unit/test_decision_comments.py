"""Reviewer comments are kept and shown again, so personal data typed into them is masked when read
(indicator_sets/decisions.py); the console lines about rejected decision rows name file, sheet and row."""

from __future__ import annotations

import pandas as pd
import pytest

from indicator_sets.decisions import mask_personal_data, reject_lines

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Đã gọi Trần Văn Duyệt", "Đã gọi [tên đã ẩn]"),
        (
            "Nguyễn Thị Bí Mật, sinh 12/03/2011, CCCD 079123456789, ĐT 0912 345 678",
            "[tên đã ẩn], sinh [ngày đã ẩn], CCCD [số đã ẩn], ĐT [số đã ẩn]",
        ),
        ("liên hệ hieu.truong@truong.edu.vn", "liên hệ [email đã ẩn]"),
        ("Đã liên hệ cô Lan và thầy Minh Đức", "Đã liên hệ cô [tên đã ẩn] và thầy [tên đã ẩn]"),
        # what a reviewer writes about the evidence stays as written
        (
            "Đã xem minh chứng H1-1.7.3-01, đủ 8,5 điểm theo QĐ 4725",
            "Đã xem minh chứng H1-1.7.3-01, đủ 8,5 điểm theo QĐ 4725",
        ),
        ("Trường THCS Hòa Bình bổ sung ngày 5/6", "Trường THCS Hòa Bình bổ sung ngày 5/6"),
    ],
)
def test_mask_personal_data(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked
    assert mask_personal_data(masked) == masked  # idempotent: a re-read workbook changes nothing


def test_reject_lines_name_file_sheet_and_row() -> None:
    rejects = pd.DataFrame(
        [
            {
                "source_file": "2024-2025/province/reviewer_2024-2025.xlsx",
                "source_sheet": "UBND xã A",
                "source_row": 7,
                "message": "Quyết định không thuộc danh sách cho phép",
            },
        ]
        * 3
    )
    lines = reject_lines(rejects, limit=2)
    assert lines[0] == (
        "Quyết định thẩm định chưa được áp dụng — tệp 2024-2025/province/reviewer_2024-2025.xlsx, "
        "trang “UBND xã A”, dòng 7: Quyết định không thuộc danh sách cho phép"
    )
    assert len(lines) == 3 and lines[-1].startswith("… và 1 dòng")
