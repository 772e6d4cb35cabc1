"""`cds layout draft FILE --id vendor.name.v1` (issue 19): a layout YAML drafted from one file's header, for
a person to review and drop into `connectors/layouts/` (adding a layout is data, not code).

What belongs here: drafting (`draft_layout`) and writing the draft as commented YAML (`DraftLayout.yaml`).
The draft uses the parser's own steps: the header row and its tiers are those the parser finds (a known
layout's match, else a near miss, else the row whose cells most layouts know); the nearest layout is the
one whose columns the header shares most (the parser's evidence score); each header column is mapped to
that layout's canonical column (else to another layout's of the same entity), its text first among the
synonyms; entity, key, shape, metadata and options come from the nearest layout. Comments say where each
metadata item sits (a column, a title phrase, the file name, the delivery folders) and which columns the
draft leaves unread. The draft is validated with the pydantic layout model before it is shown; nothing is
stored. A JSON export has no YAML layout to draft (JSON layouts are code, detected by their keys):
`json_draft_text` gives its JSON layout's columns and the keys it does not read instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connectors import normalize as nz
from connectors.filedrop import choose
from connectors.layouts import Layout, load_layouts
from connectors.messages import REASONS_VI
from connectors.readers import JSON_TYPES, FileRejected, read_grids
from connectors.reshapers import account_columns
from connectors.sheet_parser import (
    HEADER_SCAN_ROWS,
    Grid,
    HeaderMatch,
    NearMiss,
    evidence_score,
    find_headers,
    header_depth,
    map_columns,
    parse_title,
)

_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+\.v\d+$")
MAX_HEADER_ROWS = 4
# Where an ingest takes an item when no column gives it (sheet_parser.finish_rows): the delivery folders.
FOLDER_ITEMS = {"school_year": "thư mục năm học <năm học>/", "school_code": "thư mục trường <mã trường>/"}


class DraftError(ValueError):
    """The file gives nothing to draft from (no sheet with a header any layout knows); Vietnamese text."""


@dataclass
class DraftLayout:
    """A drafted layout (`data`, validated), the sheet and header rows it was drafted from, and the
    review notes written as comments above it."""

    data: dict[str, Any]
    sheet: str
    header_rows: tuple[int, int]
    nearest: str
    notes: list[str] = field(default_factory=list)

    @property
    def layout(self) -> Layout:
        return Layout.model_validate(self.data)

    def yaml(self) -> str:
        head = [
            f"# Bản phác thảo mẫu báo cáo (cds layout draft) từ trang «{self.sheet}», tiêu đề cột dòng "
            f"{self.header_rows[0]}–{self.header_rows[1]}; mẫu gần nhất: {self.nearest}.",
            "# Cần người xem lại trước khi đặt vào connectors/layouts/ "
            "(cột neo, khóa, cột không đọc, thông tin).",
            *[f"# {n}" for n in self.notes],
        ]
        return "\n".join([*head, *_yaml_lines(self.data)]) + "\n"


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10**6, sort_keys=False)
    return text.strip().removesuffix("...").strip()  # a scalar's document-end marker


def _yaml_lines(data: dict[str, Any]) -> list[str]:
    """The layout in the style of `connectors/layouts/`: one line per item, one line per column."""
    lines: list[str] = []
    for k, v in data.items():
        if k == "columns":
            lines.append("columns:")
            lines.extend(f"  {name}: {_flow(spec)}" for name, spec in v.items())
        elif k == "row_checks":
            lines.append("row_checks:")
            lines.extend(f"  - {_flow(rc)}" for rc in v)
        else:
            lines.append(f"{k}: {_flow(v)}")
    return lines


def _best_row(grid: Grid, layouts: tuple[Layout, ...]) -> int | None:
    """The row of the first rows whose cells are header texts of the most layouts' columns."""
    known: set[str] = set()
    for lay in layouts:
        known.update(lay.header_index())
    best: tuple[int, int] | None = None
    top = grid.values[:HEADER_SCAN_ROWS]
    for i, r in enumerate(grid.row_index[:HEADER_SCAN_ROWS].tolist()):
        n = sum(1 for v in top[i].tolist() if isinstance(v, str) and known & set(nz.header_forms(v)))
        if n >= 2 and (best is None or n > best[1]):
            best = (int(r), n)
    return best[0] if best else None


