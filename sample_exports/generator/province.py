"""Orchestration: generate a whole province inbox, school by school, streaming files and truth to disk.

Memory stays bounded by one school-year plan per process plus the small province-wide lists (registry,
training accounts, self-assessments). Truth CSVs are appended as each school is finished.

Presets other than `small` generate school-years in a bounded pool of worker processes: each school-year
has its own quirk stream and a reserved block of identifiers, workers write its files directly and send
back its truth rows, which this process appends in school order — the output depends only on the
arguments. `small` keeps the single-process order that produced the committed sample inbox.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
import random
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import json_layouts as J
from . import layouts as L
from . import layouts_school as S
from . import real_province as RE
from . import rules as R
from . import selfassess as SA
from .plan import IdCounter, YearPlan, build_year, id_budget
from .presets import PRESETS, School, build_schools
from .quirks import QuirkPicker, eligible
from .sheets import QUIRKS, Book, render_sheet
from .truth import computed_values, reconcile
from .writers import break_xlsx_dimension, corrupt_xls_container, write_csv, write_json, write_xls, write_xlsx

TRUTH_DIR = "_truth"
TRUTH_FILES = {
    "indicator_values.csv": [
        "school_code",
        "school_year",
        "criterion_code",
        "numerator",
        "denominator",
        "value",
        "points",
        "status",
    ],
    "findings.csv": ["school_code", "school_year", "criterion_code", "finding"],
    "school_levels.csv": ["school_code", "school_year", "group_dh_points", "group_qt_points", "level"],
    "bad_rows.csv": ["file", "sheet", "row", "reason_code"],
}


@dataclass
class Run:
    """State of one generation run."""

    out: Path
    preset_name: str
    seed: int
    messiness: float
    picker: QuirkPicker
    writers: dict[str, Any] = field(default_factory=dict)
    files: int = 0
    layouts_seen: set[str] = field(default_factory=set)
    buffer: dict[str, list[list[Any]]] | None = None  # truth rows kept in memory (worker processes)
    real: RE.RealOptions = field(default_factory=RE.RealOptions)  # real vendor exports (off by default)

    def file_rng(self, relpath: str) -> random.Random:
        h = hashlib.sha256(f"{self.seed}:{relpath}".encode()).hexdigest()
        return random.Random(int(h[:16], 16))

    def truth(self, name: str, row: list[Any]) -> None:
        if self.buffer is not None:
            self.buffer[name].append(row)
        else:
            self.writers[name][1].writerow(row)


def assign_formats(schools: list[School], preset: str) -> None:
    """Which layout variant each school's sources use (platform decides the grade-book layouts)."""
    if preset == "small":
        table = [
            {
                "lms": "json",
                "resources": "json",
                "fees": "csv",
                "admissions": "portal",
                "self": "long_xlsx",
                "training": "school",
            },
            {
                "lms": "excel",
                "resources": "xlsx",
                "fees": "xlsx",
                "admissions": "class_split",
                "self": "long_csv",
                "training": "province",
            },
            {
                "lms": "excel",
                "resources": "xlsx",
                "fees": "csv",
                "admissions": "portal",
                "self": "wide",
                "training": "province",
            },
            {
                "lms": "json",
                "resources": "json",
                "fees": "xlsx",
                "admissions": "portal",
                "self": "wide2",
                "training": "province",
            },
            {
                "lms": "excel",
                "resources": "xlsx",
                "fees": "xlsx",
                "admissions": "portal",
                "self": "long_xlsx",
                "training": "province",
            },
        ]
        for s in schools:
            s.formats = dict(table[s.idx])
        return
    for s in schools:
        rng = random.Random(f"formats:{s.seed}")
        s.formats = {
            "lms": "json" if rng.random() < 0.4 else "excel",
            "resources": "json" if rng.random() < 0.3 else "xlsx",
            "fees": "csv" if rng.random() < 0.3 else "xlsx",
            "admissions": "class_split" if rng.random() < 0.1 else "portal",
            "self": rng.choices(("long_xlsx", "long_csv", "wide", "wide2"), (0.6, 0.15, 0.15, 0.1))[0],
            "training": "school" if rng.random() < 0.2 else "province",
        }


