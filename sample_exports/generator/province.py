"""Orchestration: generate a whole province inbox, school by school, streaming files and truth to disk.

Memory stays bounded by one school-year plan plus the small province-wide lists (registry, training
accounts, self-assessments). Truth CSVs are appended as each school is finished.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layouts as L
from . import rules as R
from .plan import IdCounter, YearPlan, build_year
from .presets import PRESETS, School, build_schools
from .quirks import QuirkPicker, eligible
from .sheets import Book, render_sheet
from .truth import computed_values, reconcile
from .writers import break_xlsx_dimension, corrupt_xls_container, write_csv, write_json, write_xls, write_xlsx

TRUTH_DIR = "_truth"
TRUTH_FILES = {
    "indicator_values.csv": ["school_code", "school_year", "criterion_code", "numerator", "denominator", "value",
                             "points", "status"],
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

    def file_rng(self, relpath: str) -> random.Random:
        h = hashlib.sha256(f"{self.seed}:{relpath}".encode()).hexdigest()
        return random.Random(int(h[:16], 16))

    def truth(self, name: str, row: list[Any]) -> None:
        self.writers[name][1].writerow(row)


def assign_formats(schools: list[School], preset: str) -> None:
    """Which layout variant each school's sources use (platform decides the grade-book layouts)."""
    if preset == "small":
        table = [
            {"lms": "json", "resources": "json", "fees": "csv", "admissions": "portal", "self": "long_xlsx", "training": "school"},
            {"lms": "excel", "resources": "xlsx", "fees": "xlsx", "admissions": "class_split", "self": "long_csv", "training": "province"},
            {"lms": "excel", "resources": "xlsx", "fees": "csv", "admissions": "portal", "self": "wide", "training": "province"},
            {"lms": "json", "resources": "json", "fees": "xlsx", "admissions": "portal", "self": "wide2", "training": "province"},
            {"lms": "excel", "resources": "xlsx", "fees": "xlsx", "admissions": "portal", "self": "long_xlsx", "training": "province"},
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


def emit(run: Run, relpath: str, layout_id: str, build: Callable[[L.Ctx], Book], ctx_base: tuple[Any, str], *,
         fmt: str, single_tier: bool = True, has_title: bool = True, repeat: bool = False,
         bad_rows: bool = False) -> None:
    """Pick quirks, build, render, write and post-process one spreadsheet file."""
    preset, year = ctx_base
    q = run.picker.pick(eligible(fmt, single_tier=single_tier, has_title=has_title, repeat=repeat, bad_rows=bad_rows))
    rng = run.file_rng(relpath)
    ctx = L.Ctx(preset, year, q, rng)
    book = build(ctx)
    if "title_rows" in q and not has_title:
        k = rng.randint(1, 10)
        lines = ["BỘ GIÁO DỤC VÀ ĐÀO TẠO", "CƠ SỞ DỮ LIỆU NGÀNH GIÁO DỤC", f"Năm học: {year}",
                 "Ngày xuất dữ liệu: 25/05/2025"]
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


def school_files(run: Run, plan: YearPlan, ctxb: tuple[Any, str]) -> None:
    """Every per-school file of one school-year."""
    sch = plan.school
    d = f"{plan.year}/{sch.code}"
    if "rooms" not in plan.missing:
        emit(run, f"{d}/DanhSachPhong.xlsx", "csdl.rooms.v1", lambda c: L.rooms(c, plan, f"{d}/DanhSachPhong.xlsx"), ctxb,
             fmt="xlsx", bad_rows=True)


def generate(preset_name: str, seed: int, years: list[str], out: Path, messiness: float,
             progress: Callable[[Iterable[Any], int, str], Iterable[Any]] | None = None) -> Run:
    """Generate the inbox and its truth into `out`."""
    preset = PRESETS[preset_name]
    schools = build_schools(preset, seed)
    assign_formats(schools, preset_name)
    out.mkdir(parents=True, exist_ok=True)
    run = Run(out, preset_name, seed, messiness, QuirkPicker(messiness, seed))
    (out / TRUTH_DIR).mkdir(exist_ok=True)
    handles = []
    for name, header in TRUTH_FILES.items():
        fh = open(out / TRUTH_DIR / name, "w", newline="", encoding="utf-8")  # noqa: SIM115
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        run.writers[name] = (fh, w)
        handles.append(fh)
    try:
        ids = IdCounter(preset.province_code)
        for year in years:
            ctxb = (preset, year)
            prov = f"{year}/province"
            emit(run, f"{prov}/DanhSachTruong.xlsx", "csdl.school.v1",
                 lambda c, y=year: L.registry(c, schools, f"{y}/province/DanhSachTruong.xlsx"), ctxb, fmt="xlsx", bad_rows=True)
            it: Iterable[School] = schools if progress is None else progress(schools, len(schools), f"{year}")
            for sch in it:
                plan = build_year(sch, year, ids, small=preset_name == "small")
                school_files(run, plan, ctxb)
                data = computed_values(plan)
                values, findings, (dh, qt, lvl) = reconcile(sch.code, year, data, {})
                for v in values:
                    run.truth("indicator_values.csv", [
                        sch.code, year, v.code, "" if v.numerator is None else v.numerator,
                        "" if v.denominator is None else v.denominator,
                        "" if v.value is None else R.fmt_decimal(R.round_half_up(v.value, 6)),
                        R.fmt_decimal(v.points) if v.points is not None else "", v.status])
                for f in findings:
                    run.truth("findings.csv", list(f))
                run.truth("school_levels.csv", [sch.code, year, R.fmt_decimal(dh), R.fmt_decimal(qt), lvl])
    finally:
        for fh in handles:
            fh.close()
    return run
