"""The summary of one run, for people: files seen/ingested/skipped/quarantined, rows, findings by
severity, schools by level and time per stage. Written to `out/run_summary_<year>.json` after every
run (by `cds run` and, for Dagster runs, by the run-status sensor) and printed by `cds run`.

Pure functions over a DuckDB connection and plain values; no Dagster or pandas imports, so the
no-change path of `cds run` stays fast. Keys of the JSON are English; the printed text is Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from connectors.http_lms import latest_pull_status

SEVERITIES = ("high", "medium", "low")  # reconciliation findings; other values are counted too
FILE_ACTIONS = ("ingested", "replaced", "skipped", "quarantined", "retired")


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
    ).fetchall()
    return {r[0] for r in rows}


def file_counts(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> dict[str, int]:
    """Ingest actions logged since `since` (the start of this run)."""
    counts = dict.fromkeys(FILE_ACTIONS, 0)
    if not _table_columns(con, "ingest_events"):
        return counts
    for action, n in con.execute(
        "SELECT action, count(*) FROM ingest_events WHERE event_at >= ? GROUP BY action", [since]
    ).fetchall():
        counts[str(action)] = int(n)
    return counts


def row_counts(con: duckdb.DuckDBPyConnection, school_year: str, since: dt.datetime) -> dict[str, int]:
    """Records written to the raw tables (this run; held for the year) and rows rejected in the year."""
    out = {"loaded_this_run": 0, "kept_in_year": 0, "rejected_in_year": 0}
    cols = _table_columns(con, "ingest_manifest")
    if cols:
        # records in the raw tables (a grade-book row gives one per mark); warehouses from before the
        # column existed counted records in rows_kept
        records = "records_written" if "records_written" in cols else "rows_kept"
        loaded, kept = con.execute(
            f"SELECT coalesce(sum({records}) FILTER (WHERE ingested_at >= ?), 0), "
            f"coalesce(sum({records}) FILTER (WHERE status <> 'retired' AND "
            "(delivery_year = ? OR delivery_year IS NULL)), 0) FROM ingest_manifest",
            [since, school_year],
        ).fetchone()  # type: ignore[misc]
        out["loaded_this_run"], out["kept_in_year"] = int(loaded), int(kept)
    if _table_columns(con, "dq_quarantine_rows"):
        row = con.execute(
            "SELECT count(*) FROM dq_quarantine_rows WHERE school_year = ?", [school_year]
        ).fetchone()
        out["rejected_in_year"] = int(row[0]) if row else 0
    return out


def findings_by_severity(con: duckdb.DuckDBPyConnection, school_year: str) -> dict[str, int]:
    """Counts from the reconciliation `rec_findings` table when it exists (zeros until then)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    cols = _table_columns(con, "rec_findings")
    if "severity" not in cols:
        return counts
    where, params = ("WHERE school_year = ?", [school_year]) if "school_year" in cols else ("", [])
    for sev, n in con.execute(
        f"SELECT severity, count(*) FROM rec_findings {where} GROUP BY severity", params
    ).fetchall():
        counts[str(sev)] = int(n)
    return counts


def schools_by_level(con: duckdb.DuckDBPyConnection, school_year: str) -> dict[str, int]:
    """Schools per computed level: the final computed side (after reconciliation fills the mandatory and
    document criteria) when it exists, else the scoring stage's table."""
    for table in ("score_schools__final", "score_schools__scored"):
        if {"level", "school_year"} <= _table_columns(con, table):
            rows = con.execute(
                f"SELECT level, count(*) FROM {table} WHERE school_year = ? GROUP BY level ORDER BY level",
                [school_year],
            ).fetchall()
            if rows:
                return {str(level): int(n) for level, n in rows}
    return {}


def season_summary(con: duckdb.DuckDBPyConnection, school_year: str) -> dict[str, Any] | None:
    """The season's calendar from the `season_status` table (reports/season.py): the deadline, the days
    left and the schools at risk (missing exports near or past the deadline) and late; None before the
    table exists for the year."""
    if "at_risk" not in _table_columns(con, "season_status"):
        return None
    rows = con.execute(
        "SELECT school_code, at_risk, n_late, missing_labels, late_labels, self_assessment_deadline, "
        "external_review_deadline, today, days_left FROM season_status WHERE school_year = ? "
        "ORDER BY school_code",
        [school_year],
    ).fetchall()
    if not rows:
        return None
    first = rows[0]
    return {
        "self_assessment_deadline": first[5].isoformat(),
        "external_review_deadline": first[6].isoformat(),
        "today": first[7].isoformat(),
        "days_left": int(first[8]),
        "schools_at_risk": [{"school_code": r[0], "missing": r[3]} for r in rows if r[1]],
        "schools_late": [{"school_code": r[0], "n_late": int(r[2]), "late": r[4]} for r in rows if r[2]],
    }


def stage_seconds(step_seconds: Mapping[str, float], group_of_step: Mapping[str, str]) -> dict[str, float]:
    """Sum step durations per asset group (= stage); unknown steps go under their own key."""
    out: dict[str, float] = {}
    for step, secs in step_seconds.items():
        group = group_of_step.get(step, step)
        out[group] = round(out.get(group, 0.0) + float(secs), 3)
    return out


