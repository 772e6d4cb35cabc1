"""The pydantic model of an indicator-set YAML file and its loader.

The loader validates the file (known rule types, unique codes, points within max, bands without gaps,
groups' sums) and reports every problem with the line it is on; problems that do not make the file
unusable (a group whose maximum sum is not 100) are warnings.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError


class Rule(BaseModel):
    """How a criterion's points follow from its computed value."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["presence", "ratio", "composite", "document", "mandatory"]
    target: float = 1.0  # ratio: full points at value >= target
    min_count: int = 1  # presence: full points at numerator >= min_count
    parts: dict[str, float] = Field(default_factory=dict)  # composite: part → weight
    params: dict[str, Any] = Field(default_factory=dict)  # rule parameters used by the SQL models


class Band(BaseModel):
    """A band of a criterion's subtotal: `min`/`max` edges, each inclusive or not."""

    model_config = ConfigDict(extra="forbid")

    label: str
    min: float | None = None
    min_inclusive: bool = True
    max: float | None = None
    max_inclusive: bool = True

    def contains(self, v: float) -> bool:
        lo = self.min is None or (v >= self.min if self.min_inclusive else v > self.min)
        hi = self.max is None or (v <= self.max if self.max_inclusive else v < self.max)
        return lo and hi


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    group: str
    parent: str | None = None
    max_points: float = 0
    mandatory: bool = False
    kind: Literal["data", "document", "composite"] = "data"
    verified: bool = False
    rule: Rule | None = None
    bands: list[Band] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list)  # canonical entities whose rows feed the value
    note: str = ""


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    roman: str
    name: str
    max_points: float = 100


class SchoolYearWindow(BaseModel):
    """The school-year window as MM-DD of its first and last day (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(default="08-01", pattern=r"^\d{2}-\d{2}$")
    end: str = Field(default="07-31", pattern=r"^\d{2}-\d{2}$")


class Levels(BaseModel):
    """Group level from its total: < level_2_min → 1; ≤ level_3_above → 2; > level_3_above → 3."""

    model_config = ConfigDict(extra="forbid")

    level_2_min: float = 50
    level_3_above: float = 75
    names: dict[int, str] = Field(default_factory=lambda: {1: "Mức 1", 2: "Mức 2", 3: "Mức 3"})


class MandatoryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unmet_caps_group_at: int | None = 1
    description: str = ""


class Reconciliation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tolerance_points: float = 1.0
    tolerance_share_of_max: float = 0.10
    severities: dict[str, str] = Field(default_factory=dict)


class IndicatorSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    decision: str = ""
    school_year: SchoolYearWindow = Field(default_factory=SchoolYearWindow)
    seeds: dict[str, str] = Field(default_factory=dict)  # cfg table name → CSV path (relative to the YAML)
    groups: list[Group]
    levels: Levels = Field(default_factory=Levels)
    mandatory_policy: MandatoryPolicy = Field(default_factory=MandatoryPolicy)
    reconciliation: Reconciliation = Field(default_factory=Reconciliation)
    criteria: list[Criterion]
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The YAML file the set was loaded from (seed paths are relative to it)."""
        return self._source

    def leaves(self) -> list[Criterion]:
        """Scored or mandatory criteria (not composite subtotals)."""
        return [c for c in self.criteria if c.kind != "composite"]

    def by_code(self) -> dict[str, Criterion]:
        return {c.code: c for c in self.criteria}

    def group_max_sum(self, group: str) -> float:
        return round(sum(c.max_points for c in self.leaves() if c.group == group and not c.mandatory), 2)

    def level_of(self, total: float) -> int:
        if total > self.levels.level_3_above:
            return 3
        if total >= self.levels.level_2_min:
            return 2
        return 1


@dataclass
class Problem:
    line: int | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"dòng {self.line}" if self.line else "tệp"
        kind = "LỖI" if self.severity == "error" else "CẢNH BÁO"
        return f"{kind} ({where}): {self.message}"