def _locate(grid: Grid, layouts: tuple[Layout, ...]) -> tuple[HeaderMatch, str] | None:
    """The header of `grid` and its nearest layout: the parser's choice, else its nearest miss, else the
    best-known row mapped against every layout (highest evidence score)."""
    near: list[NearMiss] = []
    matches = find_headers(grid, layouts, near)
    match, _ = choose(matches)
    if match is None and matches:
        match = max(matches, key=lambda m: m.score)
    if match is not None:
        return match, "khớp mẫu"
    rows = [(nm.row, [nm.layout]) for nm in near]
    if not rows:
        row = _best_row(grid, layouts)
        if row is None:
            return None
        rows = [(row, list(layouts))]
    best: HeaderMatch | None = None
    for row, cands in rows:
        for lay in cands:
            mapping1, _ = map_columns(grid, row, 1, lay)
            key_col = next((c for c, n in mapping1.items() if n == lay.key), None)
            depth = header_depth(grid, row, key_col, MAX_HEADER_ROWS)
            mapping, paths = map_columns(grid, row, depth, lay)
            score = evidence_score(lay, paths, mapping, layouts)
            if mapping and (best is None or score > best.score):
                best = HeaderMatch(lay, row, depth, mapping, paths, score)
    return (best, "gần khớp") if best is not None else None


def _spec(layout: Layout, name: str, header: str) -> dict[str, Any]:
    """The layout's column spec with the file's header text (spaces and line breaks collapsed) first among
    its synonyms."""
    header = " ".join(header.split())
    spec = layout.columns[name].model_dump(exclude_defaults=True)
    spec["headers"] = [header, *[h for h in spec["headers"] if nz.norm(h) != nz.norm(header)]]
    return spec


def _metadata_notes(grid: Grid, match: HeaderMatch, columns: dict[str, Any], path: Path) -> list[str]:
    """Where each metadata item of the nearest layout sits in this file."""
    title = parse_title(grid.values[grid.span(None, match.row - 1)])
    items = list(
        dict.fromkeys([*match.layout.required_metadata, *match.layout.options.get("title_meta", [])])
    )
    period = nz.period_of_file_name(path.name)
    notes: list[str] = []
    for item in items:
        if item in columns:
            notes.append(f"thông tin {item}: cột «{columns[item]['headers'][0]}»")
        elif item in title:
            phrase = title.get(f"_{item}_title")
            notes.append(
                f"thông tin {item}: dòng tiêu đề" + (f" «{phrase}»" if phrase else "") + f" → {title[item]}"
            )
        elif item in FOLDER_ITEMS:
            notes.append(f"thông tin {item}: {FOLDER_ITEMS[item]} của tệp")
        elif item == "period" and period:
            notes.append(f"thông tin period: tên tệp → {period} (options.file_name_meta: [period])")
        else:
            notes.append(f"thông tin {item}: KHÔNG THẤY trong tệp — cần xem lại")
    return notes


def json_draft_text(path: Path, layout_id: str) -> str:
    """For a JSON export: no YAML draft (JSON layouts are code in connectors/json_layouts.py, detected by
    their keys) but the JSON layout that reads it, where each canonical column comes from and the keys it
    does not read, as YAML comments (Vietnamese)."""
    from connectors.inspection import describe_json

    desc = describe_json(path)
    head = [
        f"Tệp «{path.name}» là JSON: không phác thảo mẫu YAML (mẫu JSON là mã trong "
        "connectors/json_layouts.py, nhận theo khóa chứ không theo tên tệp; một dạng JSON mới cần thêm mã, "
        f"mã mẫu «{layout_id}» không dùng đến).",
    ]
    if desc.layout is not None:
        head.append("Mẫu JSON đang đọc tệp này và nguồn của từng cột:")
    return "".join(f"# {line}\n" for line in [*head, *desc.lines()])


