"""Issue 19, `cds layout draft FILE --id vendor.name.v1` (connectors/layout_draft.py): a layout drafted from a
file's header validates, is written by the command, and once placed among the layouts reads the file it
was drafted from; columns it does not read are named in the draft, never hidden."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from connectors.entities import YAML_LOADER
from connectors.filedrop import parse_file
from connectors.layout_draft import DraftError, draft_layout
from connectors.layouts import LAYOUT_DIR, load_layouts
from connectors.sheet_parser import ParseContext
from pipelines.cli import main

pytestmark = pytest.mark.integration
YEAR = "2024-2025"


def _r3_file(tmp_path: Path) -> tuple[Path, ParseContext, object]:
    from sample_exports.generator import real_secondary as RS

    rng = random.Random(19)
    classes = [RS.fake_secondary_class(rng, "7A", 7, 13), RS.fake_secondary_class(rng, "7B", 7, 10)]
    path = tmp_path / "inbox" / YEAR / "08000004" / "tong_hop_ket_qua_khoi_7_HK1.xls"
    path.parent.mkdir(parents=True)
    exp = RS.write_vnedu_tt22_summary(path, classes, year=YEAR, semester=1, roman=True)
    return path, ParseContext(f"{YEAR}/08000004/{path.name}", YEAR, "08000004"), exp


def _layout_dir(tmp_path: Path, without: str) -> Path:
    out = tmp_path / "layouts"
    out.mkdir()
    for f in LAYOUT_DIR.glob("*.yaml"):
        if f.stem != without:
            shutil.copy(f, out / f.name)
    return out


def test_layout_drafted_from_r3_file_reads_it(tmp_path: Path) -> None:
    """`cds layout draft` on an R3 summary book writes a YAML that the layout model accepts; with the
    draft in place of the committed R3 layout, the file is read by the draft with exactly the records
    the committed layout gives (every pupil × subject term result, class and semester from the title)."""
    path, ctx, exp = _r3_file(tmp_path)
    layouts_dir = _layout_dir(tmp_path, without="vnedu.tt22_summary.v1")
    out = layouts_dir / "acme.tong_hop.v1.yaml"
    res = CliRunner().invoke(
        main, ["layout", "draft", str(path), "--id", "acme.tong_hop.v1", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert (
        "# thông tin semester: dòng tiêu đề" in text and "# thông tin class_name: dòng tiêu đề → 7A" in text
    )
    data = yaml.load(text, Loader=YAML_LOADER)
    assert data["id"] == "acme.tong_hop.v1" and data["shape"] == "term_summary" and data["key"] == "local_id"

    committed = parse_file(path, ctx.file, ctx, load_layouts())
    drafted = parse_file(path, ctx.file, ctx, load_layouts(layouts_dir))
    assert committed.status == drafted.status == "loaded"
    assert {s.layout.id for s in drafted.sheets} == {"acme.tong_hop.v1"}
    n_values = sum(len(r["values"]) for s in exp.sheets for r in s.records)  # type: ignore[attr-defined]
    assert sum(len(s.rows) for s in drafted.sheets) == n_values > 0
    for a, b in zip(committed.sheets, drafted.sheets, strict=True):
        assert a.sheet == b.sheet and a.rows_read == b.rows_read and not b.rejects
        assert a.rows.reset_index(drop=True).equals(b.rows.reset_index(drop=True))
        assert [(u.letter, u.use) for u in a.columns] == [(u.letter, u.use) for u in b.columns]


def test_draft_without_a_near_layout_names_every_column_it_does_not_read(tmp_path: Path) -> None:
    """Without the R3 layout the nearest is another grade layout: the draft still validates, says which
    it started from, and lists each subject column it would not read (for the reviewer, not hidden)."""
    path, _ctx, _exp = _r3_file(tmp_path)
    layouts = load_layouts(_layout_dir(tmp_path, without="vnedu.tt22_summary.v1"))
    d = draft_layout(path, "acme.tong_hop.v1", layouts)
    assert d.nearest != "vnedu.tt22_summary.v1" and d.layout.entity == "grade_entry"
    text = d.yaml()
    assert yaml.load(text, Loader=YAML_LOADER) == d.data
    for header in ("Toán / (HS 1)", "KHTN / (HS 1)", "GDTC / (N.xét)", "Buổi nghỉ / Tổng"):
        assert f"«{header}» có dữ liệu nhưng KHÔNG ĐỌC" in text


def test_draft_refuses_a_bad_id_and_a_file_without_a_known_header(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "khac.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Cột lạ", "Cột khác"])
    ws.append(["a", "b"])
    wb.save(path)
    with pytest.raises(DraftError, match="không có trang nào"):
        draft_layout(path, "acme.x.v1")
    res = CliRunner().invoke(main, ["layout", "draft", str(path), "--id", "Acme X"])
    assert res.exit_code == 2 and "không đúng dạng" in res.output
