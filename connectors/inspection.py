"""`cds inspect FILE` (issue 19): how the connectors read one file, for the data team — each sheet, the
chosen layout and the runner-up with their scores, the header tiers, each column's use (canonical column,
mark, ignored, or not read), the metadata found and where, the first parsed records and the rejects.

What belongs here: building that account (`inspect_file`, plain data) from the parser's own steps (the
same reader, header detection, choice and parse as an ingest) and printing it (`format_inspection`);
the account of a JSON export (its JSON layout, detected by keys: where each canonical column comes from,
the keys not read: `describe_json`, shared with `cds layout draft`); and whether the ingest reads the file
at all (`not_ingested`: a file whose name or folder starts with `_` or `.`, e.g. the generator's
`_truth/`, is never read; the explanation says so, and both commands exit with `NOT_INGESTED_EXIT`).
Nothing is stored; personal values of the first records are masked as in reject messages.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors import normalize as nz
from connectors.filedrop import choose, delivery_of, parse_file
from connectors.inbox import walk_inbox
from connectors.issues import shown_value
from connectors.layouts import load_layouts
from connectors.readers import read_grids
from connectors.reshapers import account_columns
from connectors.sheet_parser import ColumnUse, ParseContext, find_headers, parse_title, sheet_not_read

_YEAR = re.compile(r"^\d{4}-\d{4}$")
FIRST_RECORDS = 5
FIRST_REJECTS = 10
#: exit code of `cds inspect` and `cds layout draft` for a file the ingest never reads (`not_ingested`)
NOT_INGESTED_EXIT = 3


# ------------------------------------------------------------------------------- files the ingest skips
def _inbox_root(path: Path) -> Path | None:
    """The inbox a file lies in: its outermost folder holding a school-year folder (`2024-2025/`), None
    when no folder above the file holds one."""
    root = None
    for folder in path.parents:
        try:
            if any(_YEAR.match(e.name) and e.is_dir() for e in os.scandir(folder)):
                root = folder
        except OSError:
            continue
    return root


TRUTH_FOLDER = "_truth"
_TRUTH_NOTE = (
    "Đây là đáp án của bộ sinh dữ liệu mẫu (sample_exports/generator), không phải tệp trường gửi: các giá "
    "trị tiêu chí, phát hiện, mức đạt và các dòng lỗi cài sẵn mà kiểm thử so với kết quả của pipeline "
    "(_truth/real_exports/…json: cách đọc đúng mong đợi của từng tệp xuất thật)."
)


def not_ingested(path: Path) -> str | None:
    """Why the ingest never reads `path` (Vietnamese), None when it does: the inbox walk
    (`connectors.inbox.walk_inbox`, the ingest's own) skips every name starting with `_` or `.` and the
    whole content of such a folder, and does not enter links to folders."""
    path = Path(os.path.abspath(path))
    root = _inbox_root(path)
    rel_parts = path.relative_to(root).parts if root else (path.name,)
    skipped = next((p for p in rel_parts if p.startswith(("_", "."))), None)
    if root is not None and skipped is None:
        if "/".join(rel_parts) in set(walk_inbox(root)):
            return None
        return (
            f"bước nạp không đọc tệp này: nó không nằm trong danh sách tệp của hộp thư «{root.name}» "
            "(tệp qua một thư mục liên kết không được đọc)"
        )
    if skipped is None:
        return None
    kind = "tệp" if skipped == rel_parts[-1] else "thư mục"
    text = (
        f"bước nạp không đọc tệp này: {kind} «{skipped}» có tên bắt đầu bằng «{skipped[0]}», mà khi nạp hộp "
        "thư mọi tệp và thư mục có tên bắt đầu bằng «_» hoặc «.» đều bị bỏ qua (không đọc, không ghi vào "
        "sổ nạp, không tính cho trường nào). Muốn tệp được nạp: đặt nó vào <năm học>/<mã trường>/ với tên "
        "không bắt đầu bằng «_» hoặc «.»."
    )
    if TRUTH_FOLDER in rel_parts[:-1]:
        text += " " + _TRUTH_NOTE
    return text


# ------------------------------------------------------------------------------------------ JSON exports
#: where each canonical column of a JSON layout comes from (connectors/json_layouts.py, which detects the
#: layout by its keys); a test checks that the columns named here are the layout's columns
_PUSH_METRIC = {
    "metric": "metrics[].key (tên của hub đổi sang tên chỉ số của dự án; tên lạ → other:<key>)",
    "value": "metrics[].value",
    "subject_code": "metrics[].subject_code",
    "grade": "metrics[].grade_code",
    "dim_value": "metrics[].dim_value",
}
JSON_FIELDS: dict[str, dict[str, str]] = {
    "dti.push_users.v1": {
        "user_pin": "users[].user_pin",
        "role": "users[].role (GV/HS/PH; thiếu thì đoán theo đầu mã: CB → giáo viên, PH → phụ huynh)",
        "school_code": "users[].school_code, thiếu thì school_code của thân tệp",
        **_PUSH_METRIC,
    },
    "dti.push_schools.v1": {
        "user_pin": "schools[].school_code",
        "role": "(hằng: school)",
        "school_code": "schools[].school_code",
        **_PUSH_METRIC,
    },
    "lms.resources.v1": {
        "resource_id": "[].Id",
        "title": "[].Title",
        "subject_code": "[].SubjectCode",
        "grade": "[].GradeCode",
        "content_type": "[].ContentType",
        "author_id": "[].AuthorPin",
        "school_code": "[].SchoolCode",
        "approval_status": "[].ApprovalStatus",
        "moderation_status": "[].ModerationStatus",
        "created_at": "[].CreatedAt",
        "downloads": "[].DownloadCount",
    },
}
JSON_DETECTED_BY = {
    "dti.push_users.v1": "khóa users[].user_pin",
    "dti.push_schools.v1": "khóa schools[]",
    "lms.resources.v1": "mảng các đối tượng có khóa ApprovalStatus",
}
_PUSH_BODY = {
    "provdoet_code": "mã sở",
    "school_year_code": "→ năm học",
    "semester_code": "→ học kỳ",
    "measured_at": "→ thời điểm đo, kỳ đo (ngày)",
    "school_code": "trường của mọi người dùng",
}
_READ_KEYS = {
    "dti.push_users.v1": ({*_PUSH_BODY, "users"}, {"user_pin", "role", "school_code", "metrics"}),
    "dti.push_schools.v1": ({*_PUSH_BODY, "schools"}, {"school_code", "metrics"}),
}
_METRIC_KEYS = {"key", "value", "subject_code", "grade_code", "dim_value"}


@dataclass
class JsonDescription:
    """A JSON export's layout (None: no JSON layout knows its keys), where each canonical column comes
    from, what the file holds beyond it, and the body items read."""

    layout: str | None
    detected_by: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # canonical column → JSON path
    body: dict[str, str] = field(default_factory=dict)  # body key → what it gives
    not_read: list[str] = field(default_factory=list)  # JSON keys present and not read
    kept_extra: list[str] = field(default_factory=list)  # keys kept in src_extra (resources)
    other_metrics: list[str] = field(default_factory=list)  # metric keys the project does not know
    error: str | None = None  # the file is no JSON / not UTF-8

    def lines(self) -> list[str]:
        """The description as text lines (Vietnamese), for both commands."""
        if self.error:
            return [f"Không đọc được JSON: {self.error}"]
        if self.layout is None:
            known = "; ".join(f"{k}: {v}" for k, v in JSON_DETECTED_BY.items())
            return [
                "Không mẫu JSON nào nhận ra tệp (mẫu JSON nhận theo khóa, không theo tên tệp: " + known + ")"
            ]
        out = [
            f"Mẫu JSON: {self.layout} (nhận theo {self.detected_by}; mẫu JSON là mã trong "
            "connectors/json_layouts.py, không phải tệp YAML của connectors/layouts/)",
            "Cột:",
        ]
        out += [f"  {col} ← {src}" for col, src in self.fields.items()]
        if self.body:
            out.append("Thông tin của thân tệp:")
            out += [f"  {k} {v}" for k, v in self.body.items()]
        if self.kept_extra:
            out.append("Khóa khác, giữ nguyên trong src_extra: " + ", ".join(self.kept_extra))
        if self.other_metrics:
            out.append(
                "Chỉ số không thuộc danh mục của dự án (lưu là other:<key>): " + ", ".join(self.other_metrics)
            )
        out.append(
            "Khóa có trong tệp nhưng KHÔNG ĐỌC: "
            + (", ".join(self.not_read) if self.not_read else "không có")
        )
        return out


def describe_json(path: Path) -> JsonDescription:
    """The JSON layout of `path` as `connectors.json_layouts.parse_json_file` detects it (same keys, same
    order) and the keys of the file that layout reads, keeps or does not read."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return JsonDescription(None, error=str(exc)[:120])
    body_prefix = ""
    if isinstance(data, dict) and isinstance(data.get("data"), dict) and "error_code" in data:
        data, body_prefix = data["data"], "data."
    if isinstance(data, dict) and isinstance(data.get("users"), list):
        lay, items = "dti.push_users.v1", data["users"]
    elif isinstance(data, dict) and isinstance(data.get("schools"), list):
        lay, items = "dti.push_schools.v1", data["schools"]
    elif isinstance(data, list) and (
        data == [] or any(isinstance(x, dict) and "ApprovalStatus" in x for x in data)
    ):
        read = {src.removeprefix("[].") for src in JSON_FIELDS["lms.resources.v1"].values()}
        keys = dict.fromkeys(k for x in data if isinstance(x, dict) for k in x)
        return JsonDescription(
            "lms.resources.v1",
            JSON_DETECTED_BY["lms.resources.v1"],
            dict(JSON_FIELDS["lms.resources.v1"]),
            kept_extra=[k for k in keys if k not in read],
        )
    else:
        return JsonDescription(None)
    top_read, item_read = _READ_KEYS[lay]
    body = {f"{body_prefix}{k}": v for k, v in _PUSH_BODY.items() if k in data}
    not_read = [f"{body_prefix}{k}" for k in data if k not in top_read]
    list_key = "users" if lay == "dti.push_users.v1" else "schools"
    item_keys = dict.fromkeys(k for x in items if isinstance(x, dict) for k in x)
    not_read += [f"{list_key}[].{k}" for k in item_keys if k not in item_read]
    metrics = [
        m for x in items if isinstance(x, dict) for m in (x.get("metrics") or []) if isinstance(m, dict)
    ]
    metric_keys = dict.fromkeys(k for m in metrics for k in m)
    not_read += [f"metrics[].{k}" for k in metric_keys if k not in _METRIC_KEYS]
    from connectors.json_layouts import HUB_METRICS, PROJECT_METRICS

    other = sorted({str(m["key"]) for m in metrics if "key" in m} - set(HUB_METRICS) - PROJECT_METRICS)
    return JsonDescription(
        lay, JSON_DETECTED_BY[lay], dict(JSON_FIELDS[lay]), body, not_read, other_metrics=other
    )


@dataclass
class SheetInspection:
    sheet: str
    layout: str | None = None
    score: int = 0
    runner_up: tuple[str, int] | None = None
    header_rows: tuple[int, int] | None = None
    columns: list[ColumnUse] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)  # item → "value (where)"
    not_read: tuple[str, str] | None = None  # (reason code, detail) of a sheet that gives no rows
    records: list[dict[str, Any]] = field(default_factory=list)
    n_records: int = 0


