"""Sensors: the debounced inbox sensor that starts a school-year run when files arrive or change, and
the run-status sensor that writes the run summary after every successful Dagster run.

Debounce: per school-year folder the sensor keeps, in its cursor, the last fingerprint it saw, since
when it has been unchanged, and the last fingerprint it started a run for. It starts a run only when
the fingerprint differs from the last one it ran for AND has stayed the same for `debounce_seconds`,
so a school uploading 30 files over ten minutes starts one run, not 30. The run key is the
fingerprint, so the same inbox state never starts two runs. The decision is the pure function
`debounce`, which the tests drive with a fake clock. In a multi-province deployment the unit is a
(province, year) folder, `<inbox>/<province>/<year>/`: one run per changed province-year.
"""

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines import inbox_state
from pipelines.lock import warehouse_lock
from pipelines.partitions import partition_key, province_of_tags, split_key
from pipelines.resources import resolve_province

INBOX_SENSOR = "cds_inbox_sensor"
SUMMARY_SENSOR = "cds_run_summary_sensor"


@dataclass
class Decision:
    """What one sensor tick decided: runs to start (year, fingerprint), why not, and the new cursor."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    waiting: dict[str, float] = field(default_factory=dict)  # year → seconds still to wait
    cursor: str = "{}"

    def skip_reason(self) -> str:
        if self.waiting:
            parts = ", ".join(f"{y} ({s:.0f} s)" for y, s in sorted(self.waiting.items()))
            return f"inbox changed; waiting for it to stay unchanged: {parts}"
        return "no new or changed files"


def debounce(
    fingerprints: Mapping[str, str], cursor: str | None, now: float, debounce_seconds: float
) -> Decision:
    """Decide which school years to run. `fingerprints`: year → inbox fingerprint of that year."""
    try:
        state: dict[str, dict] = json.loads(cursor or "{}").get("years", {})
    except (ValueError, AttributeError):
        state = {}
    decision = Decision()
    new_state: dict[str, dict] = {}
    for school_year, fp in sorted(fingerprints.items()):
        st = dict(state.get(school_year, {}))
        if st.get("seen") != fp:
            st.update(seen=fp, since=now)
        stable_for = now - float(st.get("since", now))
        if st.get("fired") != fp:
            if stable_for >= debounce_seconds:
                decision.requests.append((school_year, fp))
                st["fired"] = fp
            else:
                decision.waiting[school_year] = debounce_seconds - stable_for
        new_state[school_year] = st
    decision.cursor = json.dumps({"years": new_state}, sort_keys=True)
    return decision


def year_fingerprints(inbox: Path, years: list[str]) -> dict[str, str]:
    """Fingerprint of every school-year folder of the inbox that is also a partition."""
    return {
        y: inbox_state.fingerprint(inbox_state.snapshot(inbox, y))
        for y in inbox_state.years_in(inbox)
        if y in years
    }


def province_year_fingerprints(inbox: Path, provinces: Iterable[str], years: list[str]) -> dict[str, str]:
    """Fingerprint of every `<province>/<year>` folder of a multi-province inbox, keyed `province|year`
    (the string form of the partition key)."""
    return {f"{p}|{y}": fp for p in provinces for y, fp in year_fingerprints(inbox / p, years).items()}


def build_inbox_sensor(
    inbox: Path,
    job_name: str,
    partition_keys: list[str],
    debounce_seconds: int,
    interval_seconds: int = 60,
    clock: Callable[[], float] = time.time,
    provinces: Iterable[str] = (),
) -> dg.SensorDefinition:
    """The inbox sensor for `job_name` (STOPPED by default). `partition_keys`: the school years; with
    `provinces`, one run per changed (province, year)."""
    provinces = list(provinces)

    def fingerprints() -> dict[str, str]:
        if provinces:
            return province_year_fingerprints(inbox, provinces, partition_keys)
        return year_fingerprints(inbox, partition_keys)

    @dg.sensor(
        name=INBOX_SENSOR,
        job_name=job_name,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Chạy khi có tệp mới hoặc tệp thay đổi trong thư mục nhận, sau {debounce_seconds} giây "
        "không còn thay đổi.",
    )
    def _inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        decision = debounce(fingerprints(), context.cursor, clock(), debounce_seconds)
        runs = [
            dg.RunRequest(
                run_key=f"{key}:{fp[:16]}",
                partition_key=partition_key(*split_key(key)),
                tags={"cds/trigger": "inbox_sensor", "cds/inbox_fingerprint": fp[:16]},
            )
            for key, fp in decision.requests
        ]
        return dg.SensorResult(
            run_requests=runs,
            skip_reason=None if runs else dg.SkipReason(decision.skip_reason()),
            cursor=decision.cursor,
        )

    return _inbox_sensor


def step_groups(assets: Iterable[object], checks: Iterable[object] = ()) -> dict[str, str]:
    """Step key → stage: an asset's step goes to its group; a stand-alone asset check's step goes to
    "checks" (data-quality audits)."""
    out: dict[str, str] = {}
    for a in assets:
        if isinstance(a, dg.AssetsDefinition):
            for group in a.group_names_by_key.values():
                out[a.node_def.name] = group
    for c in checks:
        if isinstance(c, dg.AssetsDefinition):
            out.setdefault(c.node_def.name, "checks")
    return out


def step_seconds_of(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Duration of each finished step of a run, from the event log."""
    out: dict[str, float] = {}
    for st in instance.get_run_step_stats(run_id):
        if st.start_time and st.end_time:
            out[st.step_key] = st.end_time - st.start_time
    return out


