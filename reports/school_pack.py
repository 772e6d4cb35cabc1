"""Each school's own feedback pack (`out/schools/<year>/<school_code>.xlsx` and `.html`).

What belongs here: building one school's pack from the year's warehouse frames (`build_pack`) and writing
it (`write_pack_xlsx`, `write_pack_html`). A pack is for that school only and carries codes, file names
and aggregates, never personal data:

- its self-declared, computed and proposed (externally verified) points per criterion, with the figures
  behind each computed value (numerator/denominator in words, the source files, the rows counted);
- each finding in plain words: what the school declared, what the data shows, what would settle it;
- the data problems in its own files (file, sheet, row, column, what to correct), its quarantined files
  and the expected exports that did not arrive;
- last year against this year (criteria that lost or gained points, the figures behind the change);
- three to five actions ranked by points at stake, each derived by a rule from the indicator set and the
  school's figures (see `actions`). Every sentence is built from a figure; there is no free text.

The wording of a criterion's figures (`DATA_TEXT`, `GAP_TEXT`) is keyed by criterion code; a criterion
the tables do not know gets a generic sentence built from its name, so a corrected indicator-set file
never breaks a pack.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from indicator_sets.model import Criterion, IndicatorSet
from indicator_sets.reconcile import verification_factors
from quality.coverage import SOURCE_LABELS_VI
from reports.cells import as_float, is_missing
from reports.excel import write_sheets
from reports.reviewer_workbook import FINDING_LABELS, SEVERITY_LABELS, STATUS_LABELS, ReviewData
from reports.thi_dua import ORIGIN_LABELS

TEMPLATES = Path(__file__).parent / "templates"
MAX_ACTIONS = 5
_EPS = 1e-9

#: The figures behind a computed value, in words ({num}, {den}, {pct} are filled from the value row).
DATA_TEXT: dict[str, str] = {
    "1.3.1": "{num} buổi dạy trực tuyến trong năm học",
    "1.3.2": "{num} bài học được giao cho học sinh tự học",
    "1.3.3": "{num} câu hỏi của học sinh được giáo viên trả lời",
    "1.3.4": "{num} bài kiểm tra thường xuyên được chấm",
    "1.3.5": "{num} lượt phụ huynh theo dõi việc học",
    "1.4": "{num}/{den} cặp (môn, khối) được dạy có học liệu số đã duyệt",
    "1.5.1": "{num}/{den} môn tính điểm có bài kiểm tra định kỳ trên máy tính",
    "1.5.2": "{num} bài kiểm tra trên máy tính có kết quả đồng bộ vào sổ điểm",
    "1.6.1": "{num}/{den} giáo viên có tài khoản bồi dưỡng trực tuyến",
    "1.6.2": "{num}/{den} giáo viên có từ 5 lượt dùng phần mềm dạy học",
    "1.6.3": "{num}/{den} giáo viên tự xây dựng học liệu số",
    "1.7.1": "{num}/{den} phòng học có máy chiếu/ti vi và Internet",
    "1.7.2": "{num} máy tính hoạt động ở phòng Tin học cho lớp đông nhất {den} học sinh",
    "2.3.2": "{num}/{den} học sinh của CSDL ngành có trong phần mềm quản lý",
    "2.3.3": "sổ điểm học kỳ I và học bạ số đạt {pct}",
    "2.3.4": "{num}/{den} cán bộ có hồ sơ đầy đủ",
    "2.3.5": "{num} phòng, thiết bị trong danh mục cơ sở vật chất",
    "2.3.6": "{num}/{den} học sinh có hồ sơ khám sức khỏe trong năm học",
    "2.3.7": "{num} chứng từ kế toán trong năm học",
    "2.3.8": "{num}/{den} lượt đồng bộ CSDL ngành đúng hạn",
    "2.4.1": "{num}/{den} học sinh có phụ huynh dùng ứng dụng kết nối gia đình – nhà trường",
    "2.4.2": "{num}/{den} hồ sơ tuyển sinh đầu cấp nộp trực tuyến",
    "2.4.3": "{num}/{den} đồng thu không dùng tiền mặt",
}
#: What to add to reach the full points ({n}: how many, from the rule's target and the figures).
GAP_TEXT: dict[str, str] = {
    "1.3.1": "tổ chức thêm {n} buổi dạy trực tuyến",
    "1.3.2": "giao thêm {n} bài học tự học trên LMS",
    "1.3.3": "trả lời thêm {n} câu hỏi của học sinh trên LMS",
    "1.3.4": "chấm thêm {n} bài kiểm tra thường xuyên trên LMS",
    "1.3.5": "có thêm {n} lượt phụ huynh theo dõi việc học",
    "1.4": "thêm {n} cặp (môn, khối) có học liệu số được duyệt",
    "1.5.1": "thêm {n} môn có bài kiểm tra định kỳ trên máy tính",
    "1.5.2": "đồng bộ kết quả thêm {n} bài kiểm tra trên máy tính vào sổ điểm",
    "1.6.1": "thêm {n} giáo viên có tài khoản bồi dưỡng trực tuyến",
    "1.6.2": "thêm {n} giáo viên dùng phần mềm dạy học (từ 5 lượt)",
    "1.6.3": "thêm {n} giáo viên tự xây dựng học liệu số",
    "1.7.1": "thêm {n} phòng học có máy chiếu/ti vi và Internet",
    "1.7.2": "thêm {n} máy tính hoạt động ở phòng Tin học",
    "2.3.2": "cập nhật thêm {n} học sinh vào phần mềm quản lý",
    "2.3.3": "hoàn thiện sổ điểm học kỳ I và cấp học bạ số cho học sinh còn thiếu",
    "2.3.4": "hoàn thiện hồ sơ của thêm {n} cán bộ",
    "2.3.5": "cập nhật thêm {n} phòng, thiết bị vào danh mục cơ sở vật chất",
    "2.3.6": "nhập hồ sơ khám sức khỏe cho thêm {n} học sinh",
    "2.3.7": "ghi thêm {n} chứng từ kế toán trong năm học",
    "2.3.8": "đồng bộ đúng hạn thêm {n} lượt với CSDL ngành",
    "2.4.1": "thêm {n} học sinh có phụ huynh dùng ứng dụng kết nối",
    "2.4.2": "nhận trực tuyến thêm {n} hồ sơ tuyển sinh đầu cấp (thay hồ sơ giấy)",
    "2.4.3": "chuyển thêm {n} đồng sang thu qua ngân hàng, VietQR hoặc ví điện tử",
}
#: Criteria whose numerator is an amount of money (written with thousands separators).
MONEY = {"2.4.3"}


# --------------------------------------------------------------------------------------- formatting
def pts(v: object) -> str:
    """Points as Vietnamese text: up to 2 decimals, decimal comma; '—' when missing."""
    x = as_float(v)
    if x is None:
        return "—"
    return f"{x:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def count(v: object) -> str:
    """A count or an amount: thousands separated by '.', decimals (rare) by ','."""
    x = as_float(v)
    if x is None:
        return "—"
    if x.is_integer():
        return f"{int(x):,}".replace(",", ".")
    return f"{x:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def pct(v: object) -> str:
    x = as_float(v)
    return "—" if x is None else f"{x * 100:.1f}".replace(".", ",") + " %"


def data_text(c: Criterion, row: dict) -> str:
    """The figures behind one computed value, in words (empty when nothing was computed)."""
    num, den, value = row.get("numerator"), row.get("denominator"), row.get("value")
    if row.get("status") != "ok" or (is_missing(num) and is_missing(value)):
        return ""
    template = DATA_TEXT.get(c.code)
    if template is None:  # a criterion the wording tables do not know: numbers and the name
        figure = (
            f"{count(num)}/{count(den)}"
            if not is_missing(den)
            else count(num if not is_missing(num) else value)
        )
        return f"{figure} — {c.name}"
    return template.format(num=count(num), den=count(den), pct=pct(value))


def _gap(c: Criterion, row: dict) -> float | None:
    """How many more units the numerator needs for full points (None when the rule says nothing)."""
    r = c.rule
    num, den = row.get("numerator"), row.get("denominator")
    if r is None:
        return None
    if r.type == "presence":
        n = as_float(row.get("value") if is_missing(num) else num)
        return None if n is None else max(0.0, r.min_count - n)
    num_x, den_x = (as_float(num), as_float(den)) if r.type == "ratio" else (None, None)
    if num_x is not None and den_x is not None:
        need = r.target * den_x - num_x
        return max(0.0, math.ceil(need - _EPS)) if c.code not in MONEY else max(0.0, round(need))
    return None


def gap_text(c: Criterion, row: dict) -> str:
    n = _gap(c, row)
    template = GAP_TEXT.get(c.code)
    if template is None:
        return f"thêm {count(n)} đơn vị vào tử số" if n else "nâng tỷ lệ của tiêu chí"
    return template.format(n=count(n))


# --------------------------------------------------------------------------------------- the pack
@dataclass
class SchoolPack:
    """Everything one school's pack shows (frames with English column names; headers are in `HEADERS`)."""

    school_code: str
    school_name: str
    managing_unit: str
    school_year: str
    previous_year: str
    overview: list[tuple[str, str]]  # (label, value) lines of the first sheet
    criteria: pd.DataFrame
    findings: pd.DataFrame
    problems: pd.DataFrame  # rejected rows of its files
    files: pd.DataFrame  # quarantined files
    missing: list[str]  # expected exports that did not arrive (Vietnamese labels)
    changes: pd.DataFrame  # year over year
    actions: pd.DataFrame
    counted: pd.DataFrame = field(default_factory=pd.DataFrame)
    has_previous: bool = False
    audits: pd.DataFrame = field(default_factory=pd.DataFrame)  # cross-checks with offending rows


