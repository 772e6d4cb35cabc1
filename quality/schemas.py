"""The one home of the pandera schemas: one per canonical entity, generated from
`connectors/entities.yaml` (types, allowed values, ranges, id patterns), every field described."""

from __future__ import annotations

from functools import cache

import pandera.pandas as pa

from connectors.entities import Column, load_entities

_DTYPES = {"text": object, "int": "Int64", "float": "Float64", "bool": "boolean", "date": "datetime64[us]",
           "timestamp": "datetime64[us]"}  # fmt: skip


def _checks(c: Column) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if c.allowed:
        checks.append(pa.Check.isin(list(c.allowed), name=f"{c.name} ∈ danh mục"))
    if c.min is not None:
        checks.append(pa.Check.ge(c.min, name=f"{c.name} >= {c.min:g}"))
    if c.max is not None:
        checks.append(pa.Check.le(c.max, name=f"{c.name} <= {c.max:g}"))
    if c.pattern:
        checks.append(pa.Check.str_matches(c.pattern, name=f"{c.name} khớp {c.pattern}"))
    return checks


@cache
def schema_for(entity: str) -> pa.DataFrameSchema:
    """pandera schema of one canonical entity (columns optional: a layout may not carry them)."""
    ent = load_entities()[entity]
    cols = {
        c.name: pa.Column(None, checks=_checks(c), nullable=True, required=False, description=c.description,
                          title=c.name)  # fmt: skip
        for c in ent.columns
    }
    cols["school_code"] = pa.Column(
        None, checks=[pa.Check.str_matches(r"^[0-9A-Za-z]{1,20}$", name="school_code đúng định dạng")],
        nullable=False, required=True, description="Mã trường",
    )  # fmt: skip
    cols["school_year"] = pa.Column(
        None, checks=[pa.Check.str_matches(r"^\d{4}-\d{4}$", name="school_year dạng YYYY-YYYY")],
        nullable=False, required=True, description="Năm học",
    )  # fmt: skip
    return pa.DataFrameSchema(cols, name=entity, description=ent.description, strict=False, coerce=False)
