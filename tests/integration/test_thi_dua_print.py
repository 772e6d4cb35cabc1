"""The thi đua workbook is ready to print: its print sheet, converted to PDF by LibreOffice (Debian's
`libreoffice-calc`), gives A4 landscape pages whose smallest text is at least 9 pt, with the title
(province, school year, decision) on every page, page numbers and the column header repeated; the data
sheet stays, with the school code and name frozen; a capped group level says why on the row."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from reports.thi_dua import write_thi_dua
from tests.unit.test_reports import review_data, table_of

pytestmark = pytest.mark.integration

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
Y = "2024-2025"


def many_schools(table: pd.DataFrame, n: int = 70) -> pd.DataFrame:
    """The small table repeated as `n` schools (enough rows for several pages)."""
    rows = [
        table.iloc[i % len(table)].to_dict() | {"school_code": f"08{i:06d}", "school_name": f"Trường số {i}"}
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def pdf_pages(xlsx: Path, tmp: Path) -> list[tuple[str, float, tuple[float, float]]]:
    """(text, smallest font size in pt, page size in pt) of every page of the workbook's PDF."""
    from pypdf import PdfReader

    profile = tmp / "lo_profile"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    out = []
    for page in PdfReader(tmp / f"{xlsx.stem}.pdf").pages:
        sizes: list[float] = []

        def visit(text: str, cm: list, tm: list, fonts: object, size: float, sizes: list = sizes) -> None:
            if text.strip():
                scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
                sizes.append(size * scale)

        text = page.extract_text(visitor_text=visit)
        box = page.mediabox
        out.append((text, min(sizes) if sizes else 0.0, (float(box.width), float(box.height))))
    return out


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (Debian package libreoffice-calc) not installed")
def test_print_sheet_prints_readable_a4_landscape_pages(tmp_path: Path) -> None:
    data = review_data()
    table, _ = table_of(data)
    path = write_thi_dua(
        tmp_path / f"thi_dua_{Y}.xlsx", many_schools(table), Y, iset=data.iset, province="tỉnh Thử Nghiệm"
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == [f"Bản in {Y}", f"Thi đua {Y}"]  # the data sheet stays
    ws = wb[f"Bản in {Y}"]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    fit = ws.sheet_properties.pageSetUpPr
    assert ws.page_setup.scale in (None, 100) and not (fit and fit.fitToPage)  # 100 %, no fit-to-page shrink
    assert ws.print_title_rows and ws.freeze_panes == "D6"  # header row repeated; rank, code, name frozen
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    data_sheet = wb[f"Thi đua {Y}"]
    head = [c.value for c in data_sheet[1]]
    assert data_sheet.freeze_panes == f"{openpyxl.utils.get_column_letter(head.index('Tên trường') + 2)}2"
    printed_heads = [c.value for c in ws[5]]
    assert 8 <= len(printed_heads) < len(head) and "Lý do mức bị giới hạn" in printed_heads

    pages = [p for p in pdf_pages(path, tmp_path) if "BẢNG TỔNG HỢP" in p[0]]
    assert len(pages) >= 2
    for k, (text, smallest, (w, h)) in enumerate(pages, start=1):
        assert w > h and abs(w - 842) < 3 and abs(h - 595) < 3, (w, h)  # A4 landscape
        assert smallest >= 9, f"page {k}: smallest text {smallest:.1f} pt"
        assert "SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH THỬ NGHIỆM" in text and f"NĂM HỌC {Y}" in text
        assert f"Trang {k} / " in text  # LibreOffice counts the pages of every sheet in &N
        # one page wide: every page has the whole header row (repeated) and the reason column
        assert "Mã trường" in text and "Lý do mức bị giới hạn" in text and "Phát hiện" in text