HEADERS: dict[str, dict[str, str]] = {
    "criteria": {
        "criterion_code": "Mã tiêu chí",
        "criterion_name": "Tên tiêu chí",
        "max_points": "Điểm tối đa",
        "self_points": "Điểm tự đánh giá",
        "points": "Điểm tính từ dữ liệu",
        "status_label": "Trạng thái số liệu",
        "data_text": "Số liệu",
        "numerator": "Tử số",
        "denominator": "Mẫu số",
        "value": "Giá trị",
        "proposed_points": "Điểm đề xuất (đánh giá ngoài)",
        "origin_label": "Nguồn điểm đề xuất",
        "source_files": "Tệp nguồn",
    },
    "findings": {
        "criterion_code": "Mã tiêu chí",
        "finding_label": "Phát hiện",
        "severity_label": "Mức độ",
        "declared": "Trường đã khai",
        "data_shows": "Dữ liệu cho thấy",
        "settle": "Cần làm để làm rõ",
        "points_at_stake": "Điểm chênh lệch",
    },
    "problems": {
        "source_file": "Tệp",
        "source_sheet": "Trang tính",
        "source_row": "Dòng",
        "column": "Cột",
        "entity_label": "Nguồn dữ liệu",
        "what": "Cần sửa",
    },
    "files": {"source_file": "Tệp", "what": "Lý do cách ly, cần làm"},
    "changes": {
        "criterion_code": "Mã tiêu chí",
        "criterion_name": "Tên tiêu chí",
        "points_before": "Điểm năm trước",
        "points_now": "Điểm năm nay",
        "delta": "Thay đổi",
        "data_before": "Số liệu năm trước",
        "data_now": "Số liệu năm nay",
        "direction": "Kết quả",
    },
    "actions": {
        "rank": "Thứ tự",
        "criterion_code": "Mã tiêu chí",
        "points_at_stake": "Điểm có thể thay đổi",
        "action": "Việc cần làm",
    },
    "audits": {
        "purpose": "Nội dung kiểm tra chéo",
        "count": "Số trường hợp",
        "severity": "Mức độ",
        "details": "Chi tiết, cần sửa",
    },
    "counted": {
        "criterion_code": "Mã tiêu chí",
        "role": "Vai trò",
        "source_file": "Tệp",
        "source_sheet": "Trang tính",
        "source_row": "Dòng",
        "fields_read": "Giá trị đã đọc",
    },
}
ROLE_LABELS = {"numerator": "Tử số", "denominator": "Mẫu số"}


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict("records") if len(frame) else []


