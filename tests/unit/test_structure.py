"""Structure checks anyone can run (issue 23): imports point down the layers, product code never edits
`sys.path`, and DuckDB is opened in one module. Each check reads the source with `ast`, so a function-level
import counts as much as a top-level one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
#: package → the packages it must never import (the layers above it)
FORBIDDEN = {
    "warehouse": {
        "pipelines",
        "connectors",
        "quality",
        "reports",
        "indicator_sets",
        "lakehouse",
        "benchmarks",
    },
    "connectors": {"pipelines", "quality", "reports", "lakehouse", "benchmarks"},
    "indicator_sets": {"pipelines", "reports", "lakehouse", "benchmarks"},
    "quality": {"pipelines", "lakehouse", "benchmarks"},
    "reports": {"pipelines", "lakehouse", "benchmarks"},
    "lakehouse": {"pipelines", "benchmarks"},
    "pipelines": {"benchmarks"},
}
PRODUCT = [*FORBIDDEN, "sample_exports", "benchmarks"]
CONNECTION_MODULE = "warehouse/connection.py"


def _modules(packages: list[str]) -> list[Path]:
    return [p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py")) if "inbox" not in p.parts]


def _imported(tree: ast.AST) -> set[str]:
    """Top-level package names a module imports, wherever the import statement sits."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imports_point_down_the_layers() -> None:
    upward = []
    for pkg, above in FORBIDDEN.items():
        for path in _modules([pkg]):
            bad = _imported(ast.parse(path.read_text(encoding="utf-8"))) & above
            upward.extend(f"{path.relative_to(ROOT)} imports {name}" for name in sorted(bad))
    assert not upward, "imports that run upward:\n" + "\n".join(upward)


def test_product_code_never_edits_sys_path() -> None:
    found = [
        str(p.relative_to(ROOT))
        for p in _modules(PRODUCT)
        if any(
            isinstance(n, ast.Attribute)
            and n.attr == "path"
            and isinstance(n.value, ast.Name)
            and n.value.id == "sys"
            for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        )
    ]
    assert not found, f"sys.path used in {found}"


def test_duckdb_is_opened_in_one_module() -> None:
    opened = []
    for path in _modules(PRODUCT):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "connect"
                and isinstance(func.value, ast.Name)
                and func.value.id == "duckdb"
            ):
                opened.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert opened and all(o.startswith(CONNECTION_MODULE + ":") for o in opened), opened