def emit(
    run: Run,
    relpath: str,
    layout_id: str,
    build: Callable[[L.Ctx], Book],
    ctx_base: tuple[Any, str],
    *,
    fmt: str,
    single_tier: bool = True,
    has_title: bool = True,
    repeat: bool = False,
    bad_rows: bool = False,
) -> None:
    """Pick quirks, build, render, write and post-process one spreadsheet file."""
    preset, year = ctx_base
    q = run.picker.pick(
        eligible(fmt, single_tier=single_tier, has_title=has_title, repeat=repeat, bad_rows=bad_rows)
    )
    rng = run.file_rng(relpath)
    ctx = L.Ctx(preset, year, q, rng)
    book = build(ctx)
    if run.real.key_synonym > 0 and layout_id in RE.GRADEBOOK_LAYOUTS:
        RE.apply_key_synonym(book, run.real, run.seed, relpath)
    if "title_rows" in q and not has_title:
        k = rng.randint(1, 10)
        lines = [
            "BỘ GIÁO DỤC VÀ ĐÀO TẠO",
            "CƠ SỞ DỮ LIỆU NGÀNH GIÁO DỤC",
            f"Năm học: {year}",
            "Ngày xuất dữ liệu: 25/05/2025",
        ]
        book.sheets[0].blocks[0].title[:0] = [[lines[j]] if j < len(lines) else [] for j in range(k)]
    if "code_sheets" in q and fmt != "csv" and not any(s.name.startswith("DM_") for s in book.sheets):
        book.sheets.append(L.code_sheet())
    path = run.out / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    grids = [(s.name, render_sheet(s, q, rng)) for s in book.sheets]
    if fmt == "xlsx":
        write_xlsx(path, grids)
        if "bad_dimension" in q:
            break_xlsx_dimension(path)
    elif fmt == "xls":
        write_xls(path, grids)
        if "xls_corrupt" in q:
            corrupt_xls_container(path)
    else:
        write_csv(path, grids[0][1], book.csv_delimiter, bom=rng.random() < 0.5)
    for name, g in grids:
        for row, reason in g.bad:
            run.truth("bad_rows.csv", [relpath, "" if fmt == "csv" else name, row, reason])
    run.files += 1
    run.layouts_seen.add(layout_id)


def emit_json(run: Run, relpath: str, layout_id: str, obj: Any) -> None:
    path = run.out / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, obj)
    run.files += 1
    run.layouts_seen.add(layout_id)