def _files_text(v: object) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    try:
        return "; ".join(str(x) for x in v) if isinstance(v, Iterable) else str(v)
    except TypeError:
        return str(v)


def _criteria_rows(data: ReviewData, code: str) -> pd.DataFrame:
    crit = data.iset.by_code()
    final = data.final[data.final["school_code"] == code] if len(data.final) else data.final
    prop = data.proposed[data.proposed["school_code"] == code] if len(data.proposed) else data.proposed
    pmap = {r["criterion_code"]: r for r in _records(prop)}
    rows: list[dict[str, Any]] = []
    for r in _records(final):
        c = crit.get(r["criterion_code"])
        if c is None:
            continue
        p = pmap.get(r["criterion_code"], {})
        shown = data_text(c, r)
        unknown = not is_missing(r.get("evidence_known")) and not bool(r.get("evidence_known"))
        if c.mandatory:
            shown = (
                "Chưa đạt hoặc thiếu mã minh chứng"
                if r.get("value") != 1
                else "Khai đạt; mẫu không có cột mã minh chứng, chờ xác nhận"
                if unknown
                else "Đạt (có mã minh chứng)"
            )
        elif c.kind == "document":
            shown = (
                "Theo tự khai; mẫu không có cột mã minh chứng, chờ xác nhận"
                if unknown
                else "Theo tự khai, có mã minh chứng"
                if r.get("has_evidence")
                else "Theo tự khai, không có mã minh chứng"
            )
        rows.append(
            {
                "criterion_code": c.code,
                "criterion_name": c.name,
                "max_points": None if c.mandatory else float(c.max_points),
                "self_points": None if c.mandatory else r.get("self_points"),
                "points": r.get("points"),
                "status": r.get("status"),
                "status_label": STATUS_LABELS.get(str(r.get("status")), r.get("status")),
                "data_text": shown,
                "numerator": r.get("numerator"),
                "denominator": r.get("denominator"),
                "value": r.get("value"),
                "proposed_points": p.get("proposed_points"),
                "origin_label": ORIGIN_LABELS.get(str(p.get("origin")), "") if p else "",
                "source_files": _files_text(r.get("source_files")),
                "mandatory": c.mandatory,
                "kind": c.kind,
                "self_met": r.get("self_met"),
                "evidence_known": r.get("evidence_known"),
                "inputs": list(c.inputs),
            }
        )
    order = {c.code: i for i, c in enumerate(data.iset.criteria)}
    rows.sort(key=lambda x: order.get(x["criterion_code"], 10**6))
    return pd.DataFrame(rows)