class IndicatorSetError(ValueError):
    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(str(p) for p in problems))


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line of every mapping (as `__line__`)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_lines(v) for k, v in obj.items() if k != "__line__"}
    if isinstance(obj, list):
        return [_strip_lines(v) for v in obj]
    return obj


def _line_of(data: Any, loc: tuple) -> int | None:
    node = data
    line = data.get("__line__") if isinstance(data, dict) else None
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and "__line__" in node:
            line = node["__line__"]
    return line


def check(path: Path) -> tuple[IndicatorSet | None, list[Problem]]:
    """Load and check a file; returns the set (None when it has errors) and every problem found."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(mark.line + 1 if mark else None, f"YAML không hợp lệ: {exc}")]
    problems: list[Problem] = []
    try:
        iset = IndicatorSet.model_validate(_strip_lines(data))
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(Problem(_line_of(data, loc), f"{'.'.join(map(str, loc))}: {err['msg']}"))
        return None, problems
    crit_nodes = data.get("criteria", [])
    seen: dict[str, int] = {}
    groups = {g.code for g in iset.groups}
    for i, c in enumerate(iset.criteria):
        line = crit_nodes[i].get("__line__") if i < len(crit_nodes) else None
        if c.code in seen:
            problems.append(Problem(line, f"mã tiêu chí {c.code} bị trùng (đã có ở dòng {seen[c.code]})"))
        seen[c.code] = line or 0
        if c.group not in groups:
            problems.append(Problem(line, f"tiêu chí {c.code}: nhóm {c.group} không tồn tại"))
        if c.kind != "composite" and c.rule is None:
            problems.append(Problem(line, f"tiêu chí {c.code}: thiếu quy tắc tính điểm (rule)"))
        if c.mandatory and c.max_points:
            problems.append(Problem(line, f"tiêu chí {c.code}: điều kiện bắt buộc không mang điểm"))
        problems.extend(_rule_problems(c, line))
        if c.bands:
            problems.extend(_band_problems(c, line))
    codes = {c.code for c in iset.criteria}
    for i, c in enumerate(iset.criteria):
        line = crit_nodes[i].get("__line__") if i < len(crit_nodes) else None
        if c.parent and c.parent not in codes:
            problems.append(Problem(line, f"tiêu chí {c.code}: tiêu chí cha {c.parent} không tồn tại"))
        if c.kind == "composite":
            kids = [k for k in iset.criteria if k.parent == c.code]
            total = round(sum(k.max_points for k in kids), 2)
            if c.max_points and total > c.max_points:
                problems.append(
                    Problem(
                        line,
                        f"tiêu chí {c.code}: tổng điểm tối đa của tiêu chí con ({total:g}) "
                        f"vượt điểm tối đa ({c.max_points:g})",
                    )
                )
    group_nodes = {g.get("code"): g.get("__line__") for g in data.get("groups", []) if isinstance(g, dict)}
    for g in iset.groups:
        s = iset.group_max_sum(g.code)
        gline = group_nodes.get(g.code)
        if s - g.max_points > 1e-9:
            problems.append(
                Problem(gline, f"nhóm {g.roman} ({g.code}) có tổng điểm tối đa {s:g}, vượt {g.max_points:g}")
            )
        elif abs(s - g.max_points) > 1e-9:
            problems.append(
                Problem(
                    gline,
                    f"nhóm {g.roman} ({g.code}) có tổng điểm tối đa {s:g}, không phải "
                    f"{g.max_points:g}: thiếu {g.max_points - s:g} điểm chưa rõ tiêu chí",
                    "warning",
                )
            )
    base = Path(path).parent
    seed_nodes = data.get("seeds") or {}
    for table, rel in iset.seeds.items():
        if not re.fullmatch(r"cfg_[a-z0-9_]+", table):
            problems.append(
                Problem(seed_nodes.get("__line__"), f"bảng tham chiếu {table}: tên phải có dạng cfg_<tên>")
            )
        if not (base / rel).is_file():
            problems.append(
                Problem(seed_nodes.get("__line__"), f"bảng tham chiếu {table}: không tìm thấy tệp {rel}")
            )
    errors = [p for p in problems if p.severity == "error"]
    return (None if errors else iset), problems


_KIND_RULES = {
    "data": {"presence", "ratio", "composite"},
    "document": {"document", "mandatory"},
    "composite": set(),
}


def _rule_problems(c: Criterion, line: int | None) -> list[Problem]:
    """A leaf's rule must fit its kind; ratio targets are positive; composite weights sum to 1."""
    out: list[Problem] = []
    if c.kind == "composite" and c.rule is not None:
        out.append(Problem(line, f"tiêu chí {c.code}: tiêu chí tổng hợp (composite) không có quy tắc riêng"))
    r = c.rule
    if r is None:
        return out
    if c.kind != "composite" and r.type not in _KIND_RULES[c.kind]:
        out.append(
            Problem(line, f"tiêu chí {c.code}: quy tắc '{r.type}' không dùng được cho loại '{c.kind}'")
        )
    if (r.type == "mandatory") != c.mandatory:
        out.append(
            Problem(
                line, f"tiêu chí {c.code}: chỉ điều kiện bắt buộc (mandatory: true) dùng quy tắc 'mandatory'"
            )
        )
    if r.type in ("ratio", "composite") and r.target <= 0:
        out.append(Problem(line, f"tiêu chí {c.code}: target phải lớn hơn 0"))
    if r.type == "composite":
        if not r.parts:
            out.append(Problem(line, f"tiêu chí {c.code}: quy tắc composite cần 'parts'"))
        elif abs(sum(r.parts.values()) - 1) > 1e-9:
            out.append(
                Problem(
                    line, f"tiêu chí {c.code}: tổng trọng số các phần ({sum(r.parts.values()):g}) phải bằng 1"
                )
            )
    if c.kind != "composite" and not c.mandatory and c.max_points <= 0:
        out.append(Problem(line, f"tiêu chí {c.code}: điểm tối đa phải lớn hơn 0"))
    return out