def build_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    school_year: str,
    status: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    trigger: str,
    run_id: str = "",
    files_seen: int | None = None,
    step_seconds: Mapping[str, float] | None = None,
    group_of_step: Mapping[str, str] | None = None,
    changed_files: list[str] | None = None,
) -> dict[str, Any]:
    """Assemble the summary of one run from the warehouse and the run's timings."""
    files: dict[str, int] = {"seen": 0, **file_counts(con, started_at)}
    counted = sum(files[a] for a in ("ingested", "replaced", "skipped", "quarantined"))
    files["seen"] = files_seen if files_seen is not None else counted
    if status == "no_changes":
        files["skipped"] = files["seen"]
    pull = latest_pull_status(con, school_year, since=started_at)
    if status == "success" and pull is not None and pull.failed:
        status = "completed_with_failed_source"  # the outputs are made, without that source's new data
    return {
        "school_year": school_year,
        "status": status,
        "trigger": trigger,
        "run_id": run_id,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "duration_s": round((finished_at - started_at).total_seconds(), 3),
        "files": files,
        "rows": row_counts(con, school_year, started_at),
        "findings_by_severity": findings_by_severity(con, school_year),
        "schools_by_level": schools_by_level(con, school_year),
        "stage_seconds": stage_seconds(step_seconds or {}, group_of_step or {}),
        "changed_files": (changed_files or [])[:100],
        "sources": {"lms_api": pull.as_dict() if pull is not None else None},
        "season": season_summary(con, school_year),
    }


def summary_path(out: Path, school_year: str) -> Path:
    return Path(out) / f"run_summary_{school_year}.json"


def write_summary(out: Path, summary: Mapping[str, Any]) -> Path:
    path = summary_path(out, str(summary["school_year"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


_STATUS_VI = {
    "success": "thành công",
    "failed": "thất bại",
    "no_changes": "không có thay đổi (no changes) — bỏ qua các bước xử lý",
    "completed_with_failed_source": "hoàn tất nhưng có nguồn dữ liệu bị lỗi (API số liệu LMS)",
}
_STAGE_VI = {
    "ingest": "nạp tệp",
    "validate": "kiểm tra",
    "models": "mô hình SQL",
    "scoring": "chấm điểm",
    "reconcile": "đối chiếu",
    "exports": "xuất kết quả",
    "checks": "kiểm tra chất lượng",
    "quality": "báo cáo chất lượng",
}


_SEVERITY_VI = {"high": "cao", "medium": "trung bình", "low": "thấp"}


def decimal_comma(seconds: float, digits: int = 1) -> str:
    """A number as Vietnamese text: decimal comma (1,5 not 1.5)."""
    return f"{seconds:.{digits}f}".replace(".", ",")


def _day(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")


def season_lines(season: Mapping[str, Any] | None) -> list[str]:
    """The season's lines: the deadline and days left, the schools at risk and the late ones, by code."""
    if not season:
        return []
    ahead = season["today"] <= season["self_assessment_deadline"]
    deadline = season["self_assessment_deadline"] if ahead else season["external_review_deadline"]
    what = "tự đánh giá" if ahead else "đánh giá ngoài"
    days = season["days_left"]
    when = f"còn {days} ngày" if days >= 0 else f"đã quá hạn {-days} ngày"
    lines = [f"Lịch đánh giá: hạn {what} {_day(deadline)}, {when}"]
    risk = season["schools_at_risk"]
    if risk:
        lines.append(
            "Trường có nguy cơ không kịp hạn: "
            + "; ".join(f"{r['school_code']} (thiếu {r['missing']})" for r in risk)
        )
    late = season["schools_late"]
    if late:
        lines.append(
            "Trường nộp dữ liệu sau hạn: "
            + "; ".join(f"{r['school_code']} ({r['n_late']} nguồn)" for r in late)
        )
    return lines


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """The summary as short Vietnamese lines for the terminal."""
    f, r = summary["files"], summary["rows"]
    lines = [
        f"Năm học {summary['school_year']}: {_STATUS_VI.get(summary['status'], summary['status'])}",
        f"Tệp: thấy {f['seen']}, nạp mới {f['ingested']}, thay thế {f['replaced']}, bỏ qua (không đổi) "
        f"{f['skipped']}, cách ly {f['quarantined']}, gỡ bỏ {f['retired']}",
        f"Dòng: nạp trong lượt này {r['loaded_this_run']}, đang giữ {r['kept_in_year']}, "
        f"bị loại {r['rejected_in_year']}",
        "Phát hiện theo mức độ: "
        + ", ".join(f"{_SEVERITY_VI.get(k, k)} {v}" for k, v in summary["findings_by_severity"].items()),
    ]
    pull = (summary.get("sources") or {}).get("lms_api")
    if pull:
        lines.append(
            f"API số liệu LMS: lỗi — {pull['message_vi']}"
            if pull["status"] == "failed"
            else f"API số liệu LMS: {pull['pages']} trang, {pull['rows_loaded']} dòng"
        )
    lines += season_lines(summary.get("season"))
    levels = summary["schools_by_level"]
    lines.append(
        "Trường theo mức: " + (", ".join(f"mức {k}: {v}" for k, v in levels.items()) if levels else "chưa có")
    )
    if summary["stage_seconds"]:
        lines.append(
            "Thời gian theo giai đoạn: "
            + ", ".join(
                f"{_STAGE_VI.get(k, k)} {decimal_comma(v)} giây" for k, v in summary["stage_seconds"].items()
            )
        )
    return lines
