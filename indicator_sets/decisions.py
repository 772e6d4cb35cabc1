"""Reviewer decisions: read the filled-in reviewer workbooks dropped back into the inbox, validate each
row, keep them across runs (keyed by finding id) and say which are still in force.

What belongs here: the decision vocabulary, the workbook reader (openpyxl, read-only), validation,
the upsert into the stored decisions and their state (in force, stale, orphaned, pending). Pure apart
from reading the given files; no Dagster.

A row is applied only when it names a known finding of the year, an allowed decision and, for
`Điều chỉnh điểm`, points within 0..max of the criterion from the indicator set (0 or 1 for a
mandatory condition). Invalid rows are returned with a reason and never applied. A stored decision is
stale when the self or computed points under it differ from those the reviewer saw (the workbook's own
columns); stale decisions are reported and not applied until a reviewer confirms them again.
The reviewer's free-text comment is part of the decision: it is kept in the decisions table, written back
into the regenerated reviewer workbook and shown in the reviewer HTML next to the decision, so that the
next reviewer sees why (it used to stay in the table only, and every regenerated workbook lost it).
Because a comment is free text typed by a person, it is masked when it is read (`mask_personal_data`):
citizen-id and phone numbers, dates, e-mail addresses and Vietnamese personal names (a common family
name followed by capitalised words) become placeholders before it is stored, so no personal data reaches
the table or any output, and re-reading an already masked comment leaves it unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import SupportsFloat, SupportsIndex

import pandas as pd

from indicator_sets.model import IndicatorSet

#: Vietnamese label in the workbook → decision code.
DECISIONS: dict[str, str] = {
    "Chấp nhận điểm tự đánh giá": "accept_self",
    "Dùng điểm tính từ dữ liệu": "use_computed",
    "Điều chỉnh điểm": "adjust",
    "Yêu cầu bổ sung minh chứng": "request_evidence",
}
DECISION_LABELS = {v: k for k, v in DECISIONS.items()}

# Workbook column headers shared by the writer (reports/reviewer_workbook.py) and this reader. They are
# chosen so that no connector layout recognises the sheet (no `Mã trường`/`Mã tiêu chí` anchors).
COL_ID = "Mã phát hiện"
COL_DECISION = "Quyết định của người thẩm định"
COL_ADJUSTED = "Điểm điều chỉnh"
COL_COMMENT = "Nhận xét của người thẩm định"
COL_SELF = "Điểm trường tự chấm"
COL_COMPUTED = "Điểm tính từ dữ liệu"

RAW_COLUMNS = [
    "finding_id",
    "decision_text",
    "adjusted_raw",
    "comment",
    "seen_self_points",
    "seen_computed_points",
    "source_file",
    "source_sheet",
    "source_row",
    "file_sha256",
]
STORED_COLUMNS = [
    "finding_id",
    "school_code",
    "school_year",
    "criterion_code",
    "finding",
    "decision",
    "adjusted_points",
    "comment",
    "self_points_at_decision",
    "computed_points_at_decision",
    "source_file",
    "source_sheet",
    "source_row",
    "file_sha256",
    "recorded_at",
]
REJECT_COLUMNS = [
    "school_year",
    "finding_id",
    "decision_text",
    "adjusted_raw",
    "source_file",
    "source_sheet",
    "source_row",
    "reason_code",
    "message",
]
_TOL = 0.005


# `fmt: skip` on the two tuples below: vocabulary packed by line reads as a list of words; the formatter
# would put each of their 51 words on a line of its own.
#: Common Vietnamese family names (they cover the great majority of the population); a name is one of
#: them followed by 1–4 capitalised words. Vocabulary, not logic: extend the tuple, not the pattern.
FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
                "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Đoàn", "Lâm", "Mai", "Trịnh", "Trương",
                "Lương", "Cao", "Tạ", "Hà", "Tô", "Chu", "Thái", "Lưu", "Kiều", "La", "Quách",
                "Vương", "Triệu", "Đào")  # fmt: skip
#: Forms of address before a given name (packed by line like FAMILY_NAMES, hence its `fmt: skip`).
ADDRESS_WORDS = ("cô", "thầy", "anh", "chị", "em", "ông", "bà", "bạn", "cháu", "học sinh", "giáo viên",
                 "hiệu trưởng", "phụ huynh", "GV", "HS")  # fmt: skip
_CAP = r"[A-ZÀ-ỸĐ][a-zà-ỹđ]*"
_PERSONAL = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email đã ẩn]"),
    (re.compile(r"(?<![\w.-])\d{1,2}([/.-])\d{1,2}\1\d{2,4}\b"), "[ngày đã ẩn]"),
    (re.compile(r"(?<!\d)(\+?84|0)[\d .-]{8,13}\d(?!\d)"), "[số đã ẩn]"),
    (re.compile(r"(?<!\d)\d{9,12}(?!\d)"), "[số đã ẩn]"),
    (re.compile(rf"\b(?:{'|'.join(FAMILY_NAMES)})(?:\s+{_CAP}){{1,4}}\b"), "[tên đã ẩn]"),
    # a given name after a form of address ("cô Lan", "thầy Minh Đức"): the address stays
    (re.compile(rf"\b({'|'.join(ADDRESS_WORDS)})\s+{_CAP}(?:\s+{_CAP}){{0,3}}\b"), r"\1 [tên đã ẩn]"),
]


def mask_personal_data(text: str) -> str:
    """The comment with personal data replaced by placeholders (idempotent)."""
    for rx, repl in _PERSONAL:
        text = rx.sub(repl, text)
    return text


def find_decision_files(inbox: Path, school_year: str) -> list[Path]:
    """`reviewer_*.xlsx` anywhere under `<inbox>/<year>/`, oldest first. The recommended place is
    `<inbox>/<year>/province/reviewer_<year>.xlsx`: a file in a `_`-folder is read here too, but the
    inbox sensor and `cds run` ignore such folders, so dropping it there alone starts no run."""
    root = Path(inbox) / school_year
    if not root.is_dir():
        return []
    files = [  # os.walk: the names only (a school year holds ~17k files); links to folders not followed
        Path(dirpath) / name
        for dirpath, _dirs, names in os.walk(root)
        for name in names
        if name.endswith(".xlsx") and name.lower().startswith("reviewer_")
    ]
    files = [p for p in files if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime, str(p)))


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _num(v: object) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        if isinstance(v, str):
            return float(v.replace(",", "."))
        return float(v) if isinstance(v, SupportsFloat | SupportsIndex) else None
    except (TypeError, ValueError):
        return None


def read_decision_files(paths: Iterable[Path], root: Path | None = None) -> pd.DataFrame:
    """Every non-empty decision row of the given reviewer workbooks (sheets with a `Mã phát hiện`
    header in row 1); rows are in file order, so a later row for the same finding wins."""
    import openpyxl

    rows: list[dict] = []
    for path in paths:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        rel = str(path.relative_to(root)) if root and path.is_relative_to(root) else path.name
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # an unreadable workbook is one reject row, not a failed run
            rows.append({"source_file": rel, "file_sha256": sha, "_error": f"{type(exc).__name__}"})
            continue
        try:
            for ws in wb.worksheets:
                it = ws.iter_rows(values_only=True)
                header = next(it, None)
                if not header:
                    continue
                pos = {_text(h): i for i, h in enumerate(header) if h is not None}
                if COL_ID not in pos or COL_DECISION not in pos:
                    continue

                def cell(r: tuple, name: str, pos: dict = pos) -> object:
                    i = pos.get(name)
                    return r[i] if i is not None and i < len(r) else None

                for n, r in enumerate(it, start=2):
                    fid, dec = _text(cell(r, COL_ID)), _text(cell(r, COL_DECISION))
                    adj, com = cell(r, COL_ADJUSTED), mask_personal_data(_text(cell(r, COL_COMMENT)))
                    if not fid or (not dec and _text(adj) == ""):
                        continue
                    rows.append(
                        {
                            "finding_id": fid,
                            "decision_text": dec,
                            "adjusted_raw": _text(adj),
                            "comment": com,
                            "seen_self_points": _num(cell(r, COL_SELF)),
                            "seen_computed_points": _num(cell(r, COL_COMPUTED)),
                            "source_file": rel,
                            "source_sheet": ws.title,
                            "source_row": n,
                            "file_sha256": sha,
                        }
                    )
        finally:
            wb.close()
    frame = pd.DataFrame(rows, columns=[*RAW_COLUMNS, "_error"])
    return frame


def validate_decisions(
    raw: pd.DataFrame, findings: pd.DataFrame, iset: IndicatorSet, school_year: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split read rows into (valid decisions in the stored layout, rejected rows with a reason)."""
    crit = iset.by_code()
    known = findings.set_index("finding_id") if not findings.empty else pd.DataFrame()
    ok: list[dict] = []
    bad: list[dict] = []
    now = dt.datetime.now().replace(microsecond=0)
    for r in raw.to_dict("records"):

        def reject(code: str, message: str, r: dict = r) -> None:
            bad.append(
                {
                    "school_year": school_year,
                    **{k: r.get(k) for k in REJECT_COLUMNS if k in r},
                    "reason_code": code,
                    "message": message,
                }
            )

        if isinstance(r.get("_error"), str):
            reject("unreadable_file", "Không đọc được tệp quyết định thẩm định")
            continue
        fid = r["finding_id"]
        if fid not in known.index:
            reject("unknown_finding", f"Mã phát hiện {fid} không có trong năm học {school_year}")
            continue
        f = known.loc[fid]
        code = DECISIONS.get(r["decision_text"])
        if code is None:
            if not r["decision_text"]:
                reject("missing_decision", "Có điểm điều chỉnh nhưng chưa chọn quyết định")
            else:
                reject("invalid_decision", "Quyết định không thuộc danh sách cho phép")
            continue
        adjusted = None
        if code == "adjust":
            c = crit.get(str(f["criterion_code"]))
            if c is None:
                reject(
                    "not_adjustable", "Phát hiện cấp trường (không gắn tiêu chí) không điều chỉnh điểm được"
                )
                continue
            adjusted = _num(r["adjusted_raw"])
            hi = 1.0 if c.mandatory else float(c.max_points)
            if r["adjusted_raw"] == "":
                reject("missing_points", "Chọn 'Điều chỉnh điểm' nhưng chưa nhập điểm điều chỉnh")
                continue
            if adjusted is None:
                reject("bad_points", "Điểm điều chỉnh không phải là số")
                continue
            if adjusted < 0 or adjusted > hi + 1e-9:
                reject(
                    "out_of_range",
                    f"Điểm điều chỉnh phải từ 0 đến {hi:g} (điểm tối đa của tiêu chí {c.code})",
                )
                continue
        seen_self = r.get("seen_self_points")
        seen_comp = r.get("seen_computed_points")
        ok.append(
            {
                "finding_id": fid,
                "school_code": f["school_code"],
                "school_year": f["school_year"],
                "criterion_code": f["criterion_code"],
                "finding": f["finding"],
                "decision": code,
                "adjusted_points": adjusted,
                "comment": r.get("comment") or "",
                "self_points_at_decision": f["self_points"] if seen_self is None else seen_self,
                "computed_points_at_decision": f["computed_points"] if seen_comp is None else seen_comp,
                "source_file": r["source_file"],
                "source_sheet": r["source_sheet"],
                "source_row": r["source_row"],
                "file_sha256": r["file_sha256"],
                "recorded_at": now,
            }
        )
    valid = pd.DataFrame(ok, columns=STORED_COLUMNS).drop_duplicates("finding_id", keep="last")
    return valid, pd.DataFrame(bad, columns=REJECT_COLUMNS)