def _absent_inputs(c: Criterion | None, delivered: set[str]) -> tuple[list[str], list[str]]:
    """(labels of the criterion's inputs the school did not deliver, labels of all its inputs); the
    school registry is the Sở's, never the school's to send."""
    need = [e for e in (c.inputs if c else []) if e != "school"]
    return [SOURCE_LABELS_VI.get(e, e) for e in need if e not in delivered], [
        SOURCE_LABELS_VI.get(e, e) for e in need
    ]


def _finding_words(
    f: dict, row: dict | None, c: Criterion | None, delivered: set[str], school_year: str
) -> dict:
    """(declared, data shows, settle) of one finding, each a sentence made of the finding's figures."""
    kind = f["finding"]
    s, comp = pts(f.get("self_points")), pts(f.get("computed_points"))
    mx = pts(c.max_points) if c is not None else "—"
    figures = data_text(c, row) if c is not None and row else ""
    declared = (
        f"Tự chấm {s}/{mx} điểm." if c is not None and not c.mandatory else "Khai đạt điều kiện bắt buộc."
    )
    shows, settle = "", ""
    if kind == "OVER_CLAIM":
        shows = f"Dữ liệu: {figures} → {comp} điểm." if figures else f"Dữ liệu cho {comp} điểm."
        settle = (
            (
                f"Gửi lại tệp {row.get('source_files') or 'nguồn'} nếu số liệu trong đó chưa đủ, "
                f"hoặc điều chỉnh điểm tự chấm về {comp}."
            )
            if row
            else f"Điều chỉnh điểm tự chấm về {comp}."
        )
    elif kind == "UNDER_CLAIM":
        shows = f"Dữ liệu: {figures} → {comp} điểm." if figures else f"Dữ liệu cho {comp} điểm."
        settle = f"Điều chỉnh điểm tự chấm lên {comp} (dữ liệu đã chứng minh)."
    elif kind == "NO_DATA":
        absent, need = _absent_inputs(c, delivered)
        if absent:
            shows = "Chưa có số liệu để kiểm tra: chưa có " + ", ".join(absent) + " của trường."
            settle = f"Gửi tệp {', '.join(absent)} của năm học {school_year}."
        else:
            shows = "Các tệp đã gửi (" + ", ".join(need) + ") không có số liệu của năm học cho tiêu chí này."
            settle = (
                f"Kiểm tra lại các tệp {', '.join(need)} (đúng năm học {school_year}, đủ các dòng) "
                "và gửi lại."
            )
    elif kind == "MISSING_EVIDENCE":
        shows = "Không có mã minh chứng đi kèm."
        known = (row or {}).get("evidence_known")
        if not is_missing(known) and not bool(known):
            shows = "Mẫu tự đánh giá dạng ngang không có cột mã minh chứng."
            settle = "Gửi Sở mã minh chứng để người thẩm định xác nhận."
        else:
            settle = "Ghi mã minh chứng (ví dụ H1-1.1-01) vào phiếu tự đánh giá và gửi lại."
    elif kind == "INVALID_SELF_SCORE":
        raw = (row or {}).get("self_score_raw")
        shown = f"'{raw}'" if isinstance(raw, str) and raw else "không phải số hợp lệ"
        declared = f"Điểm tự chấm {shown}."
        shows = "Điểm âm, vượt điểm tối đa hoặc không phải số: tính 0 điểm."
        settle = f"Nhập lại điểm là một số từ 0 đến {mx}."
    elif kind == "LEVEL_CHANGE":
        declared = f"Tổng điểm tự chấm {s}."
        shows = f"Thay bằng điểm tính từ dữ liệu (nơi có số liệu): {comp} điểm, mức của trường thay đổi."
        settle = "Xử lý các phát hiện ở từng tiêu chí bên trên; mức được tính lại sau lần chạy tiếp theo."
    return {"declared": declared, "data_shows": shows, "settle": settle}