def draft_layout(path: Path, layout_id: str, layouts: tuple[Layout, ...] | None = None) -> DraftLayout:
    """Draft a layout with id `layout_id` (`vendor.name.v1`) from the header of `path`'s first sheet that
    has one; raises `DraftError` (Vietnamese) when the id is malformed or no sheet has a known header."""
    if not _ID.match(layout_id):
        raise DraftError(f"mã mẫu «{layout_id}» không đúng dạng nhà_cung_cấp.tên.v1 (chữ thường, số, _)")
    if path.suffix.lower() in JSON_TYPES:
        raise DraftError(
            f"tệp «{path.name}» là JSON: mẫu JSON nằm trong connectors/json_layouts.py, chưa phác thảo được"
        )
    layouts = layouts or load_layouts()
    grid, match, how = _first_header(path, layouts)
    near = match.layout
    columns = _draft_columns(grid, match, layouts)
    anchors = _draft_anchors(grid, match, columns)
    key = near.key if near.key in columns else next(iter(columns), near.key)
    data = _draft_data(layout_id, near, key, _draft_options(path, grid, match, columns), columns, anchors)
    draft = DraftLayout(data, grid.sheet, (match.row, match.row + match.depth - 1), near.id)
    lay = draft.layout  # validated: a draft the registry could not load is never shown
    notes = [
        f"cách tìm: {how} {near.id} ({match.score} điểm)"
        + (f"; xếp thứ hai {match.runner_up[0]} ({match.runner_up[1]} điểm)" if match.runner_up else "")
    ]
    if not near.id.startswith(layout_id.split(".")[0] + "."):
        notes.append(f"source_system lấy từ mẫu gần nhất ({near.source_system}): sửa nếu nhà cung cấp khác")
    notes += _metadata_notes(grid, match, columns, path)
    draft.notes = notes + _column_notes(grid, match, lay, columns)
    return draft


def _first_header(path: Path, layouts: tuple[Layout, ...]) -> tuple[Grid, HeaderMatch, str]:
    """The first sheet of the file with a known header, its match and how it was found."""
    try:
        grids = read_grids(path)
    except FileRejected as exc:
        raise DraftError(f"không đọc được tệp «{path.name}»: {REASONS_VI.get(exc.code, exc.code)}") from exc
    for grid in grids:
        if not grid.empty and (located := _locate(grid, layouts)) is not None:
            return (grid, *located)
    raise DraftError(f"tệp «{path.name}» không có trang nào có dòng tiêu đề cột quen thuộc để phác thảo")


def _draft_columns(grid: Grid, match: HeaderMatch, layouts: tuple[Layout, ...]) -> dict[str, dict[str, Any]]:
    """The draft's columns in the file's order: those the nearest layout maps, then those another layout
    of the same entity maps, each spec taken from the layout that maps it."""
    near, paths = match.layout, match.paths
    columns: dict[str, dict[str, Any]] = {}
    by_col: dict[int, str] = {}
    for c, name in sorted(match.mapping.items()):
        columns[name] = _spec(near, name, paths[c][-1])
        by_col[c] = name
    for other in [lay for lay in layouts if lay.entity == near.entity and lay is not near]:
        mapping, _ = map_columns(grid, match.row, match.depth, other)
        for c, name in sorted(mapping.items()):
            if c not in by_col and name not in columns and c in paths:
                columns[name] = _spec(other, name, paths[c][-1])
                by_col[c] = name
    return {by_col[c]: columns[by_col[c]] for c in sorted(by_col)}  # the file's column order


