"""Platform layout definitions: the pydantic model of `layouts/*.yaml` and the registry that loads them.

A layout says which entity a file holds, which header texts (with synonyms) map to which canonical
column, which columns are anchors (required for detection), how each value is parsed and mapped, and
which metadata must come from the title when no column gives it. Adding a platform layout means
adding one YAML file here, not code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.entities import YAML_LOADER, load_entities
from connectors.messages import REASONS_VI
from connectors.text import header_forms, norm
from connectors.vocabulary import vocabulary

LAYOUT_DIR = Path(__file__).with_name("layouts")

Parse = Literal[
    "text",
    "id",
    "school_code",
    "int",
    "float",
    "amount",
    "date",
    "datetime",
    "flag",
    "sex",
    "female_flag",
    "class_name",
    "school_year",
    "semester",
    "period",
    "subject",
    "citizen_id",
    "phone",
    "grade",
]


class ColumnSpec(BaseModel):
    """How one canonical column is found and parsed."""

    model_config = ConfigDict(extra="forbid")

    headers: list[str]
    anchor: bool = False
    role: Literal["value", "ignore", "mark"] = "value"  # mark: a wide column a reshaper turns into rows
    parse: Parse = "text"
    width: int | None = None
    upper: bool = False
    min: float | None = None
    max: float | None = None
    values: dict[str, Any] | None = None
    unknown: Literal["reject", "null", "keep", "warn"] | str | None = "reject"
    parent: str | None = None  # required parent header (norm form) when the leaf is ambiguous

    def header_keys(self) -> set[str]:
        cached = self.__dict__.get("_keys_cache")
        if cached is not None:
            return cached
        keys: set[str] = set()
        shared = vocabulary().common
        for h in self.headers:  # a shared synonym follows its header into every layout (vocabulary)
            for word in [h, *shared.synonyms_of(h)]:
                keys.update(header_forms(word))
        self.__dict__["_keys_cache"] = keys
        return keys


class RowCheck(BaseModel):
    """A row-level rule between columns of one row (evaluated with pandas `eval`)."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    column: str
    reason: str = "out_of_range"
    expected: str = ""


class Layout(BaseModel):
    """One platform export layout (docs/exports.md §3)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    entity: str
    source_system: str
    tag: Literal["seen", "project"] = "project"
    key: str
    required_metadata: list[str] = Field(default_factory=list)
    columns: dict[str, ColumnSpec]
    row_checks: list[RowCheck] = Field(default_factory=list)
    derived: dict[str, dict[str, Any]] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    shape: str = "table"  # "table" or the name of a reshaper in connectors.reshapers
    post: list[str] = Field(default_factory=list)  # named row post-processors (connectors.derive)
    options: dict[str, Any] = Field(default_factory=dict)
    min_anchor_count: int | None = None
    # A layout this connector recognises but does not load: another step reads its files (e.g. the
    # reviewers' returned workbooks, read by the reviewer-decisions step). The file is listed in the
    # manifest as loaded with 0 rows and this reason code, never quarantined as unrecognised.
    read_by: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Layout:
        entities = load_entities()
        if self.read_by is not None:
            if self.read_by not in REASONS_VI:
                raise ValueError(f"read_by {self.read_by!r} has no Vietnamese text in connectors/messages.py")
        elif self.entity not in entities:
            raise ValueError(f"unknown entity {self.entity!r}")
        if self.key not in self.columns:
            raise ValueError(f"key column {self.key!r} is not a column of the layout")
        return self

    @property
    def anchors(self) -> dict[str, set[str]]:
        """Anchor column → its header forms (computed once: a layout does not change once loaded)."""
        cached = self.__dict__.get("_anchors_cache")
        if cached is None:
            cached = {name: spec.header_keys() for name, spec in self.columns.items() if spec.anchor}
            self.__dict__["_anchors_cache"] = cached
        return cached

    def header_index(self) -> dict[str, list[str]]:
        """norm(header form) → canonical column names that accept it (computed once)."""
        cached = self.__dict__.get("_index_cache")
        if cached is not None:
            return cached
        idx: dict[str, list[str]] = {}
        for name, spec in self.columns.items():
            for k in spec.header_keys():
                idx.setdefault(k, []).append(name)
        self.__dict__["_index_cache"] = idx
        return idx


@cache
def load_layouts(layout_dir: Path = LAYOUT_DIR) -> tuple[Layout, ...]:
    """All layouts, in file-name order (ties between layouts of one entity go to the first)."""
    out = []
    for path in sorted(layout_dir.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        try:
            out.append(Layout.model_validate(data))
        except Exception as exc:  # pragma: no cover - surfaced by the layout test
            raise ValueError(f"{path.name}: {exc}") from exc
    order = {name: i for i, name in enumerate(load_entities())}
    return tuple(sorted(out, key=lambda lay: (order.get(lay.entity, 99), lay.options.get("priority", 50))))


def value_lookup(spec: ColumnSpec) -> dict[str, Any]:
    """norm(raw value) → canonical value for a column with a value map."""
    return {norm(k): v for k, v in (spec.values or {}).items()}


__all__ = ["ColumnSpec", "Layout", "load_layouts", "norm", "value_lookup"]
