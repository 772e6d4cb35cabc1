"""Thi đua ranking groups: the rank of each school within its managing unit, commune, school level and
the whole province (hand-computed below), a group of one school is no ranking and says so, the groups
sheet of the workbook (read back), the print sheet's rank when the province is not a grouping, and the
setting's validation."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pydantic import ValidationError

from pipelines.settings import get_settings
from reports.thi_dua import GROUPINGS, build_table, ranking_groups, write_thi_dua

pytestmark = pytest.mark.unit
Y = "2024-2025"
ALL = list(GROUPINGS)


def _table(groups: list[str]) -> pd.DataFrame:
    # school: (unit, commune, level code, DH points, QT points, level)
    rows = {
        "S1": ("U1", "Xã Một", "TH", 80.0, 70.0, 3),  # 150
        "S2": ("U1", "Xã Hai", "THCS", 60.0, 60.0, 2),  # 120
        "S3": ("U2", "Xã Hai", "TH", 65.0, 65.0, 2),  # 130
        "S4": ("U2", "Xã Hai", "TH", 45.0, 45.0, 1),  # 90
        "S5": ("U3", "Xã Ba", "THPT", 55.0, 55.0, 2),  # 110
    }
    scores = pd.DataFrame(
        [
            {"school_code": k, "school_year": Y, "group_dh_points": dh, "group_qt_points": qt, "level": lv}
            for k, (_u, _c, _l, dh, qt, lv) in rows.items()
        ]
    )
    schools = pd.DataFrame(
        [
            {
                "school_code": k,
                "school_year": Y,
                "school_name": f"Trường {k}",
                "managing_unit": u,
                "commune_code": None,
                "commune_name": c,
                "level_code": lc,
            }
            for k, (u, c, lc, *_x) in rows.items()
        ]
    )
    values = pd.DataFrame({"school_code": list(rows), "school_year": Y, "status": "ok"})
    return build_table(scores, schools, values, groups=groups).set_index("school_code")


def _ranks(col: pd.Series) -> dict[str, int | None]:
    return {k: None if pd.isna(v) else int(v) for k, v in col.items()}


def test_rank_within_each_grouping() -> None:
    t = _table(ALL)
    assert _ranks(t["rank_province"]) == {"S1": 1, "S3": 2, "S2": 3, "S5": 4, "S4": 5}
    assert _ranks(t["rank_unit"]) == {"S1": 1, "S3": 1, "S2": 2, "S5": None, "S4": 2}
    assert _ranks(t["rank_commune"]) == {"S1": None, "S3": 1, "S2": 2, "S5": None, "S4": 3}
    assert _ranks(t["rank_school_level"]) == {"S1": 1, "S3": 2, "S2": None, "S5": None, "S4": 3}
    assert t.loc["S5", "rank_note"] == (
        "Đơn vị quản lý U3 chỉ có 1 trường: không xếp hạng; Xã, phường Xã Ba chỉ có 1 trường: "
        "không xếp hạng; "
        "Cấp học Trung học phổ thông chỉ có 1 trường: không xếp hạng"
    )
    assert t.loc["S3", "rank_note"] == ""


def test_only_the_configured_groupings_and_unknown_values() -> None:
    t = _table(["commune"])
    assert "rank_commune" in t and not {"rank_unit", "rank_province", "rank_school_level"} & set(t.columns)
    groups = ranking_groups(t.reset_index(), ["commune"])
    assert groups.to_dict("records") == [
        {
            "grouping": "Xã, phường",
            "group": "Xã Ba",
            "n_schools": 1,
            "ranked": "Không",
            "note": "Chỉ có 1 trường: không xếp hạng (cần ít nhất 2)",
        },
        {"grouping": "Xã, phường", "group": "Xã Hai", "n_schools": 3, "ranked": "Có", "note": ""},
        {
            "grouping": "Xã, phường",
            "group": "Xã Một",
            "n_schools": 1,
            "ranked": "Không",
            "note": "Chỉ có 1 trường: không xếp hạng (cần ít nhất 2)",
        },
    ]


def test_workbook_groups_sheet_and_print_rank(tmp_path: Path) -> None:
    t = _table(["commune", "school_level"]).reset_index()
    path = write_thi_dua(tmp_path / "td.xlsx", t, Y, groups=["commune", "school_level"])
    wb = openpyxl.load_workbook(path)
    rows = list(wb["Nhóm xếp hạng"].iter_rows(values_only=True))
    assert rows[0] == ("Cách nhóm", "Nhóm", "Số trường", "Có xếp hạng", "Ghi chú")
    assert ("Cấp học", "Tiểu học", 3, "Có", "") in rows
    printed = wb[f"Bản in {Y}"]
    head = [c.value for c in next(r for r in printed.iter_rows() if r[0].value == "Hạng")]
    assert head[:2] == ["Hạng", "Mã trường"]
    data = {
        r[1]: r[0]
        for r in printed.iter_rows(values_only=True)
        if isinstance(r[1], str) and r[1].startswith("S")
    }
    assert data == {"S1": None, "S3": 1, "S2": 2, "S5": None, "S4": 3}  # the commune rank is printed


def test_groups_setting_is_validated() -> None:
    assert get_settings().thi_dua_groups == ["managing_unit", "province"]
    assert get_settings(thi_dua_groups=["commune", "province"]).thi_dua_groups == ["commune", "province"]
    for bad in (["district"], [], ["commune", "commune"]):
        with pytest.raises(ValidationError):
            get_settings(thi_dua_groups=bad)