def school_files(run: Run, plan: YearPlan, ctxb: tuple[Any, str], prov_lms: list[dict[str, Any]]) -> None:
    """Every per-school file of one school-year (sources in `plan.missing` are not written)."""
    sch = plan.school
    d = f"{plan.year}/{sch.code}"
    m = plan.missing
    plat = sch.platform

    def go(name: str, layout: str, fn: Callable[[L.Ctx, str], Book], fmt: str = "xlsx", **kw: Any) -> None:
        rel = f"{d}/{name}"
        emit(run, rel, layout, lambda c: fn(c, rel), ctxb, fmt=fmt, **kw)

    real = RE.school_files(run.real, run.seed, run.out, plan) if run.real.share > 0 else RE.Written()
    run.files += real.files
    run.layouts_seen |= {f"real.{x}" for x in real.structures}
    rep = real.replaced
    go("DS_Lop.xls", "csdl.class.v1", lambda c, r: S.classes(c, plan, r), "xls", has_title=False)
    if "csdl_student" not in m and "csdl_student" not in rep:
        go(
            "CSDL_HocSinh.xls",
            "csdl.student.v1",
            lambda c, r: S.students_csdl(c, plan, r),
            "xls",
            has_title=False,
            bad_rows=True,
        )
    fmt_b = "xls" if plat == "vnedu" else "xlsx"
    go(
        f"DanhSachHocSinh.{fmt_b}",
        "school.student_list.v1",
        lambda c, r: S.student_list(c, plan, r, fmt_b),
        fmt_b,
        bad_rows=True,
    )
    if "staff" not in rep:
        go("CSDL_GiaoVien.xls", "csdl.staff.v1", lambda c, r: S.staff(c, plan, r), "xls", has_title=False)
    for sem in (1, 2):
        go(f"PhanCong_HK{sem}.xlsx", "school.assignment.v1", lambda c, r, s=sem: S.assignments(c, plan, r, s))
    if "gradebook" not in m:
        secondary = [ci for ci, c in enumerate(plan.classes) if c.grade >= 6]
        primary = any(c.grade <= 5 for c in plan.classes)
        if secondary and "tt22_csdl" not in rep:
            if plat == "misa":
                go(
                    "BangDiem_HK1.xlsx",
                    "csdl.tt22_import.v1",
                    lambda c, r: S.tt22_csdl(c, plan, r),
                    single_tier=False,
                    bad_rows=True,
                )
            else:
                flat = plat == "smas"
                lid = "smas.tt22_gradebook.v1" if flat else "school.tt22_gradebook.v1"
                for ci in secondary:
                    cname = plan.classes[ci].name
                    go(
                        f"SoDiem_{cname}_HK1.xlsx",
                        lid,
                        lambda c, r, ci=ci: S.tt22_class_book(c, plan, r, ci, flat),
                        single_tier=flat,
                        bad_rows=True,
                    )
        only = RE.tt27_classes_left(plan, rep)
        if primary and only != set():
            vn = plat == "vnedu"
            go(
                "TT27_CK1.xlsx",
                "vnedu.tt27.v1" if vn else "csdl.tt27_import.v1",
                lambda c, r: S.tt27_book(c, plan, r, vn, only),
                single_tier=False,
                bad_rows=True,
            )
    if "transcripts" not in m:
        go(
            "HocBaSo.xlsx",
            "school.transcript_status.v1",
            lambda c, r: S.transcripts(c, plan, r),
            repeat=True,
            bad_rows=True,
        )
    if "lms" not in m and plan.lms_users:
        if sch.formats["lms"] == "excel":
            go("ThongKeLMS_HK1.xlsx", "lms.activity_report.v1", lambda c, r: S.lms_report(c, plan, r))
        else:
            prov_lms.extend(J.push_users(run.out, plan, lambda rel, lid, obj: emit_json(run, rel, lid, obj)))
    if "resources" not in m:
        if sch.formats["resources"] == "json":
            emit_json(run, f"{d}/HocLieu.json", "lms.resources.v1", J.resources_json(plan))
        else:
            go("HocLieu.xlsx", "school.resource_list.v1", lambda c, r: S.resources(c, plan, r))
    if "cbt" not in m:
        go("KiemTraTrenMay.xlsx", "cbt.test_list.v1", lambda c, r: S.tests(c, plan, r), bad_rows=True)
    if "rooms" not in m:
        go("DanhSachPhong.xlsx", "csdl.rooms.v1", lambda c, r: L.rooms(c, plan, r), bad_rows=True)
    if sch.formats["training"] == "school":
        go(
            "TaiKhoanTapHuan.xlsx",
            "taphuan.accounts.v1",
            lambda c, r: S.training(c, sch.name, S.training_rows(plan), r),
        )
    if "parent_accounts" not in m:
        go(
            "TaiKhoanPhuHuynh.xlsx",
            "school.parent_accounts.v1",
            lambda c, r: S.parent_accounts(c, plan, r),
            repeat=True,
        )
    if "fees" not in m:
        ff = "csv" if sch.formats["fees"] == "csv" else "xlsx"
        go(
            f"DoiSoatThuPhi.{ff}",
            "payment.transactions.v1",
            lambda c, r: S.fees(c, plan, r, ff),
            ff,
            bad_rows=True,
        )
    if "admissions" not in m and plan.admissions:
        if sch.formats["admissions"] == "class_split":
            if "admissions_split" not in rep:
                go(
                    "ChiaLop_TuyenSinh.xlsx",
                    "admission.class_split.v1",
                    lambda c, r: S.admissions_split(c, plan, r),
                    has_title=False,
                )
        else:
            for g in sorted({a["grade"] for a in plan.admissions}):
                go(
                    f"TuyenSinh_Khoi{g}.xlsx",
                    "admission.portal.v1",
                    lambda c, r, g=g: S.admissions_portal(c, plan, r, g),
                    bad_rows=True,
                )
    if "health" not in m:
        go(
            "KhamSucKhoe.xlsx",
            "school.health.v1",
            lambda c, r: S.health(c, plan, r),
            repeat=True,
            bad_rows=True,
        )
    if "vouchers" not in m:
        go("BangKeChungTu.xlsx", "misa.vouchers.v1", lambda c, r: S.vouchers(c, plan, r), bad_rows=True)
    if "sync_log" not in m:
        go("LichSuDongBo.xlsx", "school.csdl_sync_log.v1", lambda c, r: S.sync_log(c, plan, r), bad_rows=True)


