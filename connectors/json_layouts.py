"""JSON layouts (docs/exports.md §1.1, §3.8, §3.9 B), detected by their keys, never by file name:

- `users[].user_pin` → `dti.push_users.v1` (hub push, one school, per-user metrics);
- `schools[]` → `dti.push_schools.v1` (school-level metrics, role `school`);
- an array of objects with `ApprovalStatus` → `lms.resources.v1`; an empty array `[]` is an empty resource
  list (the other JSON shapes are objects), reported as an empty file of that layout.

Rows go through the same `finish_rows` as spreadsheets (row = 1-based position of the user, school or
resource in the file), so rejects, de-duplication and provenance behave alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from connectors.layouts import ColumnSpec, Layout
from connectors.readers import FileRejected
from connectors.sheet_parser import ParseContext, SheetResult, finish_rows

HUB_METRICS = {
    "total_lessons": "lessons_assigned",
    "total_tests": "tests_graded",
    "total_exercises_submitted": "exercises_submitted",
    "total_shared_to_hub": "resources_shared",
    "teacher_online_duration": "teacher_online_minutes",
    "student_online_duration": "student_online_minutes",
}
PROJECT_METRICS = {
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
ROLE = {"GV": "teacher", "HS": "student", "PH": "parent"}


def _spec(parse: str = "text", **kw: Any) -> ColumnSpec:
    return ColumnSpec(headers=["-"], parse=parse, **kw)  # type: ignore[arg-type]


def _layout(layout_id: str, entity: str, key: str, columns: dict[str, ColumnSpec], source: str) -> Layout:
    return Layout(
        id=layout_id,
        entity=entity,
        source_system=source,
        key=key,
        columns=columns,
        required_metadata=["school_code"],
    )


_METRIC_COLUMNS = {
    "user_pin": _spec("id", upper=True),
    "role": _spec(),
    "subject_code": _spec(),
    "grade": _spec("grade"),
    "metric": _spec(),
    "value": _spec("float", min=0),
    "dim_value": _spec(),
    "school_code": _spec("school_code"),
}
PUSH_USERS = _layout("dti.push_users.v1", "lms_activity", "metric", dict(_METRIC_COLUMNS), "dti")
PUSH_SCHOOLS = _layout("dti.push_schools.v1", "lms_activity", "metric", dict(_METRIC_COLUMNS), "dti")
RESOURCES = _layout(
    "lms.resources.v1",
    "learning_resource",
    "resource_id",
    {
        "resource_id": _spec("id"),
        "title": _spec(),
        "subject_code": _spec(),
        "grade": _spec("grade"),
        "content_type": _spec(
            values={"TEXT": "text", "SCORM": "scorm", "VIDEO": "video", "DOCUMENT": "document"},
            unknown="other",
        ),
        "author_id": _spec("id", upper=True),
        "school_code": _spec("school_code"),
        "approval_status": _spec(
            values={"Approved": "approved", "Pending": "pending", "Rejected": "rejected"}
        ),
        "moderation_status": _spec(
            values={"Normal": "normal", "ReviewedSafe": "reviewed_safe", "Flagged": "flagged"}
        ),
        "created_at": _spec(),
        "downloads": _spec("int", min=0),
    },
    "lms:hub",
)


def _missing(obj: dict, keys: list[str], where: str) -> None:
    absent = [k for k in keys if k not in obj]
    if absent:
        raise FileRejected("missing_required_column", f"{where}: {', '.join(absent)}")


def _finish(raw: pd.DataFrame, layout: Layout, ctx: ParseContext) -> SheetResult:
    raw.index = pd.RangeIndex(1, len(raw) + 1)
    return finish_rows(raw, layout, "json", ctx, {}, {}, 0)


def _metric_name(key: pd.Series) -> pd.Series:
    k = key.astype("string")
    mapped = k.map(HUB_METRICS)
    return mapped.fillna(k.where(k.isin(PROJECT_METRICS), "other:" + k))


def _subject(code: pd.Series) -> pd.Series:
    from connectors import normalize as nz

    c = code.astype("string").str.strip()
    from connectors.vocabulary import vocabulary

    known = c.str.upper().where(c.str.upper().isin(set(vocabulary().subjects.subjects)))
    return known.fillna(c.map(lambda v: nz.subject_code_of(v) if isinstance(v, str) else None)).fillna(
        c.where(c.isna(), "UNKNOWN")
    )


def _push(body: dict, ctx: ParseContext, users: bool) -> SheetResult:
    from connectors import derive
    from connectors import normalize as nz

    top = ["provdoet_code", "school_year_code", "semester_code", "measured_at"]
    _missing(body, [*top, "school_code"] if users else top, "body")
    items = body["users"] if users else body["schools"]
    recs = []
    for i, item in enumerate(items, start=1):  # ≤ 500 items per push: a loop over items is fine
        _missing(item, ["user_pin", "metrics"] if users else ["school_code", "metrics"], f"item {i}")
        for m in item.get("metrics") or []:
            _missing(m, ["key", "value"], f"item {i}")
            recs.append(
                {
                    "_item": i,
                    "user_pin": item.get("user_pin"),
                    "role": item.get("role"),
                    "school_code": item.get("school_code", body.get("school_code")),
                    "key": m["key"],
                    "value": m["value"],
                    "subject_code": m.get("subject_code"),
                    "grade": m.get("grade_code"),
                    "dim_value": m.get("dim_value"),
                }
            )
    if not recs:
        raise FileRejected("empty_file")
    df = pd.DataFrame(recs)
    raw = pd.DataFrame(
        {
            "user_pin": df["user_pin"].astype("string") if users else df["school_code"].astype("string"),
            "school_code": df["school_code"].astype("string"),
            "metric": _metric_name(df["key"]),
            "value": df["value"].astype("string"),
            "subject_code": _subject(df["subject_code"]),
            "grade": df["grade"].astype("string"),
            "dim_value": df["dim_value"].astype("string"),
        }
    )
    role = df["role"].astype("string").str.upper().map(ROLE)
    pin = raw["user_pin"].fillna("")
    guessed = (
        pd.Series("student", index=df.index)
        .mask(pin.str.upper().str.startswith("CB"), "teacher")
        .mask(pin.str.upper().str.startswith("PH"), "parent")
    )
    raw["role"] = role.fillna(guessed) if users else "school"
    res = _finish(raw, PUSH_USERS if users else PUSH_SCHOOLS, ctx)
    measured = derive.parse_timestamp_text(pd.Series([body["measured_at"]] * len(res.rows)))
    res.rows["measured_at"] = measured.to_numpy()
    # each value counts the local day that ends at measured_at
    res.rows["period_start"] = measured.dt.normalize().to_numpy()
    res.rows["period_end"] = measured.dt.normalize().to_numpy()
    res.rows["school_year"] = nz.school_year_of(str(body["school_year_code"]))
    res.rows["semester"] = nz.semester_of(str(body["semester_code"]))
    res.rows["platform"] = "dti"
    return res


def _resources(items: list[dict], ctx: ParseContext) -> SheetResult:
    from connectors import derive

    for i, it in enumerate(items, start=1):
        _missing(it, ["Id", "SchoolCode", "ApprovalStatus"], f"item {i}")
    df = pd.DataFrame(items)
    col = {
        "Id": "resource_id",
        "Title": "title",
        "SubjectCode": "subject_code",
        "GradeCode": "grade",
        "ContentType": "content_type",
        "AuthorPin": "author_id",
        "SchoolCode": "school_code",
        "ApprovalStatus": "approval_status",
        "ModerationStatus": "moderation_status",
        "CreatedAt": "created_at",
        "DownloadCount": "downloads",
    }
    raw = pd.DataFrame({c: df[k].astype("string") if k in df.columns else pd.NA for k, c in col.items()})
    raw["subject_code"] = _subject(raw["subject_code"])
    extra = [k for k in df.columns if k not in col]
    if extra:
        raw["src_extra"] = df[extra].to_json(orient="records", lines=True, force_ascii=False).splitlines()
    res = _finish(raw, RESOURCES, ctx)
    rows = res.rows
    rows["created_at"] = derive.parse_timestamp_text(rows["created_at"]).to_numpy()
    rows["shared_to_hub"] = (rows["approval_status"] == "approved") & rows["moderation_status"].isin(
        ["normal", "reviewed_safe"]
    )
    rows["school_year"] = ctx.folder_year
    return res


def parse_json_file(path: Path, ctx: ParseContext) -> list[SheetResult]:
    """Parse a JSON export detected by its keys; anything else is `unrecognized_layout`."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileRejected("bad_encoding", str(exc)[:120]) from exc
    except json.JSONDecodeError as exc:
        raise FileRejected("unreadable_file", str(exc)[:120]) from exc
    if isinstance(data, dict) and isinstance(data.get("data"), dict) and "error_code" in data:
        data = data["data"]
    if isinstance(data, dict) and isinstance(data.get("users"), list):
        if data["users"] and not all(isinstance(u, dict) and "user_pin" in u for u in data["users"]):
            raise FileRejected("missing_required_column", "users[].user_pin")
        return [_push(data, ctx, users=True)]
    if isinstance(data, dict) and isinstance(data.get("schools"), list):
        return [_push(data, ctx, users=False)]
    if (
        isinstance(data, list)
        and data
        and all(isinstance(x, dict) for x in data)
        and any("ApprovalStatus" in x for x in data)
    ):
        return [_resources(data, ctx)]
    if data == []:  # the only array-shaped export is the resource list: `[]` is a list with no resource
        return [SheetResult(RESOURCES, "json", pd.DataFrame(), [], [], rows_read=0, rows_skipped=0)]
    raise FileRejected("unrecognized_layout", "JSON")
