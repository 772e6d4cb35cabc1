"""The structure targets of the connectors (issue 18): function and module lengths, measured with `ast`
on the source, and the type checker's verdict (mypy, when installed). Read by `cds-bench`; no timing.

    python -m benchmarks.structure            # prints the figures as JSON
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "connectors"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500


def function_lengths(path: Path) -> list[tuple[str, int]]:
    """(qualified name, lines from `def` to its last line) of every function of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, int]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                out.append((name, (child.end_lineno or child.lineno) - child.lineno + 1))
                walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")

    walk(tree, "")
    return out


def measure_sizes(root: Path = REPO_ROOT, package: str = PACKAGE) -> dict[str, Any]:
    """Functions over MAX_FUNCTION_LINES and modules over MAX_MODULE_LINES of a package (longest first)."""
    long_functions: list[tuple[str, int]] = []
    long_modules: list[tuple[str, int]] = []
    n_functions = 0
    for path in sorted((root / package).rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            long_modules.append((rel, lines))
        fns = function_lengths(path)
        n_functions += len(fns)
        long_functions += [(f"{rel}:{name}", n) for name, n in fns if n > MAX_FUNCTION_LINES]
    return {
        "functions": n_functions,
        "long_functions": sorted(long_functions, key=lambda x: -x[1]),
        "long_modules": sorted(long_modules, key=lambda x: -x[1]),
    }


def run_mypy(root: Path = REPO_ROOT, package: str = PACKAGE) -> dict[str, Any]:
    """mypy on the package with the project's configuration: its error count, or why it did not run."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", package], cwd=root, capture_output=True, text=True, timeout=900
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"ran": False, "why": type(exc).__name__}
    if "No module named mypy" in proc.stderr:
        return {"ran": False, "why": "mypy not installed (pip install -e '.[dev]')"}
    m = re.search(r"Found (\d+) errors? in (\d+) files?", proc.stdout)
    errors = int(m.group(1)) if m else (0 if proc.returncode == 0 else None)
    files = sorted({ln.split(":", 1)[0] for ln in proc.stdout.splitlines() if ": error:" in ln})
    return {
        "ran": errors is not None,
        "errors": errors,
        "files": files,
        "why": "" if errors is not None else proc.stdout[-300:] + proc.stderr[-300:],
    }


def measure_structure(root: Path = REPO_ROOT) -> dict[str, Any]:
    """Sizes and the type check of the connectors, for the targets of `cds-bench`."""
    return {**measure_sizes(root), "mypy": run_mypy(root)}


if __name__ == "__main__":
    print(json.dumps(measure_structure(), indent=2, ensure_ascii=False))
