"""The pure mapping of one hub push object (`dti.push_users.v1` / `dti.push_schools.v1`, §3.8) to
canonical `lms_activity` rows (`push_to_rows`), shared by the API pull and the file-drop JSON layouts, with
the hub vocabulary it maps (metrics, roles, subjects) and the value rules of its fields. No I/O here."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from connectors.messages import reason_text
from connectors.normalize import school_year_of, semester_of
from connectors.readers import FileRejected

ENTITY = "lms_activity"
LAYOUT_USERS = "dti.push_users.v1"
LAYOUT_SCHOOLS = "dti.push_schools.v1"
LOCAL_TZ = dt.timezone(dt.timedelta(hours=7))


# Hub key → canonical metric (§3.8); any other key becomes `other:<key>`.
HUB_METRICS: dict[str, str] = {
    "total_lessons": "lessons_assigned",
    "total_tests": "tests_graded",
    "total_exercises_submitted": "exercises_submitted",
    "total_shared_to_hub": "resources_shared",
    "teacher_online_duration": "teacher_online_minutes",
    "student_online_duration": "student_online_minutes",
}


PROJECT_METRICS = frozenset(
    {
        "live_sessions",
        "lessons_assigned",
        "questions_answered",
        "tests_graded",
        "parent_views",
        "active_events",
        "exercises_submitted",
        "resources_shared",
        "teacher_online_minutes",
        "student_online_minutes",
    }
)


HUB_ROLES = {"GV": "teacher", "HS": "student", "PH": "parent"}
CANONICAL_ROLES = frozenset({"teacher", "student", "parent", "school"})


# Project subject codes (§4). A hub 4-digit code is mapped through `hub_subjects`; the rest → UNKNOWN.
PROJECT_SUBJECTS = frozenset(
    {
        "TOAN",
        "VAN",
        "NN1",
        "GDCD",
        "LSDL",
        "KHTN",
        "LS",
        "DL",
        "GDKTPL",
        "LY",
        "HOA",
        "SINH",
        "CNGH",
        "TIN",
        "GDQPAN",
        "GDTC",
        "NT",
        "AN",
        "MT",
        "HDTN",
        "GDDP",
        "TV",
        "DD",
        "TNXH",
        "KH",
        "TDT",
        "TINCN",
    }
)


ROW_COLUMNS = [
    "school_code",
    "school_year",
    "source_system",
    "layout_id",
    "period_start",
    "period_end",
    "measured_at",
    "semester",
    "user_pin",
    "role",
    "subject_code",
    "grade",
    "metric",
    "value",
    "dim_value",
    "platform",
    "src_extra",
]


class PushRejected(FileRejected):
    """A push object that cannot be loaded; `code` is a §1.6 reason, `field` the offending JSON path.

    A `FileRejected`, so the file-drop JSON layout can let it propagate to quarantine the file.
    """

    def __init__(self, code: str, field_path: str, found: str = "") -> None:
        super().__init__(code, f"{field_path}: {found}" if found else field_path)
        self.field = field_path
        self.found = found

    @property
    def message_vi(self) -> str:
        """`<reason text>: '<field>'` plus the value found, in Vietnamese (§1.6 texts)."""
        text = reason_text(self.code).replace("Tệp JSON", "Đối tượng JSON") + f": '{self.field}'"
        return text + (f" — giá trị '{self.found}'" if self.found else "")


def unwrap_push(obj: Any) -> Any:
    """Strip the hub envelope `{"error_code":0,"data":{…},"message":""}` when present."""
    if isinstance(obj, dict) and "data" in obj and "error_code" in obj and isinstance(obj["data"], dict):
        return obj["data"]
    return obj


def push_layout(obj: Any) -> str | None:
    """`dti.push_users.v1` / `dti.push_schools.v1` by key (§1.1), None when neither."""
    obj = unwrap_push(obj)
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("users"), list):
        return LAYOUT_USERS
    if isinstance(obj.get("schools"), list):
        return LAYOUT_SCHOOLS
    return None


def canonical_json_sha256(obj: Any) -> str:
    """sha256 of the canonical JSON of an object (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _req(d: Mapping[str, Any], key: str, path: str) -> Any:
    v = d.get(key)
    if _missing(v):
        raise PushRejected("missing_required_column", f"{path}{key}")
    return v


def _id_text(v: Any) -> str:
    """IDs are text (§1.5): numbers lose a `.0` tail, spaces and a leading `'` are stripped."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).replace("\u00a0", " ").strip().lstrip("'").strip().replace(" ", "")
    return re.sub(r"^(\d+)\.0+$", r"\1", s)


def school_code_of(v: Any) -> str:
    """School code (§2): an all-digit code shorter than 8 is left-padded to 8."""
    s = _id_text(v)
    return s.zfill(8) if s.isdigit() and len(s) < 8 else s


def role_of(role: Any, user_pin: str) -> str | None:
    """GV/HS/PH → teacher/student/parent; absent or unknown → from the pin: CB… teacher, PH… parent,
    10 digits student; otherwise None."""
    if not _missing(role):
        r = str(role).strip()
        if r.upper() in HUB_ROLES:
            return HUB_ROLES[r.upper()]
        if r.lower() in CANONICAL_ROLES:
            return r.lower()
    pin = user_pin.upper()
    if pin.startswith("CB"):
        return "teacher"
    if pin.startswith("PH"):
        return "parent"
    if re.fullmatch(r"\d{10}", pin):
        return "student"
    return None


def metric_of(key: str) -> str:
    """Hub key → metric (§3.8); project keys pass; anything else is kept as `other:<key>`."""
    k = key.strip()
    if k in HUB_METRICS:
        return HUB_METRICS[k]
    if k in PROJECT_METRICS:
        return k
    return f"other:{k}"


def measured_at_local(v: Any, path: str = "measured_at") -> dt.datetime:
    """ISO timestamp → naive local (UTC+7) time; a timestamp without zone is already local (§1.5)."""
    try:
        ts = dt.datetime.fromisoformat(str(v).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise PushRejected("bad_date", path, str(v)[:40]) from exc
    if ts.tzinfo is not None:
        ts = ts.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return ts


def period_day(measured_at: dt.datetime) -> dt.date:
    """The local day a value counts: the day that ends at `measured_at` (§3.8). A value measured at
    exactly 00:00 closes the previous day."""
    if measured_at.time() == dt.time(0, 0):
        return (measured_at - dt.timedelta(days=1)).date()
    return measured_at.date()


def _school_year(v: Any, path: str) -> str:
    try:
        if isinstance(v, bool):
            raise ValueError
        if isinstance(v, int | float):
            if float(v) != int(v):
                raise ValueError
            v = str(int(v))
        sy = school_year_of(v)
    except ValueError as exc:
        raise PushRejected("bad_school_year", path, str(v)[:20]) from exc
    if sy is None:
        raise PushRejected("bad_school_year", path, str(v)[:20])
    return sy


def _value(v: Any, path: str) -> float:
    if _missing(v):
        raise PushRejected("missing_required_column", path)
    try:
        if isinstance(v, bool):
            raise ValueError
        x = float(str(v).replace(",", ".")) if isinstance(v, str) else float(v)
    except (TypeError, ValueError) as exc:
        raise PushRejected("bad_number", path, str(v)[:20]) from exc
    if not math.isfinite(x):
        raise PushRejected("bad_number", path, str(v)[:20])
    if x < 0:
        raise PushRejected("out_of_range", path, f"{v} < 0")
    return x


def _grade(v: Any) -> int | None:
    if _missing(v):
        return None
    m = re.fullmatch(r"0*(\d{1,2})(?:\.0+)?", _id_text(v))
    return int(m.group(1)) if m else None


def _subject(v: Any, hub_subjects: Mapping[str, str] | None) -> tuple[str | None, str | None]:
    """(subject_code, the raw code when it was not a project code)."""
    if _missing(v):
        return None, None
    raw = _id_text(v).upper()
    if raw in PROJECT_SUBJECTS:
        return raw, None
    if hub_subjects and raw in hub_subjects:
        return hub_subjects[raw], None
    return "UNKNOWN", raw


def push_to_rows(
    obj: dict, hash_key: str = "", *, hub_subjects: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One hub push object (§3.8 A `dti.push_users.v1` or the school shape `dti.push_schools.v1`,
    optionally in its `{"error_code","data","message"}` envelope) → canonical `lms_activity` rows.

    Columns: `ROW_COLUMNS` (school_code, school_year, source_system, layout_id, period and metric
    columns, src_extra). Provenance of the carrier (source_file, source_sheet, source_row,
    file_sha256, ingested_at) is the caller's. One row per metric entry; an empty `users`/`schools`
    list gives no row. Raises `PushRejected` (code `missing_required_column`, `bad_date`,
    `bad_school_year`, `bad_number`, `out_of_range` or `unrecognized_layout`) for an invalid object:
    the object is all-or-nothing.

    `hash_key` is the §6 HMAC key, taken for parity with the file parsers; the documented push bodies
    carry no field that §6 requires hashing, so it is currently unused. `hub_subjects` maps 4-digit hub
    subject codes to project codes; an unmapped code becomes `UNKNOWN` (raw code kept in src_extra).
    """
    del hash_key  # no §6 field in a push body (see docstring)
    body = unwrap_push(obj)
    layout = push_layout(body)
    if layout is None:
        raise PushRejected("unrecognized_layout", "users|schools", "neither users[] nor schools[]")
    school_year = _school_year(_req(body, "school_year_code", ""), "school_year_code")
    semester_raw = _req(body, "semester_code", "")
    semester = semester_of(str(semester_raw))
    if semester is None:
        raise PushRejected("unknown_value", "semester_code", str(semester_raw)[:20])
    measured_at = measured_at_local(_req(body, "measured_at", ""))
    platform = str(body.get("platform") or "hub").strip() or "hub"
    top_extra = {k: body[k] for k in ("provdoet_code", "school_level") if body.get(k) is not None}
    if layout == LAYOUT_USERS:
        rows = _user_rows(body, top_extra, hub_subjects)
    else:
        rows = _school_rows(body, top_extra, hub_subjects)
    frame = pd.DataFrame(rows, columns=[c for c in ROW_COLUMNS if c not in _OBJECT_COLUMNS])
    day = period_day(measured_at)
    frame["school_year"] = school_year
    frame["source_system"] = f"lms:{platform}"
    frame["layout_id"] = layout
    frame["period_start"] = pd.Timestamp(day)
    frame["period_end"] = pd.Timestamp(day)
    frame["measured_at"] = pd.Timestamp(measured_at)
    frame["semester"] = semester
    frame["platform"] = platform
    frame["grade"] = frame["grade"].astype("Int64")
    frame["value"] = frame["value"].astype("float64")
    return frame[ROW_COLUMNS]


# The columns one push object gives all its rows (the others come from each metric entry).
_OBJECT_COLUMNS = (
    "school_year",
    "source_system",
    "layout_id",
    "period_start",
    "period_end",
    "measured_at",
    "semester",
    "platform",
)


def _user_rows(
    body: Mapping[str, Any], top_extra: dict[str, Any], hub_subjects: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """The metric rows of a `dti.push_users.v1` object: one per metric entry of each user."""
    school_code = school_code_of(_req(body, "school_code", ""))
    rows: list[dict[str, Any]] = []
    for i, u in enumerate(body["users"]):
        up = f"users[{i}]."
        if not isinstance(u, dict):
            raise PushRejected("missing_required_column", up.rstrip("."))
        pin = _id_text(_req(u, "user_pin", up))
        if len(pin) > 36:
            raise PushRejected("bad_id_format", f"{up}user_pin", pin[:40])
        rows += _metric_rows(
            u.get("metrics"), up, school_code, pin, role_of(u.get("role"), pin), top_extra, hub_subjects
        )
    return rows


def _school_rows(
    body: Mapping[str, Any], top_extra: dict[str, Any], hub_subjects: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """The metric rows of a `dti.push_schools.v1` object: one per metric entry of each school."""
    rows: list[dict[str, Any]] = []
    for i, s in enumerate(body["schools"]):
        sp = f"schools[{i}]."
        if not isinstance(s, dict):
            raise PushRejected("missing_required_column", sp.rstrip("."))
        code = school_code_of(_req(s, "school_code", sp))
        extra = dict(top_extra)
        extra.update({k: s[k] for k in ("school_level", "has_lms", "shared_to_hub") if s.get(k) is not None})
        rows += _metric_rows(s.get("metrics"), sp, code, None, "school", extra, hub_subjects)
    return rows


def _metric_rows(
    metrics: Any,
    path: str,
    school_code: str,
    user_pin: str | None,
    role: str | None,
    extra: dict[str, Any],
    hub_subjects: Mapping[str, str] | None,
) -> list[dict[str, Any]]:
    """One row per entry of a user's or school's `metrics` list (`path`: where the list is, for the
    rejection of a bad entry)."""
    if not isinstance(metrics, list):
        raise PushRejected("missing_required_column", f"{path}metrics")
    rows: list[dict[str, Any]] = []
    for j, m in enumerate(metrics):
        mp = f"{path}metrics[{j}]."
        if not isinstance(m, dict):
            raise PushRejected("missing_required_column", mp.rstrip("."))
        key = str(_req(m, "key", mp))
        value = _value(m.get("value"), f"{mp}value")
        subject, subject_raw = _subject(m.get("subject_code"), hub_subjects)
        row_extra = dict(extra)
        if subject_raw is not None:
            row_extra["subject_code_raw"] = subject_raw
        dim = m.get("dim_value")
        rows.append(
            {
                "school_code": school_code,
                "user_pin": user_pin,
                "role": role,
                "metric": metric_of(key),
                "value": value,
                "subject_code": subject,
                "grade": _grade(m.get("grade_code", m.get("grade"))),
                "dim_value": None if _missing(dim) else str(dim).strip(),
                "src_extra": json.dumps(row_extra, ensure_ascii=False, sort_keys=True) if row_extra else None,
            }
        )
    return rows
