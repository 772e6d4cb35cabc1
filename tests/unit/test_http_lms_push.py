"""Pure parts of the LMS API connector: push object → rows (§3.8), and the transport helpers (retry,
origin, error codes and their Vietnamese causes, the limits' defaults)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pandas as pd
import pytest

from connectors.http_client import (
    DEFAULT_MAX_BODY_BYTES,
    ApiError,
    RetryPolicy,
    origin_of,
    origin_text,
    parse_retry_after,
    seconds_vi,
)
from connectors.http_lms import (
    LAYOUT_SCHOOLS,
    LAYOUT_USERS,
    PULL_ERROR_CODES,
    PushRejected,
    canonical_json_sha256,
    metric_of,
    push_to_rows,
    resolve_api_key,
    role_of,
    source_file_of,
    start_year,
)

pytestmark = pytest.mark.unit


def users_push(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provdoet_code": "08",
        "school_code": "08000123",
        "school_level": "03",
        "school_year_code": 2024,
        "semester_code": 1,
        "measured_at": "2025-01-12T23:00:00+07:00",
        "users": [
            {
                "user_pin": "CB00001234",
                "role": "GV",
                "metrics": [
                    {
                        "key": "total_lessons",
                        "value": 14,
                        "subject_code": "TOAN",
                        "grade_code": "06",
                        "dim_value": "video",
                    },
                    {"key": "live_sessions", "value": 3},
                ],
            }
        ],
    }
    body.update(over)
    return body


def test_documented_example_maps_to_canonical_rows() -> None:
    df = push_to_rows(users_push(), "k")
    assert list(df["metric"]) == ["lessons_assigned", "live_sessions"]
    r = df.iloc[0]
    assert (r["school_code"], r["school_year"], r["semester"], r["user_pin"], r["role"]) == (
        "08000123",
        "2024-2025",
        "1",
        "CB00001234",
        "teacher",
    )
    assert (r["subject_code"], r["grade"], r["dim_value"], r["value"]) == ("TOAN", 6, "video", 14.0)
    assert r["measured_at"] == pd.Timestamp("2025-01-12 23:00:00")
    assert r["period_start"] == r["period_end"] == pd.Timestamp("2025-01-12")
    assert (r["layout_id"], r["source_system"], r["platform"]) == (LAYOUT_USERS, "lms:hub", "hub")
    assert pd.isna(df.iloc[1]["subject_code"]) and pd.isna(df.iloc[1]["grade"])


def test_envelope_is_unwrapped() -> None:
    wrapped = {"error_code": 0, "data": users_push(), "message": ""}
    pd.testing.assert_frame_equal(push_to_rows(wrapped, ""), push_to_rows(users_push(), ""))


def test_schools_shape_has_role_school() -> None:
    obj = {
        "provdoet_code": "08",
        "school_year_code": 2024,
        "semester_code": 2,
        "measured_at": "2025-03-01T23:00:00+07:00",
        "schools": [
            {
                "school_code": 8000123,
                "school_level": "02",
                "has_lms": True,
                "shared_to_hub": 5,
                "metrics": [{"key": "total_shared_to_hub", "value": 5}, {"key": "new_hub_key", "value": 0}],
            }
        ],
    }
    df = push_to_rows(obj, "")
    assert set(df["role"]) == {"school"} and df["user_pin"].isna().all()
    assert list(df["metric"]) == ["resources_shared", "other:new_hub_key"]
    assert set(df["school_code"]) == {"08000123"} and set(df["layout_id"]) == {LAYOUT_SCHOOLS}
    assert list(df["value"]) == [5.0, 0.0] and set(df["semester"]) == {"2"}
    assert '"has_lms": true' in df.iloc[0]["src_extra"]


@pytest.mark.parametrize(
    ("key", "metric"),
    [
        ("total_lessons", "lessons_assigned"),
        ("total_tests", "tests_graded"),
        ("total_exercises_submitted", "exercises_submitted"),
        ("total_shared_to_hub", "resources_shared"),
        ("teacher_online_duration", "teacher_online_minutes"),
        ("student_online_duration", "student_online_minutes"),
        ("parent_views", "parent_views"),
        ("active_events", "active_events"),
        ("foo_bar", "other:foo_bar"),
    ],
)
def test_hub_keys(key: str, metric: str) -> None:
    assert metric_of(key) == metric


@pytest.mark.parametrize(
    ("role", "pin", "expected"),
    [
        ("GV", "x", "teacher"),
        ("HS", "x", "student"),
        ("PH", "x", "parent"),
        (None, "CB00001234", "teacher"),
        (None, "PH00000001", "parent"),
        ("", "0812345678", "student"),
        (None, "HS12345678", None),
        ("??", "0812345678", "student"),
    ],
)
def test_role_resolution(role: str | None, pin: str, expected: str | None) -> None:
    assert role_of(role, pin) == expected


def test_times_are_local_and_the_day_ends_at_measured_at() -> None:
    utc = push_to_rows(users_push(measured_at="2025-01-12T16:30:00Z"), "").iloc[0]
    assert utc["measured_at"] == pd.Timestamp("2025-01-12 23:30:00")
    naive = push_to_rows(users_push(measured_at="2025-01-12T08:00:00"), "").iloc[0]
    assert naive["measured_at"] == pd.Timestamp("2025-01-12 08:00:00")  # no zone = local (§1.5)
    midnight = push_to_rows(users_push(measured_at="2025-01-13T00:00:00+07:00"), "").iloc[0]
    assert midnight["period_end"] == pd.Timestamp("2025-01-12")  # closes the day of the 12th


def test_school_year_forms() -> None:
    assert set(push_to_rows(users_push(school_year_code="2024"), "")["school_year"]) == {"2024-2025"}
    assert set(push_to_rows(users_push(school_year_code="2024-2025"), "")["school_year"]) == {"2024-2025"}
    with pytest.raises(PushRejected) as e:
        push_to_rows(users_push(school_year_code="2024-2026"), "")
    assert e.value.code == "bad_school_year"
    assert start_year("2024-2025") == start_year(2024) == 2024


def test_unmapped_subject_becomes_unknown_and_keeps_the_raw_code() -> None:
    obj = users_push(
        users=[{"user_pin": "CB1", "metrics": [{"key": "k", "value": 1, "subject_code": "1234"}]}]
    )
    r = push_to_rows(obj, "").iloc[0]
    assert r["subject_code"] == "UNKNOWN" and '"subject_code_raw": "1234"' in r["src_extra"]
    assert push_to_rows(obj, "", hub_subjects={"1234": "TOAN"}).iloc[0]["subject_code"] == "TOAN"


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        (lambda o: o.pop("school_code"), "missing_required_column", "school_code"),
        (lambda o: o.pop("measured_at"), "missing_required_column", "measured_at"),
        (lambda o: o.pop("semester_code"), "missing_required_column", "semester_code"),
        (lambda o: o["users"][0].pop("user_pin"), "missing_required_column", "users[0].user_pin"),
        (lambda o: o["users"][0].pop("metrics"), "missing_required_column", "users[0].metrics"),
        (
            lambda o: o["users"][0]["metrics"][1].pop("value"),
            "missing_required_column",
            "users[0].metrics[1].value",
        ),
        (lambda o: o["users"][0]["metrics"][0].update(value=-1), "out_of_range", "users[0].metrics[0].value"),
        (
            lambda o: o["users"][0]["metrics"][0].update(value="many"),
            "bad_number",
            "users[0].metrics[0].value",
        ),
        (lambda o: o.update(measured_at="12/01/2025"), "bad_date", "measured_at"),
        (lambda o: o.pop("users"), "unrecognized_layout", "users|schools"),
    ],
)
def test_invalid_objects_are_rejected_whole(mutate: Any, code: str, field: str) -> None:
    obj = users_push()
    mutate(obj)
    with pytest.raises(PushRejected) as e:
        push_to_rows(obj, "")
    assert (e.value.code, e.value.field) == (code, field)
    assert field in e.value.message_vi


def test_empty_user_list_gives_no_rows() -> None:
    assert push_to_rows(users_push(users=[]), "").empty


def test_canonical_sha_ignores_key_order() -> None:
    assert canonical_json_sha256({"a": 1, "b": "ạ"}) == canonical_json_sha256({"b": "ạ", "a": 1})


def test_source_file_names_host_and_path_only() -> None:
    assert source_file_of("https://lms.example.vn:8443/api/") == "api:lms.example.vn:8443/api/v1/metrics"


def test_api_key_from_argument_secret_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    class Secret:
        def get_secret_value(self) -> str:
            return "from-secret"

    monkeypatch.setenv("CDS_API_KEY", "from-env")
    assert resolve_api_key("given") == "given"
    assert resolve_api_key(Secret()) == "from-secret"
    assert resolve_api_key(None) == "from-env"
    monkeypatch.delenv("CDS_API_KEY")
    with pytest.raises(ValueError, match="CDS_API_KEY"):
        resolve_api_key("")


def test_retry_after_seconds_and_http_date() -> None:
    now = dt.datetime(2025, 1, 12, 10, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Sun, 12 Jan 2025 10:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Sun, 12 Jan 2025 09:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    pol = RetryPolicy(backoff_base_s=1.0, backoff_max_s=4.0)
    rng = random.Random(1)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        waits = [pol.backoff(attempt, rng) for _ in range(50)]
        assert all(full / 2 <= w <= full for w in waits) and len(set(waits)) > 1


def test_api_error_messages() -> None:
    e = ApiError(
        "http://h:1/v1/metrics?school_year=2024",
        "server answered HTTP 503",
        status=503,
        attempts=5,
        elapsed_s=12.3,
    )
    assert str(e) == (
        "GET http://h:1/v1/metrics?school_year=2024 failed after 5 attempt(s) in 12.3s: "
        "server answered HTTP 503 (HTTP 503)"
    )
    assert e.message_vi.startswith("Không lấy được dữ liệu từ API h:1 sau 5 lần thử")


def test_origin_is_scheme_host_and_port_with_defaults() -> None:
    assert origin_of("http://API.example.vn/v1/metrics?x=1") == ("http", "api.example.vn", 80)
    assert origin_of("http://api.example.vn:80/other") == origin_of("http://api.example.vn/")
    assert origin_of("https://api.example.vn:443") == origin_of("https://api.example.vn/v1")
    assert origin_of("https://api.example.vn") != origin_of("http://api.example.vn")
    assert origin_of("http://api.example.vn:8080") != origin_of("http://api.example.vn")
    assert origin_of("http://api.example.vn.evil.test") != origin_of("http://api.example.vn")
    assert origin_text("https://u:p@api.example.vn/v1/metrics?token=t") == "https://api.example.vn:443"


def test_every_error_code_has_its_own_vietnamese_cause() -> None:
    causes = {}
    for code in sorted(ApiError.CODES):
        e = ApiError(
            "http://h:1/v1/metrics",
            "r",
            status=418,
            attempts=2,
            elapsed_s=3,
            code=code,
            limit=90,
            target="http://other:2",
        )
        assert e.code == code and e.message_vi.startswith("Không lấy được dữ liệu từ API h:1 sau 2 lần thử")
        causes[code] = e.why_vi
    assert len(set(causes.values())) == len(causes)  # none falls back to another's text
    assert "http://other:2" in causes["redirect_refused"] and "CDS_API_BASE_URL" in causes["redirect_refused"]
    assert "90 giây (CDS_API_REQUEST_DEADLINE_SECONDS)" in causes["request_deadline"]
    assert "CDS_API_MAX_BODY_BYTES" in causes["body_too_large"]
    big = ApiError("http://h/", "r", code="body_too_large", limit=64 * 2**20)
    assert "vượt giới hạn 64 MB" in big.why_vi
    assert ApiError.CODES < PULL_ERROR_CODES


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, "auth_refused"),
        (403, "auth_refused"),
        (429, "rate_limited"),
        (502, "server_error"),
        (404, "http_error"),
        (None, "connection_failed"),
    ],
)
def test_error_code_from_status(status: int | None, code: str) -> None:
    assert ApiError("http://h/", "r", status=status).code == code


def test_seconds_in_vietnamese() -> None:
    assert (seconds_vi(900), seconds_vi(1.5), seconds_vi(0.25)) == ("900 giây", "1,5 giây", "0,25 giây")


def test_settings_defaults_are_the_connector_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    import inspect

    from connectors.http_lms import pull_lms_metrics
    from pipelines.settings import Settings

    for var in (
        "CDS_API_MAX_BODY_BYTES",
        "CDS_API_REQUEST_DEADLINE_SECONDS",
        "CDS_API_PULL_DEADLINE_SECONDS",
    ):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    defaults = {k: v.default for k, v in inspect.signature(pull_lms_metrics).parameters.items()}
    assert s.api_max_body_bytes == DEFAULT_MAX_BODY_BYTES == defaults["max_body_bytes"]
    assert s.api_request_deadline_seconds == RetryPolicy().total_budget_s
    assert s.api_pull_deadline_seconds == defaults["pull_budget_s"]
    monkeypatch.setenv("CDS_API_MAX_BODY_BYTES", "100")
    with pytest.raises(ValueError, match="api_max_body_bytes"):
        Settings()
