"""The season's calendar: per school, which expected exports arrived (per source), when, with what
quality, and how many days are left before the deadlines (self-assessment into CSDL ngành, external
review; `pipelines.settings.Settings.season`).

What belongs here: the status rule (`season_status`), its section of the data-quality report
(`render_section`), the CSV `out/season_status_<year>.csv` and the warehouse table `season_status` the
run summary reads. An export's arrival is when the pipeline first took in a file of that source from the
school's folder (the manifest's `ingested_at`; the inbox sensor takes files in minutes after they land).
Codes, labels, dates and counts only: no personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb
import jinja2
import pandas as pd
from pandas.api.typing import NaTType

from quality import coverage


class SeasonDeadlines(Protocol):
    """The season's two deadlines of one school year (`pipelines.settings.SeasonDeadlines` is one)."""

    @property
    def self_assessment(self) -> dt.date: ...

    @property
    def external_review(self) -> dt.date: ...


@dataclass(frozen=True)
class SeasonClock:
    """What the calendar needs from the settings: the year's deadlines, today, and how many days before
    a deadline a school missing exports is at risk."""

    deadlines: SeasonDeadlines
    today: dt.date
    warn_days: int


ENTITY_STATUS = {"on_time": "Đã nhận, đúng hạn", "late": "Nhận sau hạn", "missing": "Chưa nhận"}
TABLE = "season_status"
ENTITY_COLUMNS = [
    "school_year",
    "school_code",
    "entity",
    "entity_label",
    "status",
    "status_label",
    "first_arrived",
    "last_arrived",
    "n_files",
    "rows_read",
    "rows_rejected",
    "quarantined_files",
]
SCHOOL_COLUMNS = [
    "school_year",
    "school_code",
    "school_name",
    "self_assessment_deadline",
    "external_review_deadline",
    "today",
    "days_left",
    "n_expected",
    "n_arrived",
    "n_late",
    "n_missing",
    "missing_labels",
    "late_labels",
    "rows_rejected",
    "quarantined_files",
    "at_risk",
    "status_label",
]


def _int(v: float | None) -> int:
    """A count cell (0 when missing)."""
    return 0 if v is None or pd.isna(v) else int(v)


def _date(v: dt.date | str | float | NaTType | None) -> dt.date | None:
    """The date of a timestamp cell (None when missing)."""
    if v is None or isinstance(v, NaTType) or (isinstance(v, float) and pd.isna(v)):
        return None
    return pd.Timestamp(v).date()