def _same(a: float | str | None, b: float | str | None) -> bool:
    """Two points cells are equal: both missing, or within the tolerance (text compared as text)."""
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return (a is None or bool(pd.isna(a))) and (b is None or bool(pd.isna(b)))
    try:
        return abs(float(a) - float(b)) <= _TOL
    except (TypeError, ValueError):
        return a == b


def merge_decisions(stored: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Upsert `new` into `stored` by finding id. A row equal to the stored one (same decision, points
    and snapshot) keeps the stored row, so its recording time survives re-reading the same file."""
    if stored is None or stored.empty:
        return new.reset_index(drop=True)
    if new.empty:
        return stored.reset_index(drop=True)
    keep = stored.set_index("finding_id")
    out = keep.copy()
    for r in new.to_dict("records"):
        fid = r["finding_id"]
        if fid in keep.index:
            old = keep.loc[fid]
            same = (
                old["decision"] == r["decision"]
                and _same(old["adjusted_points"], r["adjusted_points"])
                and _same(old["self_points_at_decision"], r["self_points_at_decision"])
                and _same(old["computed_points_at_decision"], r["computed_points_at_decision"])
                and (old["comment"] or "") == (r["comment"] or "")
            )
            if same:
                continue
        row = pd.DataFrame([r]).set_index("finding_id")
        out = pd.concat([out.drop(index=fid, errors="ignore"), row])
    return out.reset_index().reindex(columns=STORED_COLUMNS)


def decision_states(stored: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Stored decisions of the findings' year(s) with `state` and `in_force`:
    `in_force` — applied; `pending` — evidence requested, the finding stays open; `stale` — the self or
    computed points changed since the decision; `orphaned` — the finding is no longer raised."""
    cols = [*STORED_COLUMNS, "state", "in_force", "current_self_points", "current_computed_points"]
    if stored is None or stored.empty:
        return pd.DataFrame(columns=cols)
    # current points of each open finding (finding ids are unique)
    cur_self: dict[str, float | None] = {}
    cur_computed: dict[str, float | None] = {}
    if not findings.empty:
        ids = findings["finding_id"]
        cur_self = dict(zip(ids, findings["self_points"], strict=True))
        cur_computed = dict(zip(ids, findings["computed_points"], strict=True))
    states: list[str] = []
    cs: list[float | None] = []
    cc: list[float | None] = []
    for r in stored.to_dict("records"):
        fid = r["finding_id"]
        if fid not in cur_self:
            states.append("orphaned")
            cs.append(None)
            cc.append(None)
            continue
        s, c = cur_self[fid], cur_computed[fid]
        cs.append(s)
        cc.append(c)
        if not (_same(s, r["self_points_at_decision"]) and _same(c, r["computed_points_at_decision"])):
            states.append("stale")
        elif r["decision"] == "request_evidence":
            states.append("pending")
        else:
            states.append("in_force")
    out = stored.copy()
    out["state"] = states
    out["in_force"] = out["state"] == "in_force"
    out["current_self_points"] = pd.to_numeric(pd.Series(cs, index=out.index), errors="coerce")
    out["current_computed_points"] = pd.to_numeric(pd.Series(cc, index=out.index), errors="coerce")
    return out.reindex(columns=cols)


STATE_LABELS = {
    "in_force": "Đã áp dụng",
    "pending": "Chờ bổ sung minh chứng",
    "stale": "Dữ liệu đã thay đổi sau quyết định — cần xem lại",
    "orphaned": "Phát hiện không còn",
}


def reject_lines(rejects: pd.DataFrame, limit: int = 20) -> list[str]:
    """One Vietnamese line per decision row that was not applied, naming the file, sheet and row the
    reviewer filled in (the console and the run log show them; the workbook lists them all)."""
    lines = []
    for r in rejects.head(limit).to_dict("records"):
        where = f"tệp {r.get('source_file') or '?'}"
        if isinstance(r.get("source_sheet"), str) and r["source_sheet"]:
            where += f", trang “{r['source_sheet']}”"
        if r.get("source_row") is not None and not pd.isna(r.get("source_row")):
            where += f", dòng {int(r['source_row'])}"
        lines.append(f"Quyết định thẩm định chưa được áp dụng — {where}: {r.get('message') or ''}")
    if len(rejects) > limit:
        lines.append(
            f"… và {len(rejects) - limit} dòng quyết định khác chưa được áp dụng "
            "(xem trang “QĐ không hợp lệ” của tệp reviewer_<năm học>.xlsx)."
        )
    return lines
