"""The registry's administrative units through the whole pipeline: in a copy of the sample's 2024-2025
inbox, the Sở's school list (DanhSachTruong.xlsx) gets a commune code that does not exist (08000003) and
a commune of another province (08000005); the registry check reports both, the data-quality report lists
it under those schools, and each school's feedback pack says which file, which row and what to correct,
while the other schools' packs say nothing about administrative units."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
YEAR = "2024-2025"
AUDIT_VI = "Mã tỉnh hoặc mã xã/phường trong danh sách trường không có trong danh mục đơn vị hành chính"


def _plant(registry: Path, codes: dict[str, str]) -> dict[str, int]:
    """Set the commune code of the given schools; returns school → Excel row."""
    wb = openpyxl.load_workbook(registry)
    ws = wb.active
    head = next(r for r in ws.iter_rows(min_row=1, max_row=20) if r[0].value == "STT")
    col = {c.value: c.column for c in head}
    rows = {}
    for row in ws.iter_rows(min_row=head[0].row + 1):
        code = row[col["MÃ CSGD"] - 1].value
        if code in codes:
            ws.cell(row=row[0].row, column=col["MÃ XÃ/PHƯỜNG"], value=codes[code])
            rows[code] = row[0].row
    wb.save(registry)
    assert set(rows) == set(codes)
    return rows


def _sheet(path: Path, name: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(path, read_only=True)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def test_planted_wrong_commune_codes_are_reported(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(INBOX / YEAR, inbox / YEAR)
    registry = inbox / YEAR / "province" / "DanhSachTruong.xlsx"
    rows = _plant(registry, {"08000003": "99999", "08000005": "00004"})  # 00004: Hà Nội (01)
    out = tmp_path / "out"
    settings = get_settings(inbox=inbox, warehouse=tmp_path / "wh.duckdb", out=out, school_year=YEAR)
    assert run_pipeline(settings, force=True)

    report = (out / f"data_quality_{YEAR}.html").read_text(encoding="utf-8")
    assert AUDIT_VI in report

    where = f"{YEAR}/province/DanhSachTruong.xlsx"
    expected = {
        "08000003": (
            f"{where}, dòng {rows['08000003']}: Mã xã 99999 không có trong danh mục đơn vị hành chính"
        ),
        "08000005": f"{where}, dòng {rows['08000005']}: Mã xã 00004 thuộc tỉnh 01, không thuộc tỉnh 08",
    }
    for code in ("08000001", "08000002", "08000003", "08000004", "08000005"):
        book = out / "schools" / YEAR / f"{code}.xlsx"
        units = [
            a for a in _sheet(book, "Kiểm tra chéo") if str(a["Nội dung kiểm tra chéo"]).startswith(AUDIT_VI)
        ]
        page = (out / "schools" / YEAR / f"{code}.html").read_text(encoding="utf-8")
        if code in expected:
            assert [(a["Số trường hợp"], a["Mức độ"], a["Chi tiết, cần sửa"]) for a in units] == [
                (1, "Cảnh báo", expected[code])
            ]
            assert expected[code] in page
        else:
            assert units == [], code
            assert "Mã xã" not in page, code