def _draft_anchors(grid: Grid, match: HeaderMatch, columns: dict[str, dict[str, Any]]) -> list[str]:
    """Mark the draft's anchor columns (the nearest layout's; when fewer than 2, the file's own top-row
    headers the parser maps, key first) in `columns`; returns them."""
    near = match.layout
    top_row = {
        nz.norm(v)
        for v in grid.values[grid.span(match.row, match.row)].ravel().tolist()
        if isinstance(v, str)
    }
    anchors = [n for n in columns if near.columns.get(n) is not None and near.columns[n].anchor]
    for n in anchors:
        columns[n]["anchor"] = True
    for n, spec in columns.items():
        if n not in anchors:
            spec.pop("anchor", None)
    if len(anchors) < 2:  # too few: add the file's own top-row headers the parser maps (key first)
        extra = sorted(
            (n for n in columns if n not in anchors and nz.norm(columns[n]["headers"][0]) in top_row),
            key=lambda n: n != near.key,
        )
        for n in extra[: 2 - len(anchors)]:
            columns[n]["anchor"] = True
            anchors.append(n)
    return anchors


def _draft_options(path: Path, grid: Grid, match: HeaderMatch, columns: dict[str, dict[str, Any]]) -> dict:
    """The nearest layout's options, with the header depth read from the file and the period taken from
    the file name when neither a column nor the title gives it."""
    near = match.layout
    options = dict(near.options)
    if match.depth > 1 or "header_rows" in options:
        options["header_rows"] = max(match.depth, int(options.get("header_rows", 1)))
    period = nz.period_of_file_name(path.name)
    if period and "period" in near.required_metadata and "period" not in columns:
        title = parse_title(grid.values[grid.span(None, match.row - 1)])
        if "period" not in title:
            options["file_name_meta"] = sorted({*options.get("file_name_meta", []), "period"})
    return options


def _draft_data(
    layout_id: str,
    near: Layout,
    key: str,
    options: dict,
    columns: dict[str, dict[str, Any]],
    anchors: list[str],
) -> dict[str, Any]:
    """The draft's YAML content: the nearest layout's settings that still apply to the drafted columns."""
    data: dict[str, Any] = {
        "id": layout_id,
        "entity": near.entity,
        "source_system": near.source_system,
        "tag": "seen",
        "key": key,
    }
    if near.shape != "table":
        data["shape"] = near.shape
    if near.required_metadata:
        data["required_metadata"] = list(near.required_metadata)
    if options:
        data["options"] = options
    if near.post:
        data["post"] = list(near.post)
    if near.min_anchor_count:
        data["min_anchor_count"] = min(near.min_anchor_count, len(anchors))
    if near.read_by:
        data["read_by"] = near.read_by
    if near.constants:
        data["constants"] = dict(near.constants)
    data["columns"] = columns
    kept_checks = [rc.model_dump() for rc in near.row_checks if rc.column in columns]
    if kept_checks:
        data["row_checks"] = kept_checks
    derived = {k: v for k, v in near.derived.items() if v.get("from") in columns}
    if derived:
        data["derived"] = derived
    return data


def _column_notes(
    grid: Grid, match: HeaderMatch, lay: Layout, columns: dict[str, dict[str, Any]]
) -> list[str]:
    """Notes on the file's columns the drafted layout reads as marks, or does not read though they hold
    data."""
    mapping, mpaths = map_columns(grid, match.row, match.depth, lay)
    uses = account_columns(grid, HeaderMatch(lay, match.row, match.depth, mapping, mpaths, 0))
    notes: list[str] = []
    marks = [u for u in uses if u.use.startswith("mark:") and u.use[5:] not in columns]
    if marks:
        notes.append(f"cột điểm/đánh giá đọc theo dạng {lay.shape}: " + ", ".join(u.letter for u in marks))
    for u in (u for u in uses if not u.read and u.non_empty):
        notes.append(
            f"cột {u.letter} «{' '.join(u.header.split())}» có dữ liệu nhưng KHÔNG ĐỌC: thêm cột nếu cần"
        )
    return notes


__all__ = ["DraftError", "DraftLayout", "draft_layout", "json_draft_text"]
