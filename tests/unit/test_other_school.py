"""`filedrop.verdicts.other_school`: the rows of a file in a school's folder that name another school,
counted per code, whatever the dtype of the parsed `school_code` column (plain text, nullable string,
numbers, missing values)."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.filedrop.verdicts import _all_equal, other_school
from connectors.layouts import load_layouts
from connectors.parsing.model import ParseContext, SheetResult

pytestmark = pytest.mark.unit
FOLDER = "08000001"


def _sheet(codes: pd.Series) -> SheetResult:
    layout = next(lay for lay in load_layouts() if lay.entity == "facility")
    rows = pd.DataFrame({"school_code": codes, "room_code": [f"P{i}" for i in range(len(codes))]})
    return SheetResult(layout, "Sheet1", rows, [], [], len(codes), 0)


CTX = ParseContext(file=f"{FOLDER}/phong.xlsx", folder_school=FOLDER, school_names={"thcs b": "08000002"})


@pytest.mark.parametrize("dtype", [object, "string", "string[pyarrow]"])
def test_only_the_folders_school_is_no_mismatch(dtype: object) -> None:
    codes = pd.Series([FOLDER, FOLDER, None], dtype=dtype)  # type: ignore[call-overload]
    assert other_school([_sheet(codes)], CTX) is None


@pytest.mark.parametrize("dtype", [object, "string", "string[pyarrow]"])
def test_other_codes_are_counted_across_sheets(dtype: object) -> None:
    a = pd.Series([FOLDER, "08000002", "08000002", None], dtype=dtype)  # type: ignore[call-overload]
    b = pd.Series(["08000003", FOLDER], dtype=dtype)  # type: ignore[call-overload]
    got = other_school([_sheet(a), _sheet(b)], CTX)
    assert got == (
        "nội dung tệp ghi trường 08000002 – thcs b (2 dòng), 08000003 (1 dòng), "
        f"còn tệp nằm trong thư mục trường {FOLDER}"
    )


def test_a_number_that_reads_as_the_folders_code_is_no_mismatch() -> None:
    codes = pd.Series([int(FOLDER), 8000002], dtype=object)  # 8000001 reads "8000001", not the folder's
    got = other_school([_sheet(codes)], ParseContext(file="x.xlsx", folder_school="8000001"))
    assert got is not None and "8000002 (1 dòng)" in got and "8000001 (" not in got


@pytest.mark.parametrize("dtype", [object, "string", "string[pyarrow]"])
def test_the_one_pass_check_is_true_only_when_every_code_is_the_folders(dtype: object) -> None:
    def same(values: list) -> bool:
        return _all_equal(pd.Series(values, dtype=dtype), FOLDER)  # type: ignore[call-overload]

    assert same([FOLDER, FOLDER])
    assert not same([FOLDER, None])  # a missing code goes to the full count (which leaves it out)
    assert not same([FOLDER, "08000002"])
    assert not _all_equal(pd.Series([int(FOLDER)], dtype=object), FOLDER)