def write_truth(run: Run, code: str, year: str, data: dict[str, Any], selfrows: dict[str, Any]) -> None:
    """Append one school-year's truth rows."""
    values, findings, (dh, qt, lvl) = reconcile(code, year, data, selfrows)
    for v in values:
        run.truth(
            "indicator_values.csv",
            [
                code,
                year,
                v.code,
                "" if v.numerator is None else v.numerator,
                "" if v.denominator is None else v.denominator,
                "" if v.value is None else R.fmt_decimal(R.round_half_up(v.value, 6)),
                R.fmt_decimal(v.points) if v.points is not None else "",
                v.status,
            ],
        )
    for f in findings:
        run.truth("findings.csv", list(f))
    run.truth("school_levels.csv", [code, year, R.fmt_decimal(dh), R.fmt_decimal(qt), lvl])


@dataclass
class SchoolYear:
    """What the province-level files and the truth need from one finished school-year."""

    training_rows: list[list[Any]]
    self_fmt: str
    selfrows: dict[str, Any]
    prov_lms: list[dict[str, Any]]
    staff_rows: list[Any] = field(default_factory=list)  # for the real province-wide staff list (R8)


def school_year(run: Run, sch: School, year: str, ids: IdCounter, small: bool) -> SchoolYear:
    """Plan one school-year, write its files and its truth rows."""
    ctxb = (PRESETS[run.preset_name], year)
    plan = build_year(sch, year, ids, small=small)
    if run.real.share > 0:
        RE.prepare_plan(run.real, run.seed, plan)
    prov_lms: list[dict[str, Any]] = []
    school_files(run, plan, ctxb, prov_lms)
    training_rows = S.training_rows(plan) if sch.formats["training"] == "province" else []
    data = computed_values(plan)
    fmt = sch.formats["self"]
    selfrows = SA.plant_self(data, random.Random(f"self:{sch.seed}:{year}"), wide=fmt.startswith("wide"))
    write_truth(run, sch.code, year, data, selfrows)
    staff_rows = RE.province_staff_rows(plan) if run.real.wants("R8") else []
    return SchoolYear(training_rows, fmt, selfrows, prov_lms, staff_rows)


