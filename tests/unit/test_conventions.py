"""Project conventions that reviews would otherwise have to catch: every module says what belongs in
it, every SQL model states its purpose and grain, no tracked file names a machine path."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from warehouse.sql_models import discover, discover_audits, has_header

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "warehouse",
    "benchmarks",
    "pipelines",
    "lakehouse",
    "connectors",
    "indicator_sets",
    "sample_exports",
    "quality",
    "reports",
]


def python_modules() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py")) if "inbox" not in p.parts]


@pytest.mark.parametrize("path", python_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_has_a_docstring(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"


def test_every_sql_model_states_purpose_and_grain() -> None:
    models = {**discover(), **discover_audits()}
    assert models, "no SQL models found"
    missing = [m.name for m in models.values() if not has_header(m)]
    assert not missing, f"models without '-- purpose:' and '-- grain:' header: {missing}"


def test_no_machine_paths_in_tracked_files() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    bad = []
    for f in files:
        p = ROOT / f
        if p.suffix.lower() not in {".py", ".md", ".yaml", ".yml", ".toml", ".sql", ".txt", ".cfg", ""}:
            continue
        if not p.is_file():
            continue
        text = p.read_text(encoding="utf-8", errors="ignore")
        for marker in ("/work/", "/root/", "/home/", "/tmp/"):
            if marker in text and f != "tests/unit/test_conventions.py":
                bad.append(f"{f}: {marker}")
    assert not bad, bad


#: the packages whose Python says `school_year` for a school year (sample_exports' generator is test tooling)
SCHOOL_YEAR_PACKAGES = [p for p in PACKAGES if p != "sample_exports"]


def bare_year_uses(tree: ast.AST) -> list[int]:
    """Lines where a name, parameter, keyword or field is called `year` (a date's `.year` is fine)."""
    lines = []
    for node in ast.walk(tree):
        if (
            (isinstance(node, ast.Name) and node.id == "year")
            or (isinstance(node, ast.arg) and node.arg == "year")
            or (isinstance(node, ast.keyword) and node.arg == "year")
        ):
            lines.append(node.lineno)
    return lines


def test_the_school_year_has_one_name() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for pkg in SCHOOL_YEAR_PACKAGES
        for path in sorted((ROOT / pkg).rglob("*.py"))
        for line in bare_year_uses(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "say `school_year`, not `year` (docs/conventions.md): " + ", ".join(found)


def test_the_school_year_check_sees_each_kind_of_use() -> None:
    planted = "def f(year):\n    return g(year=year)\n\nclass C:\n    year: str\n\nd.year\n"
    assert sorted(bare_year_uses(ast.parse(planted))) == [1, 2, 2, 5]
