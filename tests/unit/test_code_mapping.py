"""The school-code mapping across the 2025 reform: the file's validation (every problem named with its
row, in Vietnamese), the join rule (old code + old managing unit; the same old code under two old units
are two schools), and a school's feedback pack comparing against last year's values of its old code."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from indicator_sets.code_mapping import CodeMapping, CodeMappingError, MappingRow, load_code_mapping
from reports.school_pack import build_pack
from tests.unit.test_reports import review_data

pytestmark = pytest.mark.unit


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "code_mapping.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_join_by_old_code_and_old_unit(tmp_path: Path) -> None:
    # two merged provinces' registries both had 08000002; each became a different school code
    path = _write(
        tmp_path,
        "Mã trường cũ,Đơn vị quản lý cũ,Mã trường mới\n"
        "08000002,Phòng GD&ĐT huyện A,08100002\n"
        "08000002,Phòng GD&ĐT  huyện B,09200002\n",
    )
    mapping = load_code_mapping(path)
    last_year = {"08000002": "Phòng GD&ĐT huyện B", "08000003": "Sở GD&ĐT"}
    assert mapping.previous_code("09200002", last_year) == "08000002"
    assert mapping.previous_code("08100002", last_year) is None, (
        "its old school is not in last year's registry"
    )
    assert mapping.previous_code("08000003", last_year) == "08000003", "not mapped: its own code"


def test_every_problem_is_named_with_its_row(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "old_school_code,old_managing_unit,new_school_code\n"
        "08000001,Phòng A,08100001\n"
        "08000001,Phòng A,08100009\n"  # same old school twice
        "08000002,Phòng A,08100001\n"  # a new code for two schools
        "08000003,,08100003\n"  # no old unit
        "08 00004,Phòng A,08100004\n"  # not a code
        "08100001,Phòng B,08200001\n",
    )
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


def test_rekey_puts_last_year_under_this_years_codes() -> None:
    """08000001 became 08000002 while last year's 08000002 is another school (kept its code? no: the
    mapping says 08000002 now means the old 08000001); 08000003 is unmapped; 08000009 cannot be matched."""
    mapping = CodeMapping(
        [MappingRow("08000001", "UBND xã A", "08000002", 2), MappingRow("08000007", "Phòng B", "08000009", 3)]
    )
    prev = pd.DataFrame(
        {"school_code": ["08000001", "08000002", "08000003", "08000007"], "points": [1, 2, 3, 7]}
    )
    units = {"08000001": "UBND  xã a", "08000002": "X", "08000003": "Y", "08000007": "Phòng C"}
    got = mapping.rekey(prev, ["08000001", "08000002", "08000003", "08000009"], units)
    assert sorted(zip(got["school_code"], got["points"], strict=True)) == [
        ("08000001", 1),
        ("08000002", 1),
        ("08000003", 3),
    ], "08000001 still compares with its own code; 08000002 with the old 08000001; 08000009 with nothing"


def test_pack_compares_with_the_old_code() -> None:
    data = review_data()
    prev = data.final.copy()
    prev["school_code"] = prev["school_code"].replace({"S1": "OLD1"})
    ok = prev["status"].eq("ok") & prev["school_code"].eq("OLD1") & prev["points"].gt(1)
    crit = prev.loc[ok, "criterion_code"].iloc[0]
    prev.loc[ok & prev["criterion_code"].eq(crit), "points"] -= 1.0
    mapping = CodeMapping([MappingRow("OLD1", "Phòng A", "S1", 2)])
    args = {
        "rejects": pd.DataFrame(),
        "quarantined": pd.DataFrame(),
        "missing": [],
        "delivered": set(),
        "pii": set(),
    }
    data.previous = prev
    own = build_pack(data, "S1", **args)  # type: ignore[arg-type]
    assert not own.has_previous, "last year knows no S1"
    data.previous = mapping.rekey(prev, data.units()["school_code"], {"OLD1": "Phòng A"})
    mapped = build_pack(data, "S1", previous_code="OLD1", **args)  # type: ignore[arg-type]
    assert mapped.has_previous
    row = mapped.changes.set_index("criterion_code").loc[crit]
    assert row["delta"] == pytest.approx(1.0) and row["direction"] == "Tăng điểm"
    overview = dict(mapped.overview)
    assert overview["Mã trường năm học trước (tệp ánh xạ mã trường)"] == "OLD1"
    assert (
        overview["Hệ số xác thực năm học trước"]
        != overview["Hệ số xác thực (điểm tính từ dữ liệu ÷ điểm tự đánh giá)"]
    ), "one criterion lost a point against last year"
    unmatched = build_pack(data, "S1", previous_code=None, **args)  # type: ignore[arg-type]
    assert not unmatched.has_previous


def test_a_run_with_an_invalid_mapping_is_refused_before_any_stage(tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from pipelines.runner import run_pipeline
    from pipelines.settings import get_settings

    path = _write(tmp_path, "Mã trường cũ,Đơn vị quản lý cũ,Mã trường mới\n08000001,,08000002\n")
    buf = StringIO()
    settings = get_settings(
        inbox=tmp_path / "inbox", warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", code_mapping=path
    )
    outcome = run_pipeline(settings, Console(file=buf, width=200), force=True)
    assert not outcome and outcome.status == "refused"
    assert "Tệp ánh xạ mã trường code_mapping.csv: dòng 2: cột old_managing_unit để trống" in buf.getvalue()
    assert not (tmp_path / "wh.duckdb").exists(), "nothing touched"