def province_files(
    run: Run, year: str, schools: list[School], done: Iterable[tuple[School, SchoolYear]]
) -> None:
    """Consume the finished school-years of `year` (in school order) and write the province-wide files."""
    preset = PRESETS[run.preset_name]
    ctxb = (preset, year)
    prov = f"{year}/province"
    training_rows: list[list[Any]] = []
    self_entries: dict[str, list[tuple[School, dict[str, Any]]]] = {}
    prov_lms: list[dict[str, Any]] = []
    staff_rows: list[Any] = []
    for sch, res in done:
        prov_lms += res.prov_lms
        staff_rows += res.staff_rows
        training_rows += res.training_rows
        self_entries.setdefault(res.self_fmt, []).append((sch, res.selfrows))
    if training_rows:
        rel = f"{prov}/TaiKhoanTapHuan_ToanTinh.xlsx"
        emit(
            run,
            rel,
            "taphuan.accounts.v1",
            lambda c, rel=rel, rows=training_rows: S.training(c, "SỞ GIÁO DỤC VÀ ĐÀO TẠO", rows, rel),
            ctxb,
            fmt="xlsx",
        )
    for fmt, entries in sorted(self_entries.items()):
        for part in range(0, len(entries), 400):
            chunk = entries[part : part + 400]
            suffix = f"_{part // 400 + 1}" if len(entries) > 400 else ""
            if fmt.startswith("long"):
                ext = "csv" if fmt == "long_csv" else "xlsx"
                rel = f"{prov}/TuDanhGia_Doc{suffix}.{ext}"
                emit(
                    run,
                    rel,
                    "cds.self_assessment_long.v1",
                    lambda c, rel=rel, ch=chunk, ext=ext: SA.long_book(c, ch, rel, ext),
                    ctxb,
                    fmt=ext,
                    has_title=False,
                )
            else:
                two = fmt == "wide2"
                rel = f"{prov}/TuDanhGia_{'Ngang2Tang' if two else 'Ngang'}{suffix}.xlsx"
                emit(
                    run,
                    rel,
                    "cds.self_assessment_wide.v1",
                    lambda c, rel=rel, ch=chunk, two=two: SA.wide_book(c, ch, rel, two),
                    ctxb,
                    fmt="xlsx",
                    single_tier=False,
                )
    if prov_lms:
        J.push_schools(
            prov_lms, preset.province_code, year, lambda rel, lid, obj: emit_json(run, rel, lid, obj)
        )
    if staff_rows:
        real = RE.province_staff_file(run.real, run.seed, run.out, year, schools, staff_rows)
        run.files += real.files
        run.layouts_seen |= {f"real.{x}" for x in real.structures}


def registry_file(run: Run, year: str, schools: list[School]) -> None:
    emit(
        run,
        f"{year}/province/DanhSachTruong.xlsx",
        "csdl.school.v1",
        lambda c: L.registry(c, schools, f"{year}/province/DanhSachTruong.xlsx"),
        (PRESETS[run.preset_name], year),
        fmt="xlsx",
        bad_rows=True,
    )


def default_workers() -> int:
    """Worker processes for large presets: 2, or 1 on a single-core machine."""
    return max(1, min(2, os.cpu_count() or 1))


def generate(
    preset_name: str,
    seed: int,
    years: list[str],
    out: Path,
    messiness: float,
    progress: Callable[[Iterable[Any], int, str], Iterable[Any]] | None = None,
    workers: int | None = None,
    real: RE.RealOptions | None = None,
) -> Run:
    """Generate the inbox and its truth into `out`.

    The `small` preset runs in one process with province-wide sequential identifiers and one quirk stream
    (its output is the committed sample inbox). Larger presets plan every school-year independently — own
    quirk stream, identifiers from a block reserved for it — so that school-years can be generated by
    `workers` processes in parallel; their output depends only on the arguments, not on `workers`.
    `real` adds the real vendor exports of docs/real_exports.md (`real_province.py`); None takes the
    preset's default share (`Preset.real_share`); `RealOptions()` (share 0) leaves the output byte for byte
    as without them (the committed sample inbox is `small` with share 0: `make sample`).
    """
    preset = PRESETS[preset_name]
    if real is None:
        real = RE.RealOptions(preset.real_share)
    schools = build_schools(preset, seed)
    assign_formats(schools, preset_name)
    out.mkdir(parents=True, exist_ok=True)
    run = Run(out, preset_name, seed, messiness, QuirkPicker(messiness, seed), real=real)
    (out / TRUTH_DIR).mkdir(exist_ok=True)
    handles = []
    for name, header in TRUTH_FILES.items():
        fh = open(out / TRUTH_DIR / name, "w", newline="", encoding="utf-8")  # noqa: SIM115
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        run.writers[name] = (fh, w)
        handles.append(fh)

    def track(items: Iterable[Any], label: str) -> Iterable[Any]:
        return items if progress is None else progress(items, len(schools), label)

    try:
        if preset_name == "small":
            ids = IdCounter(preset.province_code)
            for year in years:
                registry_file(run, year, schools)

                def seq(year: str = year) -> Iterable[tuple[School, SchoolYear]]:
                    for sch in track(schools, year):
                        yield sch, school_year(run, sch, year, ids, small=True)

                province_files(run, year, schools, seq())
        else:
            _generate_parallel(run, schools, years, track, workers or default_workers())
    finally:
        for fh in handles:
            fh.close()
    return run


