"""Turn an indicator set into the `cfg_*` tables the SQL models read, and load them into DuckDB.

Rule parameters reach SQL as data, never as text formatted into a query:

- `cfg_criteria`: one row per criterion (code, group, parent, kind, rule type, max points, target, …);
- `cfg_params`: one row per criterion × parameter × key × value (lists and mappings are flattened; the
  set-wide school-year window is stored under criterion `*`); every value is text, the SQL casts it;
- `cfg_criterion_inputs`: one row per criterion × canonical entity whose rows feed it (provenance);
- one table per seed CSV of the set (`seeds:`), e.g. `cfg_subjects`, `cfg_tx_required`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from indicator_sets.model import IndicatorSet, load_indicator_set


def _flatten(code: str, name: str, value: Any) -> list[dict[str, Any]]:
    """A parameter → rows (criterion_code, param, key, value); mappings give keys, lists give rows."""
    if isinstance(value, dict):
        rows: list[dict[str, Any]] = []
        for k, v in value.items():
            items = v if isinstance(v, list) else [v]
            if not items:  # an empty list is kept as a key with no value (e.g. GDTX: no entry grade)
                rows.append({"criterion_code": code, "param": name, "key": str(k), "value": None})
            rows.extend(
                {"criterion_code": code, "param": name, "key": str(k), "value": _text(i)} for i in items
            )
        return rows
    items = value if isinstance(value, list) else [value]
    return [{"criterion_code": code, "param": name, "key": None, "value": _text(i)} for i in items]


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def config_frames(iset: IndicatorSet, base: Path | None = None) -> dict[str, pd.DataFrame]:
    """Every cfg table of the set as a DataFrame (seed CSVs read relative to `base`)."""
    crit_rows: list[dict[str, Any]] = []
    param_rows: list[dict[str, Any]] = []
    input_rows: list[dict[str, Any]] = []
    for c in iset.criteria:
        r = c.rule
        crit_rows.append(
            {
                "criterion_code": c.code,
                "group_code": c.group,
                "parent_code": c.parent,
                "name": c.name,
                "kind": c.kind,
                "rule_type": r.type if r else None,
                "max_points": float(c.max_points),
                "is_mandatory": c.mandatory,
                "is_leaf": c.kind != "composite",
                "verified": c.verified,
                "target": float(r.target) if r else None,
                "min_count": int(r.min_count) if r else None,
            }
        )
        if r:
            for name, value in r.params.items():
                param_rows.extend(_flatten(c.code, name, value))
            if r.parts:
                param_rows.extend(_flatten(c.code, "parts", r.parts))
        input_rows.extend({"criterion_code": c.code, "entity": e} for e in c.inputs)
    param_rows.extend(_flatten("*", "year_start", iset.school_year.start))
    param_rows.extend(_flatten("*", "year_end", iset.school_year.end))
    frames = {
        "cfg_criteria": pd.DataFrame(crit_rows),
        "cfg_params": pd.DataFrame(param_rows, columns=["criterion_code", "param", "key", "value"]).astype(
            "object"
        ),
        "cfg_criterion_inputs": pd.DataFrame(input_rows, columns=["criterion_code", "entity"]),
    }
    base = base or (iset.source.parent if iset.source else Path.cwd())
    for table, rel in iset.seeds.items():
        frames[table] = pd.read_csv(base / rel, dtype={"subject_code": "string"})
    return frames


def load_config_tables(con: duckdb.DuckDBPyConnection, iset: IndicatorSet | Path | str) -> dict[str, int]:
    """(Re)create every cfg table in DuckDB; returns table → row count."""
    if not isinstance(iset, IndicatorSet):
        iset = load_indicator_set(iset)
    counts: dict[str, int] = {}
    for table, frame in config_frames(iset).items():
        con.register("_cfg_frame", frame)
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _cfg_frame"
            )  # name checked by check()
        finally:
            con.unregister("_cfg_frame")
        counts[table] = len(frame)
    return counts
