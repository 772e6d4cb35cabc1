"""Smoke test of the benchmark: its pure helpers, and the reader comparison on four sample files (no
pipeline run, no timing assertions)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from benchmarks.core import (
    cache_key,
    evaluate_targets,
    growth_exponent,
    markdown_table,
    n_to_change,
    render_markdown,
    select_sample,
    stage_rows,
)

pytestmark = pytest.mark.unit


def test_growth_exponent_recovers_the_power() -> None:
    xs = [1.0, 10.0, 100.0]
    assert growth_exponent(xs, [2 * x for x in xs]) == pytest.approx(1.0)
    assert growth_exponent(xs, [3 * x**1.5 for x in xs]) == pytest.approx(1.5)
    assert growth_exponent([5.0], [1.0]) is None
    assert growth_exponent([5.0, 5.0], [1.0, 2.0]) is None


def test_change_selector_is_deterministic_and_order_free() -> None:
    names = [f"2024-2025/{i:08d}/f{j}.xlsx" for i in range(20) for j in range(5)]
    n = n_to_change(len(names), 0.05)
    assert n == 5
    a = select_sample(names, n, seed=7)
    assert a == select_sample(list(reversed(names)), n, seed=7)
    assert len(a) == n and set(a) <= set(names)
    assert select_sample(names, n, seed=8) != a
    assert n_to_change(3, 0.05) == 1 and n_to_change(0, 0.05) == 0


def test_cache_key_changes_with_every_input() -> None:
    base = cache_key("small", 7, ["2024-2025"], 0.5, "abcdef1234567890")
    assert base == cache_key("small", 7, ["2024-2025"], 0.5, "abcdef1234567890")
    others = {
        cache_key("medium", 7, ["2024-2025"], 0.5, "abcdef1234567890"),
        cache_key("small", 8, ["2024-2025"], 0.5, "abcdef1234567890"),
        cache_key("small", 7, ["2023-2024", "2024-2025"], 0.5, "abcdef1234567890"),
        cache_key("small", 7, ["2024-2025"], 1.0, "abcdef1234567890"),
        cache_key("small", 7, ["2024-2025"], 0.5, "fedcba0987654321"),
    }
    assert base not in others and len(others) == 5


def test_markdown_table_and_report() -> None:
    table = markdown_table(["a", "b"], [["x", 1], ["yy", 22]])
    lines = table.splitlines()
    assert lines[0].startswith("| a") and lines[1].startswith("|:") and len(lines) == 4
    assert len({len(ln) for ln in lines}) == 1

    run = {
        "ok": True,
        "status": "success",
        "wall_s": 10.0,
        "rows_kept": 1000,
        "rows_loaded": 1000,
        "input_bytes": 2**20,
        "bytes_ingested": 2**20,
        "peak_rss_bytes": 2**28,
        "stage_seconds": {"models": 2.0, "ingest": 5.0, "checks": 1.0},
        "stage_peak_rss_bytes": {"ingest": 2**27},
    }
    rows = stage_rows(run)
    assert [r["stage"] for r in rows] == ["ingest", "models", "checks"]
    assert rows[0]["rows_per_s"] == pytest.approx(200.0) and rows[0]["mb_per_s"] == pytest.approx(0.2)
    results = {
        "meta": {"commit": "0123456789abcdef"},
        "sizes": {
            "small": {
                "inbox": {"files": 3, "bytes": 2**20, "schools": 5},
                "cold": run,
                "incremental": {**run, "wall_s": 0.5},
                "scan": {
                    "table": "raw_x",
                    "rows": 10,
                    "scan_s": 1.0,
                    "marts_s": 2.0,
                    "marts_vs_scan": 2.0,
                    "floor_s": 1.5,
                    "floor_vs_scan": 1.5,
                },
            }
        },
        "ratios": {"connector_vs_fastexcel": 0.4, "connector_vs_pandas": 12.0},
        "growth": {"exponent_vs_mb": None},
    }
    targets = {t["target"]: t["verdict"] for t in evaluate_targets(results)}
    assert targets["incremental 5% < 10% of cold"] == "met"
    assert targets["ingest ≥ 0.5× fastexcel floor"] == "NOT met"
    assert targets["ingest ≥ 10× pandas+openpyxl"] == "met"
    assert targets["marts ≤ 2× one scan"] == "met"
    assert targets["growth exponent ≤ 1.1"] == "not measured"
    assert targets["province-mountain cold < 15 min & peak < 4 GiB"] == "not measured"
    figures = {t["target"]: t["figure"] for t in evaluate_targets(results)}
    assert figures["marts ≤ 2× one scan"] == "small 2.0× (marks fold alone 1.5×)"
    md = render_markdown({**results, "targets": evaluate_targets(results)})
    assert "small cold" in md and "**total**" in md and "## Targets" in md
    assert "marks fold alone s" in md and "1.50" in md


def test_touch_xlsx_changes_one_number_of_the_first_sheet(tmp_path: Path) -> None:
    from benchmarks.datasets import touch_xlsx

    sheet = (
        b'<worksheet><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        b'<row r="2"><c r="A2" s="1"><v>8.5</v></c><c r="B2"><v>1</v></c><c r="C2" t="s"><v>3</v></c></row>'
        b"</worksheet>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("docProps/core.xml", "<cp:coreProperties/>")
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/worksheets/sheet2.xml", sheet)
    path = tmp_path / "a.xlsx"
    path.write_bytes(buf.getvalue())
    assert touch_xlsx(path, "s1")
    with zipfile.ZipFile(path) as z:
        first = z.read("xl/worksheets/sheet1.xml")
        assert first == sheet.replace(b'<c r="B2"><v>1</v>', b'<c r="B2"><v>0</v>')  # last number, 1 → 0
        assert z.read("xl/worksheets/sheet2.xml") == sheet  # other sheets untouched
        assert b"cds-bench s1" in z.read("docProps/core.xml")
    text_only = tmp_path / "b.xlsx"
    with zipfile.ZipFile(text_only, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", b'<worksheet><c r="A1" t="s"><v>0</v></c></worksheet>')
    assert not touch_xlsx(text_only, "s2")
    with zipfile.ZipFile(text_only) as z:
        assert "customXml/cds-bench.xml" in z.namelist()


def test_reader_ratios_time_the_connectors_ingest(tmp_path: Path) -> None:
    """The reader comparison runs the connector's real ingest (one process and the pool) on a copy of the
    same files as the other readers, and gives every ratio the targets read."""
    from benchmarks.readers import CONNECTOR, CONNECTOR_POOL, measure_readers

    inbox = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
    files = sorted((inbox / "2024-2025" / "08000001").glob("*.xlsx"))[:3]
    files += sorted((inbox / "2024-2025" / "province").glob("*.xlsx"))[:1]
    got = measure_readers(inbox, files, "2024-2025", tmp_path, repeat=1)
    by = {r["reader"]: r for r in got["readers"]}
    assert got["files"] == len(files)
    assert by[CONNECTOR]["records"] > 0 and by[CONNECTOR]["records"] == by[CONNECTOR_POOL]["records"]
    for key in ("connector_vs_fastexcel", "connector_vs_pandas", "pool_vs_fastexcel", "pool_vs_pandas"):
        assert got[key] is not None and got[key] > 0


def test_structure_targets_measure_functions_modules_and_the_type_checker(tmp_path: Path) -> None:
    from benchmarks.core import structure_targets
    from benchmarks.structure import measure_sizes

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    body = "\n".join(f"        x = {i}" for i in range(70))
    (pkg / "m.py").write_text(f"def short():\n    return 1\n\n\nclass C:\n    def long(self):\n{body}\n")
    sizes = measure_sizes(tmp_path, "pkg")
    assert sizes["functions"] == 2 and sizes["long_functions"] == [("pkg/m.py:C.long", 71)]
    assert sizes["long_modules"] == []
    got = {
        t["target"]: t for t in structure_targets({**sizes, "mypy": {"ran": True, "errors": 0, "files": []}})
    }
    assert got["connectors: no function > 60 lines"]["met"] is False
    assert "pkg/m.py:C.long 71" in got["connectors: no function > 60 lines"]["figure"]
    assert got["connectors: no module > 500 lines"]["met"] is True
    assert got["connectors: mypy clean"]["met"] is True
    assert all(t["met"] is None for t in structure_targets(None))