def _findings(data: ReviewData, code: str, crit_rows: pd.DataFrame, delivered: set[str]) -> pd.DataFrame:
    from indicator_sets.reconcile import sort_queue

    f = data.findings[data.findings["school_code"] == code] if len(data.findings) else data.findings
    if not len(f):
        return pd.DataFrame(columns=list(HEADERS["findings"]))
    crit = data.iset.by_code()
    vals = data.final[data.final["school_code"] == code]
    by_code = {r["criterion_code"]: r for r in _records(vals)}
    shown = {r["criterion_code"]: r for r in _records(crit_rows)}
    out = []
    for r in _records(sort_queue(f)):
        cc = r.get("criterion_code") or ""
        row = by_code.get(cc)
        if row is not None:
            row = {**row, "source_files": shown.get(cc, {}).get("source_files", "")}
        words = _finding_words(r, row, crit.get(cc), delivered, data.school_year)
        out.append(
            {
                "criterion_code": cc or "Cả trường",
                "finding": r["finding"],
                "finding_label": FINDING_LABELS.get(r["finding"], r["finding"]),
                "severity_label": SEVERITY_LABELS.get(r["severity"], r["severity"]),
                "points_at_stake": r.get("points_at_stake"),
                **words,
            }
        )
    return pd.DataFrame(out)


def _problems(rejects: pd.DataFrame, code: str, pii: set[tuple[str, str]]) -> pd.DataFrame:
    """The school's rejected rows: where (file, sheet, row, column) and what to correct. A row's value is
    quoted only when its column is not personal data (the connectors' message quotes it)."""
    cols = list(HEADERS["problems"])
    if rejects.empty:
        return pd.DataFrame(columns=cols)
    from connectors.messages import reason_text

    part = rejects[rejects["school_code"] == code]
    out = []
    for r in _records(part):
        letter, header = r.get("column_letter") or "", r.get("header") or r.get("canonical_column") or ""
        column = f"{letter} ({header})" if letter and header else (letter or header)
        personal = (r.get("entity"), r.get("canonical_column")) in pii
        message = r.get("message") if isinstance(r.get("message"), str) else ""
        what = reason_text(str(r.get("reason_code")))
        if message and not personal:
            what = message.split(": ", 1)[1] if ": " in message else message
        elif personal:
            what += " (giá trị là dữ liệu cá nhân, không hiển thị)"
        out.append(
            {
                "source_file": r.get("source_file"),
                "source_sheet": r.get("source_sheet") or "",
                "source_row": None if is_missing(r.get("source_row")) else int(r["source_row"]),
                "column": column,
                "entity_label": SOURCE_LABELS_VI.get(str(r.get("entity")), r.get("entity")),
                "what": what,
            }
        )
    return pd.DataFrame(out, columns=cols).drop_duplicates().reset_index(drop=True)


def _factor_words(v: object) -> str:
    return "—" if is_missing(v) else f"{float(v):.2f}".replace(".", ",")  # type: ignore[arg-type]


def factor_text(final: pd.DataFrame | None, code: str) -> str:
    """The school's verification factor (computed ÷ self points over its criteria with a computed value,
    `indicator_sets.reconcile.verification_factors`) as "0,85"; "—" when there is none."""
    if final is None or final.empty:
        return "—"
    f = verification_factors(final[final["school_code"] == code])["school"]
    return _factor_words(f["factor"].iloc[0] if len(f) else float("nan"))


