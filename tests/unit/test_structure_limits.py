"""The structure limits of the connectors (issue 18): no module over 500 lines, no function over 60 lines,
measured on the source with `ast` by `benchmarks.structure` (the measure `cds-bench` reports)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.structure import MAX_FUNCTION_LINES, MAX_MODULE_LINES, PACKAGE, measure_sizes

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def test_no_connectors_module_over_500_lines() -> None:
    assert MAX_MODULE_LINES == 500
    sizes = measure_sizes(REPO, PACKAGE)
    assert sizes["functions"] > 0  # the package was found and walked
    assert sizes["long_modules"] == [], f"modules over {MAX_MODULE_LINES} lines: split them by job"


def test_no_connectors_function_over_60_lines() -> None:
    assert MAX_FUNCTION_LINES == 60
    sizes = measure_sizes(REPO, PACKAGE)
    assert sizes["long_functions"] == [], (
        f"functions over {MAX_FUNCTION_LINES} lines: split them into named steps"
    )


def test_the_measure_sees_a_long_module_and_a_long_function(tmp_path: Path) -> None:
    """The limits fail when they should: a 501-line module with a 61-line function is reported."""
    pkg = tmp_path / PACKAGE
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    tail = "\n".join(f"y{i} = {i}" for i in range(MAX_MODULE_LINES + 1 - 61))
    (pkg / "big.py").write_text(f"def long():\n{body}\n{tail}\n")
    sizes = measure_sizes(tmp_path, PACKAGE)
    assert sizes["long_functions"] == [(f"{PACKAGE}/big.py:long", 61)]
    assert sizes["long_modules"] == [(f"{PACKAGE}/big.py", 501)]