def season_status(
    cov: coverage.Coverage, deadlines: SeasonDeadlines, today: dt.date, warn_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per school × expected source, per school) for one school year.

    A source arrived when a file of the school's folder holding it was loaded (not quarantined); it
    arrived late when its first such file came after the self-assessment deadline day. `days_left`
    counts to the self-assessment deadline while it is ahead, then to the external-review deadline
    (negative: that many days overdue). A school is at risk when an expected source is still missing
    and the self-assessment deadline is at most `warn_days` away or past."""
    files = cov.files
    loaded = files[files["school_code"].notna() & (files["status"] != "quarantined")].copy()
    loaded["entity"] = loaded["entities"].fillna("").astype(str).str.split(",")
    loaded = loaded.explode("entity")
    loaded["entity"] = loaded["entity"].str.strip()
    arrived = (
        loaded[loaded["entity"] != ""]
        .groupby(["school_code", "entity"], as_index=False)
        .agg(
            first_arrived=("ingested_at", "min"),
            last_arrived=("ingested_at", "max"),
            n_files=("source_file", "nunique"),
            rows_read=("rows_read", "sum"),
            rows_rejected=("rows_rejected", "sum"),
        )
    )
    quarantined = (
        files[files["school_code"].notna() & (files["status"] == "quarantined")]
        .groupby("school_code")
        .size()
        .to_dict()
    )
    grid = cov.matrix[["school_code", "entity", "delivered"]].merge(
        arrived, on=["school_code", "entity"], how="left"
    )
    rows = []
    for r in grid.to_dict("records"):
        first = _date(r.get("first_arrived"))
        status = (
            "missing"
            if not r["delivered"]
            else "late"
            if first and first > deadlines.self_assessment
            else "on_time"
        )
        rows.append(
            {
                "school_year": cov.school_year,
                "school_code": r["school_code"],
                "entity": r["entity"],
                "entity_label": coverage.SOURCE_LABELS_VI.get(r["entity"], r["entity"]),
                "status": status,
                "status_label": ENTITY_STATUS[status],
                "first_arrived": r.get("first_arrived"),
                "last_arrived": r.get("last_arrived"),
                "n_files": _int(r.get("n_files")) if r["delivered"] else 0,
                "rows_read": _int(r.get("rows_read")) if r["delivered"] else 0,
                "rows_rejected": _int(r.get("rows_rejected")) if r["delivered"] else 0,
                "quarantined_files": int(quarantined.get(r["school_code"], 0)),
            }
        )
    entities = pd.DataFrame(rows, columns=ENTITY_COLUMNS)
    before = today <= deadlines.self_assessment
    deadline = deadlines.self_assessment if before else deadlines.external_review
    days_left = (deadline - today).days
    to_self = (deadlines.self_assessment - today).days
    names = dict(zip(cov.schools["school_code"], cov.schools["school_name"], strict=True))
    out = []
    for code, part in entities.groupby("school_code", sort=True):
        missing = part.loc[part["status"] == "missing", "entity_label"].tolist()
        late = part.loc[part["status"] == "late", "entity_label"].tolist()
        at_risk = bool(missing) and to_self <= warn_days
        if missing:
            when = (
                f"còn {to_self} ngày đến hạn tự đánh giá"
                if to_self >= 0
                else f"quá hạn tự đánh giá {-to_self} ngày"
            )
            label = f"Thiếu {len(missing)} nguồn dữ liệu ({', '.join(missing)}) — {when}"
        elif late:
            label = f"Đủ dữ liệu, {len(late)} nguồn nhận sau hạn ({', '.join(late)})"
        else:
            label = "Đủ dữ liệu, đúng hạn"
        name = names.get(code)
        out.append(
            {
                "school_year": cov.school_year,
                "school_code": code,
                "school_name": "" if pd.isna(name) else str(name),
                "self_assessment_deadline": deadlines.self_assessment,
                "external_review_deadline": deadlines.external_review,
                "today": today,
                "days_left": days_left,
                "n_expected": len(part),
                "n_arrived": len(part) - len(missing),
                "n_late": len(late),
                "n_missing": len(missing),
                "missing_labels": ", ".join(missing),
                "late_labels": ", ".join(late),
                "rows_rejected": int(part["rows_rejected"].sum()),
                "quarantined_files": int(part["quarantined_files"].iloc[0]) if len(part) else 0,
                "at_risk": at_risk,
                "status_label": label,
            }
        )
    schools = pd.DataFrame(out, columns=SCHOOL_COLUMNS)
    return entities, schools.sort_values(
        ["at_risk", "n_missing", "n_late", "school_code"], ascending=[False, False, False, True]
    ).reset_index(drop=True)


def collect_status(
    con: duckdb.DuckDBPyConnection, school_year: str, clock: SeasonClock, cov: coverage.Coverage | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, SeasonDeadlines, dt.date]:
    """The season status of `year` on `clock` (the caller reads it from the settings)."""
    entities, schools = season_status(
        cov or coverage.collect(con, school_year), clock.deadlines, clock.today, clock.warn_days
    )
    return entities, schools, clock.deadlines, clock.today


def store(con: duckdb.DuckDBPyConnection, school_year: str, schools: pd.DataFrame) -> None:
    """Replace the year's rows of the `season_status` table (read by the run summary)."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (school_year VARCHAR, school_code VARCHAR, school_name VARCHAR, "
        "self_assessment_deadline DATE, external_review_deadline DATE, today DATE, days_left INTEGER, "
        "n_expected INTEGER, n_arrived INTEGER, n_late INTEGER, n_missing INTEGER, missing_labels VARCHAR, "
        "late_labels VARCHAR, rows_rejected BIGINT, quarantined_files INTEGER, at_risk BOOLEAN, "
        "status_label VARCHAR)"
    )
    con.execute(f"DELETE FROM {TABLE} WHERE school_year = ?", [school_year])
    frame = schools[SCHOOL_COLUMNS]  # noqa: F841 (read by DuckDB's replacement scan)
    con.execute(f"INSERT INTO {TABLE} SELECT {', '.join(SCHOOL_COLUMNS)} FROM frame")