@dataclass
class FileInspection:
    file: str
    status: str
    reason: str | None
    sheets: list[SheetInspection]
    rejects: list[str]
    file_name_period: str | None
    json: JsonDescription | None = None  # a JSON export: its layout and keys
    json_records: list[dict[str, Any]] = field(default_factory=list)
    json_n_records: int = 0


def _context(path: Path) -> ParseContext:
    """The context an ingest would give the file: year and school from `<year>/<school>/file` when the
    path has them."""
    parts = path.resolve().parts
    rel_parts: tuple[str, ...] = (path.name,)
    if len(parts) >= 3 and _YEAR.match(parts[-3]):
        rel_parts = parts[-3:]
    elif len(parts) >= 2 and _YEAR.match(parts[-2]):
        rel_parts = parts[-2:]
    school_year, school = delivery_of(
        Path(*rel_parts)
    )  # as the ingest: the `province` folder gives no school
    return ParseContext("/".join(rel_parts), school_year, school)


def _metadata(grid: Any, row: int) -> dict[str, str]:
    """The title items above the header and where each came from."""
    meta = parse_title(grid.values[grid.span(None, row - 1)])
    out: dict[str, str] = {}
    for k, v in meta.items():
        if k.startswith("_"):
            continue
        phrase = meta.get(f"_{k}_title")
        out[k] = f"{v} (dòng tiêu đề: «{phrase}»)" if phrase else f"{v} (dòng tiêu đề)"
    return out


