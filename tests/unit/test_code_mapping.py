"""The school-code mapping across the 2025 reform: the file's validation (every problem named with its
row, in Vietnamese), the join rule (old code + old managing unit; the same old code under two old units
are two schools), and a school's feedback pack comparing against last year's values of its old code."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from indicator_sets.code_mapping import CodeMappingError, load_code_mapping
from reports.school_pack import build_pack
from tests.unit.test_reports import review_data

pytestmark = pytest.mark.unit


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "code_mapping.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_join_by_old_code_and_old_unit(tmp_path: Path) -> None:
    # two merged provinces' registries both had 08000002; each became a different school code
    path = _write(tmp_path, "Mã trường cũ,Đơn vị quản lý cũ,Mã trường mới\n"
                            "08000002,Phòng GD&ĐT huyện A,08100002\n"
                            "08000002,Phòng GD&ĐT  huyện B,09200002\n")  # fmt: skip
    mapping = load_code_mapping(path)
    last_year = {"08000002": "Phòng GD&ĐT huyện B", "08000003": "Sở GD&ĐT"}
    assert mapping.previous_code("09200002", last_year) == "08000002"
    assert mapping.previous_code("08100002", last_year) is None, (
        "its old school is not in last year's registry"
    )
    assert mapping.previous_code("08000003", last_year) == "08000003", "not mapped: its own code"


def test_every_problem_is_named_with_its_row(tmp_path: Path) -> None:
    path = _write(tmp_path, "old_school_code,old_managing_unit,new_school_code\n"
                            "08000001,Phòng A,08100001\n"
                            "08000001,Phòng A,08100009\n"   # same old school twice
                            "08000002,Phòng A,08100001\n"   # a new code for two schools
                            "08000003,,08100003\n"          # no old unit
                            "08 00004,Phòng A,08100004\n"   # not a code
                            "08100001,Phòng B,08200001\n")  # fmt: skip
    with pytest.raises(CodeMappingError) as err:
        load_code_mapping(path)
    problems = err.value.problems
    assert "dòng 3: trường 08000001 (Phòng A) đã có ở dòng 2" in problems
    assert any(p.startswith("dòng 4: mã mới 08100001 đã dùng cho trường khác ở dòng 2") for p in problems)
    assert "dòng 5: cột old_managing_unit để trống" in problems
    assert any(p.startswith("dòng 6: mã trường '08 00004'") for p in problems)
    assert any(p.startswith("dòng 2: mã mới 08100001 cũng là một mã cũ") for p in problems)
    with pytest.raises(CodeMappingError, match="thiếu cột new_school_code"):
        load_code_mapping(_write(tmp_path, "old_school_code,old_managing_unit\n1,A\n"))


def test_pack_compares_with_the_old_code() -> None:
    data = review_data()
    prev = data.final.copy()
    prev["school_code"] = prev["school_code"].replace({"S1": "OLD1"})
    ok = prev["status"].eq("ok") & prev["school_code"].eq("OLD1") & prev["points"].gt(1)
    crit = prev.loc[ok, "criterion_code"].iloc[0]
    prev.loc[ok & prev["criterion_code"].eq(crit), "points"] -= 1.0
    data.previous = prev
    args = {
        "rejects": pd.DataFrame(),
        "quarantined": pd.DataFrame(),
        "missing": [],
        "delivered": set(),
        "pii": set(),
    }
    own = build_pack(data, "S1", **args)  # type: ignore[arg-type]
    assert not own.has_previous, "last year knows no S1"
    mapped = build_pack(data, "S1", previous_code="OLD1", **args)  # type: ignore[arg-type]
    assert mapped.has_previous
    row = mapped.changes.set_index("criterion_code").loc[crit]
    assert row["delta"] == pytest.approx(1.0) and row["direction"] == "Tăng điểm"
    assert ("Mã trường năm học trước (tệp ánh xạ mã trường)", "OLD1") in mapped.overview
    unmatched = build_pack(data, "S1", previous_code=None, **args)  # type: ignore[arg-type]
    assert not unmatched.has_previous