def write_csv(path: Path, entities: pd.DataFrame, schools: pd.DataFrame) -> Path:
    """`out/season_status_<year>.csv`: one row per school × expected source, with the school's status."""
    school_cols = [
        "school_code",
        "self_assessment_deadline",
        "external_review_deadline",
        "today",
        "days_left",
        "at_risk",
        "status_label",
    ]
    frame = entities.merge(
        schools[school_cols].rename(columns={"status_label": "school_status"}), on="school_code", how="left"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.sort_values(["school_code", "entity"]).to_csv(path, index=False)
    return path


SECTION = """<div id="lich-danh-gia">
<h3>Lịch đánh giá năm học {{ school_year }}</h3>
<p>Hạn tự đánh giá (nhập vào CSDL ngành): <b>{{ d.self_assessment.strftime('%d/%m/%Y') }}\
</b>; hạn đánh giá ngoài:
<b>{{ d.external_review.strftime('%d/%m/%Y') }}</b>. Tính đến ngày {{ today.strftime('%d/%m/%Y') }}:
{% if days_left >= 0 %}còn {{ days_left }} ngày{% else %}đã quá hạn {{ -days_left }} ngày{% endif %}
({{ 'hạn tự đánh giá' if today <= d.self_assessment else 'hạn đánh giá ngoài' }}).</p>
{% if risk %}<p class="bad">Trường có nguy cơ không kịp hạn (còn thiếu dữ liệu): {{ risk|join(', ') }}.</p>\
{% endif %}
<table><tr><th>Mã trường</th><th>Tên trường</th><th>Nguồn đã nhận</th><th>Nhận sau hạn</th><th>Còn thiếu</th>
<th>Dòng bị loại</th><th>Tệp bị cách ly</th><th>Tình trạng</th></tr>
{% for s in schools.to_dict('records') %}<tr><td>{{ s.school_code }}</td><td>{{ s.school_name }}</td>
<td>{{ s.n_arrived }}/{{ s.n_expected }}</td><td>{{ s.late_labels }}</td>\
<td class="{{ 'bad' if s.n_missing else '' }}">{{ s.missing_labels }}</td>
<td>{{ s.rows_rejected }}</td><td>{{ s.quarantined_files }}</td>\
<td class="{{ 'bad' if s.at_risk else 'ok' if not s.n_missing and not s.n_late else '' }}">\
{{ s.status_label }}</td></tr>
{% endfor %}</table>
</div>
"""


def render_section(
    school_year: str, schools: pd.DataFrame, deadlines: SeasonDeadlines, today: dt.date
) -> str:
    """The data-quality report's calendar section (HTML, every value escaped)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    ahead = today <= deadlines.self_assessment
    days_left = ((deadlines.self_assessment if ahead else deadlines.external_review) - today).days
    risk = sorted(schools.loc[schools["at_risk"].astype(bool), "school_code"]) if len(schools) else []
    return env.from_string(SECTION).render(
        school_year=school_year, d=deadlines, today=today, schools=schools, days_left=days_left, risk=risk
    )


def season_section(
    con: duckdb.DuckDBPyConnection, school_year: str, clock: SeasonClock, cov: coverage.Coverage | None = None
) -> str:
    """The section for `reports.data_quality` (one call there)."""
    _entities, schools, deadlines, today = collect_status(con, school_year, clock, cov)
    return render_section(school_year, schools, deadlines, today)
