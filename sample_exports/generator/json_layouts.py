"""JSON layouts: hub pushes `dti.push_users.v1` / `dti.push_schools.v1` (§3.8) and `lms.resources.v1`
(§3.9 B)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .plan import YearPlan

HUB_KEY = {"lessons_assigned": "total_lessons", "tests_graded": "total_tests"}
ROLE = {"Giáo viên": "GV", "Học sinh": "HS", "Phụ huynh": "PH"}
CTYPE = {"Bài giảng điện tử": "TEXT", "Video": "VIDEO", "Tài liệu": "DOCUMENT", "SCORM": "SCORM"}
APPROVAL = {"Đã duyệt": "Approved", "Chờ duyệt": "Pending", "Từ chối": "Rejected"}


def school_level_code(plan: YearPlan) -> str:
    lv = plan.school.level
    if lv == "GDTX":
        return "05"
    g = min(plan.school.grades)
    return "02" if g <= 5 else "03" if g <= 9 else "04"


def _chunks(items: list[Any], n: int) -> Iterator[list[Any]]:
    for k in range(0, len(items), n):
        yield items[k : k + n]


def push_users(out: Path, plan: YearPlan, emit: Callable[[str, str, Any], None]) -> list[dict[str, Any]]:
    """Write one push per ≤500 users into the province folder; return the school summary for push_schools."""
    s0 = plan.start
    users = []
    for pin, role, grade, subj, mt in plan.lms_users:
        metrics = []
        for key, val in mt.items():
            m: dict[str, Any] = {"key": HUB_KEY.get(key, key), "value": val}
            if subj and key == "lessons_assigned":
                m["subject_code"] = subj
            if grade and key == "active_events":
                m["grade_code"] = f"{grade:02d}"
            metrics.append(m)
        u: dict[str, Any] = {"user_pin": pin, "role": ROLE[role], "metrics": metrics}
        if len(users) % 11 == 5:
            del u["role"]  # role absent: resolved from user_pin
        users.append(u)
    for k, chunk in enumerate(_chunks(users, 500), 1):
        body = {
            "provdoet_code": plan.school.province_code,
            "school_code": plan.school.code,
            "school_level": school_level_code(plan),
            "school_year_code": s0,
            "semester_code": 1,
            "measured_at": f"{s0 + 1}-01-12T23:00:00+07:00",
            "users": chunk,
        }
        obj: Any = (
            {"error_code": 0, "data": body, "message": ""} if k % 2 == 0 or plan.school.idx % 3 == 0 else body
        )
        emit(f"{plan.year}/province/dti_push_users_{plan.school.code}_{k:02d}.json", "dti.push_users.v1", obj)
    shared = sum(1 for r in plan.resources if r.shared)
    return [
        {
            "school_code": plan.school.code,
            "school_level": school_level_code(plan),
            "has_lms": True,
            "shared_to_hub": shared,
            "metrics": [{"key": "total_shared_to_hub", "value": shared}],
        }
    ]


def push_schools(
    entries: list[dict[str, Any]], province_code: str, year: str, emit: Callable[[str, str, Any], None]
) -> None:
    """School-level pushes (≤500 schools per file); metrics carry no criterion keys."""
    s0 = int(year[:4])
    for k, chunk in enumerate(_chunks(entries, 500), 1):
        emit(
            f"{year}/province/dti_push_schools_{k:02d}.json",
            "dti.push_schools.v1",
            {
                "provdoet_code": province_code,
                "school_year_code": s0,
                "semester_code": 1,
                "measured_at": f"{s0 + 1}-01-12T23:00:00+07:00",
                "schools": chunk,
            },
        )


def resources_json(plan: YearPlan) -> list[dict[str, Any]]:
    """lms.resources.v1: a JSON array of hub resource objects."""
    return [
        {
            "Id": r.rid,
            "Title": r.title,
            "SubjectCode": r.subject,
            "GradeCode": f"{r.grade:02d}",
            "ContentType": CTYPE.get(r.ctype, "DOCUMENT"),
            "AuthorPin": r.author,
            "SchoolCode": plan.school.code,
            "DoetCode": plan.school.province_code,
            "EducationLevelCode": school_level_code(plan),
            "ApprovalStatus": APPROVAL[r.approval],
            "ModerationStatus": r.moderation,
            "CreatedAt": f"{r.created.isoformat()}T08:00:00+07:00",
            "DownloadCount": r.downloads,
        }
        for r in plan.resources
    ]