def _band_problems(c: Criterion, line: int | None) -> list[Problem]:
    out: list[Problem] = []
    bands = sorted(c.bands, key=lambda b: b.min if b.min is not None else float("-inf"))
    if bands and bands[0].min is not None:
        out.append(
            Problem(line, f"tiêu chí {c.code}: khoảng đầu tiên '{bands[0].label}' phải không có cận dưới")
        )
    if bands and bands[-1].max is not None:
        out.append(
            Problem(line, f"tiêu chí {c.code}: khoảng cuối '{bands[-1].label}' phải không có cận trên")
        )
    for a, b in itertools.pairwise(bands):
        meet = a.max is not None and b.min is not None and abs(a.max - b.min) < 1e-9
        if not meet or (a.max_inclusive == b.min_inclusive):
            kind = "chồng nhau" if meet and a.max_inclusive and b.min_inclusive else "có chỗ hở"
            out.append(Problem(line, f"tiêu chí {c.code}: các khoảng '{a.label}' và '{b.label}' {kind}"))
    return out


_LOADED: dict[tuple[str, str], IndicatorSet] = {}


def load_indicator_set(path: Path | str) -> IndicatorSet:
    """Load a file, raising `IndicatorSetError` (with the lines) when it has errors.

    The result is kept per (file, content hash): every stage of a run asks for the set, and parsing and
    checking it costs a noticeable share of a small run. Treat the returned set as read-only."""
    key = (str(Path(path).resolve()), hashlib.sha256(Path(path).read_bytes()).hexdigest())
    hit = _LOADED.get(key)
    if hit is not None and hit._source == Path(path):
        return hit
    iset, problems = check(Path(path))
    if iset is None:
        raise IndicatorSetError(Path(path), [p for p in problems if p.severity == "error"])
    iset._source = Path(path)
    _LOADED[key] = iset
    return iset