def factor_texts(final: pd.DataFrame | None) -> dict[str, str]:
    """`factor_text` of every school of `final` at once (one computation for the whole year instead of
    one per school); a school it does not name has "—"."""
    if final is None or final.empty:
        return {}
    f = verification_factors(final)["school"].drop_duplicates("school_code", keep="first")
    return {str(c): _factor_words(v) for c, v in zip(f["school_code"], f["factor"], strict=True)}


def _changes(data: ReviewData, code: str, previous_code: str | None) -> tuple[pd.DataFrame, bool]:
    cols = list(HEADERS["changes"])
    prev = (
        data.previous
    )  # last year's values under this year's codes (indicator_sets.code_mapping.across_reform)
    if prev is None or prev.empty or previous_code is None:
        return pd.DataFrame(columns=cols), False
    before = {r["criterion_code"]: r for r in _records(prev[prev["school_code"] == code])}
    if not before:
        return pd.DataFrame(columns=cols), False
    crit = data.iset.by_code()
    now = {r["criterion_code"]: r for r in _records(data.final[data.final["school_code"] == code])}
    out: list[dict[str, Any]] = []
    for c in data.iset.leaves():
        if c.mandatory or c.code not in now or c.code not in before:
            continue
        a, b = before[c.code].get("points"), now[c.code].get("points")
        if is_missing(a) and is_missing(b):
            continue
        delta = (as_float(b) or 0.0) - (as_float(a) or 0.0)
        if abs(delta) < 0.005:
            continue
        out.append(
            {
                "criterion_code": c.code,
                "criterion_name": crit[c.code].name,
                "points_before": a,
                "points_now": b,
                "delta": round(delta, 2),
                "data_before": data_text(c, before[c.code])
                or STATUS_LABELS.get(str(before[c.code].get("status")), ""),
                "data_now": data_text(c, now[c.code])
                or STATUS_LABELS.get(str(now[c.code].get("status")), ""),
                "direction": "Tăng điểm" if delta > 0 else "Giảm điểm",
            }
        )
    out.sort(key=lambda r: r["delta"])
    return pd.DataFrame(out, columns=cols), True


def actions(
    iset: IndicatorSet, crit_rows: pd.DataFrame, findings: pd.DataFrame, delivered: set[str]
) -> pd.DataFrame:
    """At most MAX_ACTIONS actions ranked by points at stake, one per criterion, each derived by a rule:

    - a computed criterion below its maximum: the figures, how many more units reach the rule's target
      (target × denominator − numerator, rounded up; presence: min_count − count), stake = max − points;
    - a criterion declared but not computable (`no_data`): send the missing exports, stake = the points
      declared (else the maximum);
    - an under-claimed criterion: raise the self score to the computed points, stake = the difference;
    - a document criterion or mandatory condition without an evidence code: record it, stake = the
      points declared (a mandatory condition: 0, it caps the level instead).
    """
    crit = iset.by_code()
    under = (
        {r["criterion_code"]: r for r in _records(findings) if r.get("finding") == "UNDER_CLAIM"}
        if len(findings)
        else {}
    )
    missing_ev = (
        {r["criterion_code"] for r in _records(findings) if r.get("finding") == "MISSING_EVIDENCE"}
        if len(findings)
        else set()
    )
    cands: list[dict] = []
    for r in _records(crit_rows):
        c = crit[r["criterion_code"]]
        mx = float(c.max_points)
        status, points, self_pts = r.get("status"), r.get("points"), r.get("self_points")
        if c.code in under:
            stake = float(under[c.code].get("points_at_stake") or 0.0)
            text = (
                f"{c.code}: {r['data_text']} → {pts(points)} điểm, trường tự chấm {pts(self_pts)} — "
                f"điều chỉnh điểm tự đánh giá lên {pts(points)} điểm"
            )
            cands.append({"criterion_code": c.code, "points_at_stake": stake, "action": text})
            continue
        points_x, self_x = as_float(points), as_float(self_pts)
        if status == "ok" and not c.mandatory and points_x is not None and points_x < mx - _EPS:
            stake = round(mx - points_x, 2)
            text = (
                f"{c.code}: {r['data_text']} — {gap_text(c, r)} để đạt tối đa {pts(mx)} điểm "
                f"(hiện {pts(points)})"
            )
            cands.append({"criterion_code": c.code, "points_at_stake": stake, "action": text})
        elif status == "no_data" and not c.mandatory:
            absent, need = _absent_inputs(c, delivered)
            send = (
                f"gửi tệp {', '.join(absent)}"
                if absent
                else f"kiểm tra lại và gửi lại tệp {', '.join(need) or 'số liệu'}"
            )
            declared = self_x if self_x is not None and self_x > 0 else None
            stake = mx if declared is None else declared
            tail = (
                f"để kiểm chứng {pts(self_pts)} điểm đã tự chấm"
                if declared is not None
                else f"để tiêu chí được tính (tối đa {pts(mx)} điểm)"
            )
            text = f"{c.code}: chưa có số liệu — {send} {tail}"
            cands.append({"criterion_code": c.code, "points_at_stake": stake, "action": text})
        elif c.code in missing_ev:
            stake = 0.0 if c.mandatory or self_x is None else self_x
            what = "điều kiện bắt buộc" if c.mandatory else f"{pts(self_pts)} điểm đã tự chấm"
            text = f"{c.code}: chưa có mã minh chứng — ghi mã minh chứng cho {what}"
            cands.append({"criterion_code": c.code, "points_at_stake": stake, "action": text})
    cands = [a for a in cands if a["points_at_stake"] > _EPS]
    cands.sort(key=lambda a: (-a["points_at_stake"], a["criterion_code"]))
    top = cands[:MAX_ACTIONS]
    for i, a in enumerate(top, start=1):
        a["rank"] = i
        a["points_at_stake"] = round(a["points_at_stake"], 2)
    return pd.DataFrame(top, columns=list(HEADERS["actions"]))


