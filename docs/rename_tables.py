"""Rename the warehouse tables Python wrote under names older than the grammar (docs/conventions.md,
"Table names") in every tracked text file: `python docs/rename_tables.py` from the repository root.

Re-runnable: on a tree already renamed it changes nothing, so it can be applied again after merging a
branch that still uses the old names. The mapping is `warehouse.tables.RENAMED` (which also renames the
tables of an existing warehouse). Afterwards: `ruff format` on the files it names (longer names can
push a statement over the line length), and the asset-graph snapshot regenerated
(`CDS_UPDATE_SNAPSHOTS=1 pytest tests/unit/test_asset_graph_snapshot.py`); a SQL fixture case's input
file named after an old table (`tests/sql/<model>/<case>/quarantine_rows.csv`) is renamed too.

- A distinctive old name is replaced wherever it stands as a whole name, except inside a dotted id
  (`cds.reviewer_decisions.v1`, a layout id) or a longer identifier (`quarantine_rows_<stage>`, a
  published measure; `pub_school_scores`).
- `findings` and `school_scores` are also English words, a function (`scoring.school_scores`), published
  lakehouse tables and output files (an external contract that keeps its names): they are replaced only
  where SQL reads or writes them (`FROM findings`, `INTO`, `JOIN`, `TABLE`, `EXISTS`), as a quoted
  name that is not a dictionary key (a table or asset name in Python), or as a backticked name followed
  by "table" in prose; never in `lakehouse/`, `reports/`, the national SQL or the tests of the published
  tables. Prose that names them otherwise (a table of stages in README.md, a docstring's list) is
  edited by hand: on the tree of issue 23 that was README.md (3 mentions), docs/indicators.md (1) and
  the docstring of pipelines/assets/reconcile.py (1).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script beside the docs, run from anywhere: not product code

from warehouse.tables import RENAMED  # noqa: E402

GENERIC = {"findings", "school_scores"}
TEXT = (".py", ".sql", ".md", ".json", ".yaml", ".yml", ".j2", ".toml", ".txt")
SKIP = (
    "connectors/layouts/",
    "sample_exports/",
    "warehouse/tables.py",
    "warehouse/sql_models.py",
    "docs/conventions.md",
    "docs/rename_tables.py",
    "tests/unit/test_table_migration.py",
)
#: Where `findings` / `school_scores` name only the published lakehouse tables or output files.
GENERIC_SKIP = (
    "lakehouse/",
    "reports/",
    "dbt_like_sql/national/",
    "tests/redteam/",
    "tests/integration/test_lakehouse.py",
    "tests/integration/test_simulation.py",
    "tests/unit/snapshots/",
)
DISTINCT = re.compile(r"(?<![\w.])(" + "|".join(n for n in RENAMED if n not in GENERIC) + r")(?![\w]|\.v\d)")
_G = "|".join(GENERIC)
GENERIC_SQL = re.compile(rf"\b(FROM|from|JOIN|join|INTO|into|TABLE|EXISTS) ({_G})(?![\w.])")
GENERIC_QUOTED = re.compile(rf"(?<=[\"'])({_G})(?=[\"'](?!\s*:))")
GENERIC_PROSE = re.compile(rf"(?<=`)({_G})(?=` table)")


def rename_text(path: str, text: str) -> str:
    text = DISTINCT.sub(lambda m: RENAMED[m.group(1)], text)
    if not path.startswith(GENERIC_SKIP):
        text = GENERIC_SQL.sub(lambda m: f"{m.group(1)} {RENAMED[m.group(2)]}", text)
        for rule in (GENERIC_QUOTED, GENERIC_PROSE):
            text = rule.sub(lambda m: RENAMED[m.group(1)], text)
    return text


def main() -> int:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    changed = 0
    for rel in files.stdout.split():
        path = ROOT / rel
        if rel.startswith(SKIP) or not path.is_file():
            continue
        if path.suffix == ".csv" and path.stem in RENAMED and rel.startswith("tests/sql/"):
            new_rel = str(Path(rel).with_name(RENAMED[path.stem] + ".csv"))
            subprocess.run(["git", "mv", rel, new_rel], cwd=ROOT, check=True)
            print("renamed", rel)
            changed += 1
            continue
        if not rel.endswith(TEXT):
            continue
        text = path.read_text(encoding="utf-8")
        new = rename_text(rel, text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print("rewrote", rel)
            changed += 1
    print(f"{changed} files changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