# ------------------------------------------------------------------------------------- parallel presets
@dataclass
class JobResult:
    res: SchoolYear
    truth: dict[str, list[list[Any]]]
    files: int
    layouts: set[str]
    seen: set[str]
    counts: dict[str, int]


def id_blocks(schools: list[School], years: list[str]) -> list[list[tuple[int, int, int]]]:
    """First (student, staff, parent) sequence number of every school-year: consecutive reserved blocks."""
    base = [0, 0, 0]
    blocks: list[list[tuple[int, int, int]]] = []
    for _year in years:
        row = []
        for sch in schools:
            row.append((base[0], base[1], base[2]))
            for k, n in enumerate(id_budget(sch)):
                base[k] += n
        blocks.append(row)
    if base[0] >= 99_000_000:  # `fake_moet` uses the 99xxxxxx range
        raise ValueError("too many pupils for 8-digit moet sequence numbers")
    return blocks


def _job(task: tuple[Any, ...]) -> JobResult:
    """One school-year in a worker process: files on disk, truth rows returned."""
    preset_name, seed, messiness, out, year, sch, base, seen, real = task
    picker = QuirkPicker(messiness, seed)
    picker.rng = random.Random(f"quirks:{seed}:{year}:{sch.idx}")
    picker.seen = set(seen)
    run = Run(out, preset_name, seed, messiness, picker, buffer={name: [] for name in TRUTH_FILES}, real=real)
    ids = IdCounter(PRESETS[preset_name].province_code)
    ids.student, ids.staff, ids.parent = base
    res = school_year(run, sch, year, ids, small=False)
    used = (ids.student - base[0], ids.staff - base[1], ids.parent - base[2])
    if any(u > b for u, b in zip(used, id_budget(sch), strict=True)):
        raise RuntimeError(f"identifier block overflow for school {sch.code}: {used} > {id_budget(sch)}")
    assert run.buffer is not None
    return JobResult(res, run.buffer, run.files, run.layouts_seen, picker.seen, picker.counts)


def _generate_parallel(
    run: Run,
    schools: list[School],
    years: list[str],
    track: Callable[[Iterable[Any], str], Iterable[Any]],
    workers: int,
) -> None:
    """School-years in `workers` processes (bounded queue); truth and province files in this process, in
    order."""
    blocks = id_blocks(schools, years)
    registry_file(run, years[0], schools)
    # with messiness > 0, the first school-year forces the switches not seen yet (see quirks.py)
    first_seen = frozenset(run.picker.seen)
    tasks = [
        (
            run.preset_name,
            run.seed,
            run.messiness,
            run.out,
            year,
            sch,
            blocks[y][k],
            first_seen if (y, k) == (0, 0) else frozenset(QUIRKS),
            run.real,
        )
        for y, year in enumerate(years)
        for k, sch in enumerate(schools)
    ]
    results = _ordered(tasks, workers)
    try:
        for y, year in enumerate(years):
            if y:
                registry_file(run, year, schools)

            def done(year: str = year) -> Iterable[tuple[School, SchoolYear]]:
                for sch in track(schools, year):
                    r = next(results)
                    for name, rows in r.truth.items():
                        for row in rows:
                            run.truth(name, row)
                    run.files += r.files
                    run.layouts_seen |= r.layouts
                    run.picker.seen |= r.seen
                    for q, n in r.counts.items():
                        run.picker.counts[q] += n
                    yield sch, r.res

            province_files(run, year, schools, done())
    finally:
        results.close()


def _ordered(tasks: list[tuple[Any, ...]], workers: int) -> Generator[JobResult, None, None]:
    """Results of `_job` over `tasks`, in order, with at most 2 × workers tasks queued (bounded memory)."""
    if workers <= 1:
        for t in tasks:
            yield _job(t)
        return
    ctx = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[JobResult]] = deque()
        it = iter(tasks)
        try:
            for t in it:
                pending.append(pool.submit(_job, t))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                r = pending.popleft().result()
                for t in it:
                    pending.append(pool.submit(_job, t))
                    break
                yield r
        finally:
            for f in pending:
                f.cancel()