def _score_line(frame: pd.DataFrame, code: str) -> dict:
    if frame is None or frame.empty:
        return {}
    part = frame[frame["school_code"] == code]
    return part.iloc[0].to_dict() if len(part) else {}


def build_pack(
    data: ReviewData,
    code: str,
    *,
    rejects: pd.DataFrame,
    quarantined: pd.DataFrame,
    missing: list[str],
    delivered: set[str],
    pii: set[tuple[str, str]],
    previous_code: str | None = "",
    previous_year: str = "",
    audits: list[dict] | None = None,
    factors: tuple[dict[str, str], dict[str, str]] | None = None,
) -> SchoolPack:
    """One school's pack. `rejects`: the year's quarantine rows (every school; this school's are taken);
    `quarantined`: the year's quarantined files (source_file, school_code, reason_code); `missing`: the
    Vietnamese labels of the expected exports the school did not deliver; `delivered`: the entities of
    which rows of the school arrived; `pii`: (entity, column) pairs
    that are personal data; `data.previous` holds last year's values already under this year's codes
    (`indicator_sets.code_mapping.across_reform`); `previous_code`: the school's code last year, named in
    the overview ("" = its own code; None = a code mapping names the school but matches nothing last year,
    so no comparison); `audits`: the SQL cross-checks with offending rows of the school
    (`reports.data_quality.audit_counts_by_school`, plus `details`: what to correct, when the audit says
    it); `factors`: `factor_texts` of `data.final` and `data.previous` when the caller computed them once
    for every school (else computed here)."""
    from connectors.messages import reason_text

    units = data.units()
    u = units[units["school_code"] == code]
    name = str(u["school_name"].iloc[0]) if len(u) else ""
    unit = str(u["managing_unit"].iloc[0]) if len(u) else ""
    crit_rows = _criteria_rows(data, code)
    problems = _problems(rejects, code, pii)
    findings = _findings(data, code, crit_rows, delivered)
    qf = quarantined[quarantined["school_code"] == code] if len(quarantined) else quarantined
    files = pd.DataFrame(
        [{"source_file": r["source_file"], "what": reason_text(str(r["reason_code"]))} for r in _records(qf)],
        columns=list(HEADERS["files"]),
    )
    prev_code = code if previous_code == "" else previous_code
    changes, has_prev = _changes(data, code, prev_code)
    acts = actions(data.iset, crit_rows, findings, delivered)
    s, fi, pr = (_score_line(f, code) for f in (data.self_scores, data.final_scores, data.proposed_scores))
    lv = data.iset.levels.names

    def level(d: dict) -> str:
        return lv.get(int(d["level"]), str(d["level"])) if d and not is_missing(d.get("level")) else "—"

    factor_now = factors[0].get(code, "—") if factors else factor_text(data.final, code)

    def factor_before() -> str:
        return factors[1].get(code, "—") if factors else factor_text(data.previous, code)

    overview = [
        ("Mã trường", code),
        ("Tên trường", name),
        ("Đơn vị quản lý", unit),
        ("Năm học", data.school_year),
        (
            "Tự đánh giá – nhóm I / nhóm II",
            f"{pts(s.get('group_dh_points'))} / {pts(s.get('group_qt_points'))}",
        ),
        ("Mức tự đánh giá", level(s)),
        (
            "Tính từ dữ liệu – nhóm I / nhóm II",
            f"{pts(fi.get('group_dh_points'))} / {pts(fi.get('group_qt_points'))}",
        ),
        ("Mức tính từ dữ liệu", level(fi)),
        (
            "Đề xuất (đánh giá ngoài) – nhóm I / nhóm II",
            f"{pts(pr.get('group_dh_points'))} / {pts(pr.get('group_qt_points'))}",
        ),
        ("Mức đề xuất", level(pr)),
        ("Hệ số xác thực (điểm tính từ dữ liệu ÷ điểm tự đánh giá)", factor_now),
        *([("Hệ số xác thực năm học trước", factor_before())] if has_prev else []),
        ("Số phát hiện", str(len(findings))),
        ("Số dòng dữ liệu bị loại", str(len(problems))),
        ("Số tệp bị cách ly", str(len(files))),
        ("Số trường hợp phát hiện khi kiểm tra chéo", str(sum(int(a["count"]) for a in audits or []))),
        ("Nguồn dữ liệu còn thiếu", ", ".join(missing) if missing else "Không"),
    ]
    if prev_code != code:
        overview.append(("Mã trường năm học trước (tệp ánh xạ mã trường)", prev_code or "Không ghép được"))
    counted = (
        data.counted[data.counted["school_code"] == code].copy() if len(data.counted) else pd.DataFrame()
    )
    if len(counted):
        counted["role"] = counted["role"].map(lambda v: ROLE_LABELS.get(str(v), v))
        counted = counted.sort_values(["criterion_code", "role", "source_file", "source_sheet", "source_row"])
    return SchoolPack(
        school_code=code,
        school_name=name,
        managing_unit=unit,
        school_year=data.school_year,
        previous_year=previous_year,
        overview=overview,
        criteria=crit_rows,
        findings=findings,
        problems=problems,
        files=files,
        missing=list(missing),
        changes=changes,
        actions=acts,
        counted=counted.reset_index(drop=True),
        has_previous=has_prev,
        audits=pd.DataFrame(
            [
                {
                    "purpose": a["purpose"],
                    "count": int(a["count"]),
                    "severity": "Chặn công bố" if a.get("blocking") else "Cảnh báo",
                    "details": a.get("details", ""),
                }
                for a in audits or []
            ],
            columns=list(HEADERS["audits"]),
        ),
    )