def inspect_file(path: Path) -> FileInspection:
    """Read `path` as an ingest would and describe every step (nothing is stored)."""
    layouts = load_layouts()
    ctx = _context(path)
    res = parse_file(path, ctx.file, ctx, layouts)
    parsed = {s.sheet: s for s in res.sheets}
    sheets: list[SheetInspection] = []
    grids = read_grids(path) if path.suffix.lower() != ".json" else []
    for grid in grids:
        si = SheetInspection(grid.sheet)
        match, err = (None, "empty_sheet") if grid.empty else choose(find_headers(grid, layouts))
        if match is None:
            si.not_read = (
                ("ambiguous_layout", "") if err == "ambiguous_layout" else sheet_not_read(grid, layouts)
            )
            sheets.append(si)
            continue
        si.layout, si.score, si.runner_up = match.layout.id, match.score, match.runner_up
        si.header_rows = (match.row, match.row + match.depth - 1)
        si.columns = account_columns(grid, match)
        si.metadata = _metadata(grid, match.row)
        sr = parsed.get(grid.sheet if path.suffix.lower() not in (".csv",) else "")
        if sr is not None and len(sr.rows):
            si.n_records = len(sr.rows)
            si.records = _masked(sr.rows.head(FIRST_RECORDS), match.layout.entity)
        sheets.append(si)
    rejects = [r.message for s in res.sheets for r in s.rejects][:FIRST_REJECTS]
    fi = FileInspection(ctx.file, res.status, res.reason, sheets, rejects, nz.period_of_file_name(path.name))
    if path.suffix.lower() == ".json":
        fi.json = describe_json(path)
        for sr in res.sheets:
            fi.json_n_records += len(sr.rows)
            if len(fi.json_records) < FIRST_RECORDS and len(sr.rows):
                fi.json_records += _masked(
                    sr.rows.head(FIRST_RECORDS - len(fi.json_records)), sr.layout.entity
                )
    return fi