def build_summary_sensor(
    jobs: list[object],
    warehouse: Path,
    out: Path,
    group_of_step: Mapping[str, str],
    lock_wait_seconds: int,
) -> dg.SensorDefinition:
    """After each successful run of one of `jobs`, write out/run_summary_<year>.json and tag the run.
    `warehouse` and `out` may hold `{province}` (a multi-province deployment): the run's province."""

    @dg.run_status_sensor(
        name=SUMMARY_SENSOR,
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=jobs,  # type: ignore[arg-type]
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Ghi tóm tắt lượt chạy (out/run_summary_<năm học>.json) sau mỗi lượt chạy thành công.",
    )
    def _summary(context: dg.RunStatusSensorContext) -> None:
        from pipelines.run_summary import build_summary, write_summary

        run = context.dagster_run
        key = run.tags.get("dagster/partition")
        if not key:
            return
        school_year = split_key(key)[1]
        province = province_of_tags(run.tags)
        run_warehouse = Path(resolve_province(str(warehouse), province))
        run_out = Path(resolve_province(str(out), province))
        stats = context.instance.get_run_stats(run.run_id)
        started = dt.datetime.fromtimestamp(stats.start_time or time.time())
        finished = dt.datetime.fromtimestamp(stats.end_time or time.time())
        from warehouse.connection import connect

        with warehouse_lock(run_warehouse, lock_wait_seconds, owner=f"summary:{run.run_id}"):
            con = connect(run_warehouse, None, None, read_only=True)
            try:
                summary = build_summary(
                    con,
                    school_year=school_year,
                    status="success",
                    started_at=started,
                    finished_at=finished,
                    trigger=run.tags.get("cds/trigger", "dagster"),
                    run_id=run.run_id,
                    step_seconds=step_seconds_of(context.instance, run.run_id),
                    group_of_step=group_of_step,
                )
            finally:
                con.close()
        path = write_summary(run_out, summary)
        f = summary["files"]
        context.instance.add_run_tags(
            run.run_id,
            {
                "cds/summary_path": str(path),
                "cds/files_seen": str(f["seen"]),
                "cds/files_changed": str(f["ingested"] + f["replaced"] + f["retired"]),
                "cds/files_quarantined": str(f["quarantined"]),
                "cds/schools_by_level": json.dumps(summary["schools_by_level"]),
            },
        )
        context.log.info(f"run summary written to {path}")

    return _summary