# --------------------------------------------------------------------------------------- writing
SHEETS = {
    "Việc cần làm": "actions",
    "Tiêu chí": "criteria",
    "Phát hiện": "findings",
    "Lỗi dữ liệu": "problems",
    "Tệp bị cách ly": "files",
    "Kiểm tra chéo": "audits",
    "So với năm trước": "changes",
    "Dòng được đếm": "counted",
}


def write_pack_xlsx(path: Path, pack: SchoolPack) -> Path:
    """The pack as a workbook: an overview sheet, then one sheet per part (empty parts keep their header)."""
    overview = pd.DataFrame(pack.overview, columns=["label", "value"])
    missing = pd.DataFrame({"label": pack.missing})
    sheets: dict[str, tuple[pd.DataFrame, dict[str, str]]] = {
        "Tổng quan": (overview, {"label": "Nội dung", "value": "Giá trị"}),
    }
    for title, key in SHEETS.items():
        sheets[title] = (getattr(pack, key), HEADERS[key])
    sheets["Nguồn còn thiếu"] = (missing, {"label": "Nguồn dữ liệu chưa nhận được"})
    return write_sheets(path, sheets)


@functools.cache
def _env() -> jinja2.Environment:
    """One environment for every pack of the process (its template compiled once)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    )
    env.filters["pts"] = pts
    env.filters["count"] = count
    return env


def render_pack_html(pack: SchoolPack) -> str:
    return _env().get_template("school_pack.html.j2").render(p=pack, records=_records)


def write_pack_html(path: Path, pack: SchoolPack) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_pack_html(pack), encoding="utf-8")
    return path
