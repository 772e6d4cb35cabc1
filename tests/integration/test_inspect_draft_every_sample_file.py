"""Issue 19: `cds inspect` and `cds layout draft` give a useful result for every file of the sample inbox,
through the commands themselves (click's runner, in this process):

- a spreadsheet or CSV export: `inspect` names the file's outcome and every sheet (its layout, or why it is
  not read); `layout draft` prints a YAML that validates and, put in place of its nearest layout, is the
  layout chosen for the sheet it was drafted from (exit 0);
- a JSON export: `inspect` names its JSON layout, where each canonical column comes from and the records
  read; `layout draft` prints the same account as YAML comments, no layout (exit 0; `--out` exits 2);
- a file the ingest never reads (the generator's `_truth/` files: a name starting with `_`): both
  commands say so in Vietnamese and exit 3 (`NOT_INGESTED_EXIT`), as the ingest's own inbox walk skips it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from connectors.entities import YAML_LOADER
from connectors.inbox import walk_inbox
from connectors.inspection import JSON_FIELDS, NOT_INGESTED_EXIT, describe_json, not_ingested
from connectors.json_layouts import PUSH_SCHOOLS, PUSH_USERS, RESOURCES
from connectors.layouts import Layout, load_layouts
from connectors.readers import read_grids
from connectors.sheet_parser import find_headers
from pipelines.cli import main

pytestmark = pytest.mark.integration
SAMPLE_INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLE_INBOX.rglob("*") if p.is_file())


def test_json_fields_name_every_column_of_the_json_layouts() -> None:
    for lay in (PUSH_USERS, PUSH_SCHOOLS, RESOURCES):
        assert set(JSON_FIELDS[lay.id]) == set(lay.columns), lay.id


def test_not_ingested_is_the_ingest_walk() -> None:
    """The files both commands call "not read" are exactly the sample files the ingest's walk leaves out."""
    walked = set(walk_inbox(SAMPLE_INBOX))
    files = _sample_files()
    skipped = {p.relative_to(SAMPLE_INBOX).as_posix() for p in files if not_ingested(p) is not None}
    assert skipped == {p.relative_to(SAMPLE_INBOX).as_posix() for p in files} - walked
    assert skipped and all(s.startswith("_truth/") for s in skipped)


def test_not_ingested_names_the_skipped_part(tmp_path: Path) -> None:
    school = tmp_path / "inbox" / "2024-2025" / "08000001"
    (school / "_cu").mkdir(parents=True)
    for name in ("DS.xlsx", "_nhap.xlsx", ".DS.xlsx", "_cu/DS.xlsx"):
        (school / name).write_bytes(b"x")
    os.symlink(school / "_cu", school / "lien_ket")
    assert not_ingested(school / "DS.xlsx") is None
    assert "tệp «_nhap.xlsx»" in (not_ingested(school / "_nhap.xlsx") or "")
    assert "tệp «.DS.xlsx»" in (not_ingested(school / ".DS.xlsx") or "")
    assert "thư mục «_cu»" in (not_ingested(school / "_cu" / "DS.xlsx") or "")
    assert "thư mục liên kết" in (not_ingested(school / "lien_ket" / "DS.xlsx") or "")
    assert "_truth" not in (not_ingested(school / "_nhap.xlsx") or "_truth")  # no truth note out of _truth/


def _drafted_layout_wins(path: Path, text: str, layouts: tuple[Layout, ...]) -> None:
    """The printed draft validates; with it in place of its nearest layout, it is chosen for its sheet."""
    data = yaml.load(text, Loader=YAML_LOADER)
    draft = Layout.model_validate(data)
    head = text.split("\n", 1)[0]
    sheet = head.split("trang «", 1)[1].split("»", 1)[0]
    nearest = head.rsplit("mẫu gần nhất: ", 1)[1].rstrip(".")
    swapped = (*(lay for lay in layouts if lay.id != nearest), draft)
    grid = next(g for g in read_grids(path) if g.sheet == sheet)
    best = max(find_headers(grid, swapped), key=lambda m: m.score)
    assert best.layout.id == "acme.x.v1", (path, nearest, best.layout.id)


def test_inspect_and_draft_on_every_sample_file(tmp_path: Path) -> None:
    layouts = load_layouts()
    runner = CliRunner()
    counts = {"sheet": 0, "json": 0, "not_ingested": 0}
    statuses = {"loaded": 0, "partly_loaded": 0, "quarantined": 0}
    for path in _sample_files():
        insp = runner.invoke(main, ["inspect", str(path)])
        draft = runner.invoke(main, ["layout", "draft", str(path), "--id", "acme.x.v1"])
        where = path.relative_to(SAMPLE_INBOX).as_posix()
        if "_truth" in path.parts:
            for res in (insp, draft):
                assert res.exit_code == NOT_INGESTED_EXIT, (where, res.output)
                assert "bước nạp không đọc tệp này: thư mục «_truth»" in res.output, where
                assert "đáp án của bộ sinh dữ liệu mẫu" in res.output, where
            assert insp.output.startswith(f"Tệp: {path}\nKết quả: không nạp — "), where
            counts["not_ingested"] += 1
            continue
        assert insp.exit_code == 0 and draft.exit_code == 0, (where, insp.output[-300:], draft.output[-300:])
        status = insp.output.split("\n", 2)[1].removeprefix("Kết quả: ").split(" ", 1)[0]
        assert insp.output.startswith(f"Tệp: {where}\n"), (where, insp.output[:300])
        assert status in ("loaded", "partly_loaded", "quarantined"), (where, insp.output[:300])
        statuses[status] += 1
        if path.suffix == ".json":
            desc = describe_json(path)
            assert desc.layout is not None, where
            assert f"Mẫu JSON: {desc.layout} (nhận theo " in insp.output
            n = int(insp.output.split("Bản ghi: ", 1)[1].split(";", 1)[0].split("\n", 1)[0])
            assert n > 0, where
            assert draft.output.startswith(f"# Tệp «{path.name}» là JSON: không phác thảo mẫu YAML"), where
            assert all(line.startswith("# ") for line in draft.output.splitlines()), where
            for col, src in JSON_FIELDS[desc.layout].items():
                assert f"  {col} ← {src}" in insp.output and f"#   {col} ← {src}" in draft.output, where
            with_out = runner.invoke(
                main, ["layout", "draft", str(path), "--id", "acme.x.v1", "--out", str(tmp_path / "x.yaml")]
            )
            assert with_out.exit_code == 2 and not (tmp_path / "x.yaml").exists(), where
            counts["json"] += 1
            continue
        for grid in read_grids(path):  # every sheet is named, with its layout or why it is not read
            assert f"== Trang «{grid.sheet}»" in insp.output, (where, grid.sheet)
        if status != "quarantined":
            assert "   Mẫu: " in insp.output and "   Cột:" in insp.output, where
        _drafted_layout_wins(path, draft.output, layouts)
        counts["sheet"] += 1
    assert counts["sheet"] > 200 and counts["json"] == 8 and counts["not_ingested"] == 4, counts
    assert all(n > 0 for n in statuses.values()), statuses  # the sample's planted faults are inspected too