def _masked(head: Any, entity: str) -> list[dict[str, Any]]:
    """Records as shown: personal values masked as in the reject messages, blanks and extras left out."""
    return [
        {
            str(k): shown_value(v, entity, str(k))
            for k, v in r.items()
            if v is not None and v == v and k != "src_extra"
        }
        for r in head.to_dict("records")
    ]


_USE_VI = {"not_read": "KHÔNG ĐỌC"}


def _use(c: ColumnUse) -> str:
    if c.use.startswith("ignored:"):
        return f"đọc, không lưu ({c.use[8:]})"
    if c.use.startswith("mark:"):
        return f"điểm/đánh giá ({c.use[5:]})"
    return _USE_VI.get(c.use, c.use)


def format_inspection(fi: FileInspection) -> str:
    """The inspection as text (Vietnamese labels, the parser's own codes in brackets)."""
    lines = [f"Tệp: {fi.file}", f"Kết quả: {fi.status}" + (f" — {fi.reason}" if fi.reason else "")]
    if fi.file_name_period:
        lines.append(f"Kỳ đánh giá theo tên tệp: {fi.file_name_period}")
    if fi.json is not None:
        lines.append("")
        lines.extend(fi.json.lines())
        lines.append(
            f"Bản ghi: {fi.json_n_records}"
            + (f"; {len(fi.json_records)} bản ghi đầu:" if fi.json_records else "")
        )
        lines.extend("     " + ", ".join(f"{k}={v}" for k, v in r.items()) for r in fi.json_records)
    for s in fi.sheets:
        lines.append("")
        lines.append(f"== Trang «{s.sheet}»")
        if s.not_read:
            lines.append(f"   Không đọc: {s.not_read[1] or s.not_read[0]} [{s.not_read[0]}]")
            continue
        ru = (
            f"; xếp thứ hai: {s.runner_up[0]} ({s.runner_up[1]} điểm)"
            if s.runner_up
            else "; không có mẫu khác"
        )
        lines.append(f"   Mẫu: {s.layout} ({s.score} điểm){ru}")
        if s.header_rows:
            a, b = s.header_rows
            lines.append(f"   Tiêu đề cột: dòng {a}" + (f"–{b} ({b - a + 1} tầng)" if b > a else " (1 tầng)"))
        for k, v in s.metadata.items():
            lines.append(f"   Thông tin: {k} = {v}")
        lines.append("   Cột:")
        for c in s.columns:
            mark = "" if c.non_empty else " (trống)"
            header = " ".join(c.header.split()) or "(không tiêu đề)"
            lines.append(f"     {c.letter:>3}  {header} → {_use(c)}{mark}")
        lines.append(f"   Bản ghi: {s.n_records}" + (f"; {len(s.records)} bản ghi đầu:" if s.records else ""))
        for r in s.records:
            lines.append("     " + ", ".join(f"{k}={v}" for k, v in r.items()))
    if fi.rejects:
        lines.append("")
        lines.append("Dòng bị loại (tối đa 10):")
        lines.extend(f"   {m}" for m in fi.rejects)
    return "\n".join(lines)
