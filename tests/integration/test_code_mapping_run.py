"""The code mapping through the whole pipeline on the sample's two years: with a mapping that says school
08000002 of 2024-2025 was, last year, school 08000001 under UBND xã Thủy Thượng, the 2024-2025 pack of
08000002 compares with 08000001's 2023-2024 values (1.7.1: 6/9 rooms then, 4/11 now) and names the old
code; the reviewer page's year-over-year table and last year's verification factor join across the
mapping too; a school the mapping does not name still compares with its own code. The same run ranks by
every grouping (CDS_THI_DUA_GROUPS = managing unit, commune, school level, province): the groups follow
the registry, a commune or level with one school is no ranking, and each rank within a group follows the
province order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests.integration.truth_compare import run_years

pytestmark = [pytest.mark.integration, pytest.mark.slow]
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"


def _sheet(path: Path, name: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(path, read_only=True)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def test_year_over_year_across_the_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = tmp_path / "code_mapping.csv"
    mapping.write_text(
        "Mã trường cũ,Đơn vị quản lý cũ,Mã trường mới\n08000001,UBND xã Thủy Thượng,08000002\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CDS_CODE_MAPPING", str(mapping))
    monkeypatch.setenv("CDS_THI_DUA_GROUPS", '["managing_unit", "commune", "school_level", "province"]')
    wh, out = run_years(INBOX, tmp_path, ["2023-2024", "2024-2025"])
    book = out / "schools" / "2024-2025" / "08000002.xlsx"
    overview = {r["Nội dung"]: r["Giá trị"] for r in _sheet(book, "Tổng quan")}
    assert overview["Mã trường năm học trước (tệp ánh xạ mã trường)"] == "08000001"
    changes = {r["Mã tiêu chí"]: r for r in _sheet(book, "So với năm trước")}
    assert changes["1.7.1"]["Số liệu năm trước"] == "6/9 phòng học có máy chiếu/ti vi và Internet"
    assert changes["1.7.1"]["Số liệu năm nay"] == "4/11 phòng học có máy chiếu/ti vi và Internet"
    assert changes["1.7.1"]["Điểm năm trước"] == pytest.approx(5.33)
    own = {
        r["Mã tiêu chí"]: r
        for r in _sheet(out / "schools" / "2024-2025" / "08000003.xlsx", "So với năm trước")
    }
    assert own, "08000003 is not in the mapping: compared with its own code"
    # last year's verification factor of 08000002 is the one of 08000001's 2023-2024 pack
    first = {
        r["Nội dung"]: r["Giá trị"]
        for r in _sheet(out / "schools" / "2023-2024" / "08000001.xlsx", "Tổng quan")
    }
    factor = "Hệ số xác thực (điểm tính từ dữ liệu ÷ điểm tự đánh giá)"
    assert overview["Hệ số xác thực năm học trước"] == first[factor] == "1,09"
    # the reviewer page compares 08000002 with 08000001's 2023-2024 figures (its own code had 4/12 rooms)
    page = (out / "reviewer_2024-2025.html").read_text(encoding="utf-8")
    assert (
        '1.7.1</td><td class="n">5,33</td><td class="n">2,91</td><td class="n">-2,42</td>'
        "<td>tử số 6 → 4; mẫu số 9 → 11"
    ) in page
    assert '1.7.1</td><td class="n">2,67</td><td class="n">2,91</td>' not in page  # 4/12 → 4/11
    _ranking_by_each_grouping(wh, out / "thi_dua_2024-2025.xlsx")


def _ranking_by_each_grouping(warehouse: Path, workbook: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        registry = con.execute(
            "SELECT school_code, managing_unit, commune_name, level FROM raw_school "
            "WHERE school_year = '2024-2025'"
        ).fetchall()
    finally:
        con.close()
    expected = {("Toàn tỉnh", "Toàn tỉnh"): len(registry)}
    for label, i in (("Đơn vị quản lý", 1), ("Xã, phường", 2)):
        expected |= {(label, g): n for g, n in Counter(r[i] for r in registry).items()}
    levels = Counter(r[3] for r in registry)
    groups = _sheet(workbook, "Nhóm xếp hạng")
    got = {(g["Cách nhóm"], g["Nhóm"]): g["Số trường"] for g in groups if g["Cách nhóm"] != "Cấp học"}
    assert got == expected
    assert sorted(g["Số trường"] for g in groups if g["Cách nhóm"] == "Cấp học") == sorted(levels.values())
    assert all((g["Có xếp hạng"] == "Có") == (g["Số trường"] >= 2) for g in groups)
    assert {g["Nhóm"] for g in groups if g["Cách nhóm"] == "Xã, phường" and g["Có xếp hạng"] == "Có"} == {
        "Xã Thủy Thượng",
        "Xã Thạnh Vân",
    }, "the sample: two communes of two schools, Sơn Phú has one"

    rows = _sheet(workbook, "Thi đua 2024-2025")
    columns = {
        "Đơn vị quản lý": "Xếp hạng trong đơn vị quản lý",
        "Xã, phường": "Xếp hạng trong xã, phường",
        "Cấp học": "Xếp hạng trong cấp học",
    }
    for group_col, rank_col in columns.items():
        by_group: dict[str, list[dict]] = {}
        for r in rows:
            by_group.setdefault(r[group_col], []).append(r)
        for members in by_group.values():
            ranks = [m[rank_col] for m in sorted(members, key=lambda m: m["Xếp hạng toàn tỉnh"])]
            if len(members) < 2:
                assert ranks == [None] and "không xếp hạng" in members[0]["Ghi chú xếp hạng"]
            else:
                assert ranks == list(range(1, len(members) + 1)), (group_col, members)
