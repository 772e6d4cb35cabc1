"""Settings from one place: environment variables (prefix ``CDS_``) with defaults.

Resolved when called (`get_settings()`), never at import time, so `dagster dev`, the CLI and the
tests each see the environment they were started with.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HASH_KEY = "cds-dev-key-change-me"


def current_school_year(today: dt.date | None = None) -> str:
    """The school year containing `today`: a year runs from 1 August to 31 July."""
    today = today or dt.date.today()
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


ThiDuaGroup = Literal["managing_unit", "commune", "school_level", "province"]  # a thi đua ranking group


class SeasonDeadlines(BaseModel):
    """The season's two deadlines of one school year (the Phòng's letter: self-assessment entered into
    CSDL ngành by 25 May, external review done by 15 June of the school year's second calendar year)."""

    model_config = ConfigDict(extra="forbid")

    self_assessment: dt.date
    external_review: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> SeasonDeadlines:
        if self.external_review < self.self_assessment:
            raise ValueError("the external review cannot end before the self-assessment deadline")
        return self


_MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


class Settings(BaseSettings):
    """Effective settings of one run; every field can be set as ``CDS_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CDS_", extra="ignore")

    @field_validator("inbox", "warehouse", "out", "indicator_set", "lake", "code_mapping", mode="after")
    @classmethod
    def _absolute(cls, v: Path | None) -> Path | None:
        """Relative paths (e.g. `--out out`) are taken from the working directory, once, here."""
        return v if v is None else v.expanduser().resolve()

    inbox: Path = Field(default=REPO_ROOT / "sample_exports" / "inbox", description="Inbox of exports")
    warehouse: Path = Field(default=REPO_ROOT / "data" / "warehouse.duckdb", description="DuckDB file")
    out: Path = Field(default=REPO_ROOT / "out", description="Output folder")
    school_year: str = Field(default_factory=current_school_year, description="School year YYYY-YYYY")
    indicator_set: Path = Field(
        default=REPO_ROOT / "indicator_sets" / "qd4725_2022.yaml", description="Indicator-set YAML"
    )
    province_name: str = Field(
        default="", description="Province name for printed titles, e.g. 'tỉnh Thử Nghiệm'"
    )
    hash_key: SecretStr = Field(default=SecretStr(DEFAULT_HASH_KEY), description="HMAC key for ids/phones")
    api_base_url: str = Field(default="", description="LMS metrics API base URL (empty = off)")
    api_key: SecretStr = Field(default=SecretStr(""), description="LMS metrics API key")
    api_max_body_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="LMS API: largest response body read (bytes)"
    )
    api_request_deadline_seconds: float = Field(
        default=120.0, gt=0, description="LMS API: wall-clock deadline of one request, retries included"
    )
    api_pull_deadline_seconds: float = Field(
        default=900.0, gt=0, description="LMS API: wall-clock deadline of one pull (all pages)"
    )
    lake: Path | None = Field(
        default=None,
        description="Lakehouse folder: embedded catalog and data files (empty = <warehouse dir>/lake)",
    )
    lake_catalog_uri: SecretStr = Field(
        default=SecretStr(""),
        description="Lakehouse catalog (SQLAlchemy URI, e.g. postgresql+psycopg2://…; "
        "empty = embedded SQLite)",
    )
    lake_warehouse_uri: str = Field(default="", description="Lakehouse data files (empty = <lake>/warehouse)")
    province_code: str = Field(default="", description="Province published as (empty = from the registry)")
    provinces: list[str] = Field(
        default_factory=list,
        description='Multi-province deployment: province codes, JSON list ["08", "14"]; the inbox holds '
        "<code>/<year>/…, each province has its own warehouse file and lock (empty = one province)",
    )
    mode: Literal["development", "production"] = Field(default="development", description="Run mode")
    duckdb_threads: int = Field(default=2, description="DuckDB threads")
    duckdb_memory_limit: str = Field(default="3GB", description="DuckDB memory limit (spills to disk beyond)")
    validate_chunk_rows: int = Field(
        default=200_000,
        ge=1_000,
        description="Validate stage: rows per pandera batch (whole files; bounds memory on big provinces)",
    )
    ingest_worker_memory_mb: int = Field(
        default=3072, ge=0, description="Ingest: address space of one parse worker in MiB (0 = no limit)"
    )
    ingest_worker_cpu_seconds: int = Field(
        default=300, ge=0, description="Ingest: CPU seconds of one parse call, a batch or one file (0 = none)"
    )
    ingest_max_sheet_cells: int = Field(
        default=20_000_000, ge=0, description="Ingest: cells of one sheet's used range (0 = no cap)"
    )
    ingest_settle_seconds: int = Field(
        default=60,
        ge=0,
        description="Ingest: a file modified less than this many seconds ago is left for the "
        "next run (still being written; 0 = none)",
    )
    sensor_debounce_seconds: int = Field(
        default=300, ge=0, description="Inbox sensor: seconds the inbox must stay unchanged before a run"
    )
    sensor_interval_seconds: int = Field(default=60, ge=5, description="Inbox sensor: seconds between checks")
    lock_wait_seconds: int = Field(
        default=0,
        ge=0,
        description="Seconds `cds run` waits for the warehouse lock before giving up (0 = none)",
    )
    run_lock_wait_seconds: int = Field(
        default=1800, ge=0, description="Seconds a Dagster run (schedule/sensor) waits for the warehouse lock"
    )
    season_self_assessment: str = Field(
        default="05-25",
        pattern=_MONTH_DAY,
        description="Season: self-assessment deadline (MM-DD of the school year's second calendar year)",
    )
    season_external_review: str = Field(
        default="06-15",
        pattern=_MONTH_DAY,
        description="Season: external-review deadline (MM-DD of the school year's second calendar year)",
    )
    season_deadlines: dict[str, SeasonDeadlines] = Field(
        default_factory=dict,
        description='Season: deadlines of given school years, JSON {"2024-2025": {"self_assessment": '
        '"2025-05-25", "external_review": "2025-06-15"}} (other years use the MM-DD defaults)',
    )
    season_warn_days: int = Field(
        default=7,
        ge=0,
        description="Season: a school missing exports this many days before a deadline is at risk",
    )
    season_today: dt.date | None = Field(
        default=None, description="Season: the date the calendar is read at (empty = today; tests, replays)"
    )

    code_mapping: Path | None = Field(
        default=None,
        description="School-code mapping across the 2025 reform (CSV: old_school_code, old_managing_unit, "
        "new_school_code; empty = none), used by year-over-year joins",
    )
    thi_dua_groups: list[ThiDuaGroup] = Field(
        default_factory=lambda: list[ThiDuaGroup](["managing_unit", "province"]),
        min_length=1,
        description="Thi đua: ranking groups, JSON list of "
        '"managing_unit", "commune", "school_level", "province"',
    )

    @field_validator("provinces", mode="after")
    @classmethod
    def _province_codes(cls, v: list[str]) -> list[str]:
        for code in v:
            if not re.fullmatch(r"\d{2}", code):
                raise ValueError(f"provinces: {code!r} is not a two-digit province code")
        if len(set(v)) != len(v):
            raise ValueError("provinces: each province once")
        return sorted(v)

    def for_province(self, code: str) -> Settings:
        """The one-province view of province `code` of a multi-province deployment: its inbox folder,
        its warehouse file (and lock), its output folder; the lakehouse stays the deployment's."""
        from warehouse.connection import province_warehouse

        if not re.fullmatch(r"\d{2}", code):
            raise ValueError(f"{code!r} is not a two-digit province code")
        return self.model_copy(
            update={
                "inbox": self.inbox / code,
                "warehouse": province_warehouse(self.warehouse, code),
                "out": self.out / code,
                "lake": self.lake or self.warehouse.parent / "lake",
                "province_code": code,
                "provinces": [],
            }
        )

    @field_validator("thi_dua_groups", mode="after")
    @classmethod
    def _unique_groups(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("thi_dua_groups: each grouping once")
        return v

    @field_validator("season_self_assessment", "season_external_review", mode="after")
    @classmethod
    def _month_day(cls, v: str) -> str:
        dt.date.fromisoformat(f"2024-{v}")  # a day that exists (29 February included)
        return v

    @field_validator("season_deadlines", mode="after")
    @classmethod
    def _season_years(cls, v: dict[str, SeasonDeadlines]) -> dict[str, SeasonDeadlines]:
        for school_year, d in v.items():
            if (
                not re.fullmatch(r"\d{4}-\d{4}", school_year)
                or int(school_year[5:]) != int(school_year[:4]) + 1
            ):
                raise ValueError(f"season_deadlines: {school_year!r} is not a school year YYYY-YYYY")
            if not int(school_year[:4]) < d.self_assessment.year <= int(school_year[5:]) + 1:
                raise ValueError(
                    f"season_deadlines: {school_year}: the deadlines must fall in the school year"
                )
        return v

    @model_validator(mode="after")
    def _season_defaults_ordered(self) -> Settings:
        if self.season_external_review < self.season_self_assessment:
            raise ValueError("season_external_review (MM-DD) cannot come before season_self_assessment")
        return self

    def season(self, school_year: str) -> SeasonDeadlines:
        """The deadlines of `year`: its own entry of `season_deadlines`, else the MM-DD defaults in the
        school year's second calendar year."""
        if school_year in self.season_deadlines:
            return self.season_deadlines[school_year]
        end = int(school_year[5:])
        return SeasonDeadlines(
            self_assessment=dt.date.fromisoformat(f"{end}-{self.season_self_assessment}"),
            external_review=dt.date.fromisoformat(f"{end}-{self.season_external_review}"),
        )


class InsecureHashKeyError(RuntimeError):
    """Production mode with the default (or an empty) hash key: ids and phones would be hashed with a
    key anyone can read in the repository, so the run must not start."""

    def __init__(self) -> None:
        super().__init__(
            "Chế độ production (CDS_MODE=production) không được chạy với khóa băm mặc định hoặc rỗng: "
            "hãy đặt CDS_HASH_KEY là một khóa bí mật riêng (ngoài kho mã nguồn). / "
            "Refusing to run in production mode with the default or an empty hash key: set CDS_HASH_KEY "
            "to a secret key kept outside the repository."
        )


def check_hash_key(mode: str, hash_key: str) -> None:
    """Raise `InsecureHashKeyError` in production mode when the HMAC key is the default or empty."""
    if mode == "production" and hash_key in ("", DEFAULT_HASH_KEY):
        raise InsecureHashKeyError()


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (e.g. from CLI options)."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
