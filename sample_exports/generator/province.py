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

from . import json_layouts as J
from . import layouts as L
from . import layouts_school as S
from . import rules as R
from . import selfassess as SA
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


def school_files(run: Run, plan: YearPlan, ctxb: tuple[Any, str], prov_lms: list[dict[str, Any]]) -> None:
    """Every per-school file of one school-year (sources in `plan.missing` are not written)."""
    sch = plan.school
    d = f"{plan.year}/{sch.code}"
    m = plan.missing
    plat = sch.platform

    def go(name: str, layout: str, fn: Callable[[L.Ctx, str], Book], fmt: str = "xlsx", **kw: Any) -> None:
        rel = f"{d}/{name}"
        emit(run, rel, layout, lambda c: fn(c, rel), ctxb, fmt=fmt, **kw)

    go("DS_Lop.xls", "csdl.class.v1", lambda c, r: S.classes(c, plan, r), "xls", has_title=False)
    if "csdl_student" not in m:
        go("CSDL_HocSinh.xls", "csdl.student.v1", lambda c, r: S.students_csdl(c, plan, r), "xls", has_title=False,
           bad_rows=True)
    fmt_b = "xls" if plat == "vnedu" else "xlsx"
    go(f"DanhSachHocSinh.{fmt_b}", "school.student_list.v1", lambda c, r: S.student_list(c, plan, r, fmt_b), fmt_b,
       bad_rows=True)
    go("CSDL_GiaoVien.xls", "csdl.staff.v1", lambda c, r: S.staff(c, plan, r), "xls", has_title=False)
    for sem in (1, 2):
        go(f"PhanCong_HK{sem}.xlsx", "school.assignment.v1", lambda c, r, s=sem: S.assignments(c, plan, r, s))
    if "gradebook" not in m:
        secondary = [ci for ci, c in enumerate(plan.classes) if c.grade >= 6]
        primary = any(c.grade <= 5 for c in plan.classes)
        if secondary:
            if plat == "misa":
                go("BangDiem_HK1.xlsx", "csdl.tt22_import.v1", lambda c, r: S.tt22_csdl(c, plan, r), single_tier=False,
                   bad_rows=True)
            else:
                flat = plat == "smas"
                lid = "smas.tt22_gradebook.v1" if flat else "school.tt22_gradebook.v1"
                for ci in secondary:
                    cname = plan.classes[ci].name
                    go(f"SoDiem_{cname}_HK1.xlsx", lid, lambda c, r, ci=ci: S.tt22_class_book(c, plan, r, ci, flat),
                       single_tier=flat, bad_rows=True)
        if primary:
            vn = plat == "vnedu"
            go("TT27_CK1.xlsx", "vnedu.tt27.v1" if vn else "csdl.tt27_import.v1",
               lambda c, r: S.tt27_book(c, plan, r, vn), single_tier=False, bad_rows=True)
    if "transcripts" not in m:
        go("HocBaSo.xlsx", "school.transcript_status.v1", lambda c, r: S.transcripts(c, plan, r), repeat=True, bad_rows=True)
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
        go("TaiKhoanTapHuan.xlsx", "taphuan.accounts.v1",
           lambda c, r: S.training(c, sch.name, S.training_rows(plan), r))
    if "parent_accounts" not in m:
        go("TaiKhoanPhuHuynh.xlsx", "school.parent_accounts.v1", lambda c, r: S.parent_accounts(c, plan, r), repeat=True)
    if "fees" not in m:
        ff = "csv" if sch.formats["fees"] == "csv" else "xlsx"
        go(f"DoiSoatThuPhi.{ff}", "payment.transactions.v1", lambda c, r: S.fees(c, plan, r, ff), ff, bad_rows=True)
    if "admissions" not in m and plan.admissions:
        if sch.formats["admissions"] == "class_split":
            go("ChiaLop_TuyenSinh.xlsx", "admission.class_split.v1", lambda c, r: S.admissions_split(c, plan, r),
               has_title=False)
        else:
            for g in sorted({a["grade"] for a in plan.admissions}):
                go(f"TuyenSinh_Khoi{g}.xlsx", "admission.portal.v1",
                   lambda c, r, g=g: S.admissions_portal(c, plan, r, g), bad_rows=True)
    if "health" not in m:
        go("KhamSucKhoe.xlsx", "school.health.v1", lambda c, r: S.health(c, plan, r), repeat=True, bad_rows=True)
    if "vouchers" not in m:
        go("BangKeChungTu.xlsx", "misa.vouchers.v1", lambda c, r: S.vouchers(c, plan, r), bad_rows=True)
    if "sync_log" not in m:
        go("LichSuDongBo.xlsx", "school.csdl_sync_log.v1", lambda c, r: S.sync_log(c, plan, r), bad_rows=True)


def write_truth(run: Run, code: str, year: str, data: dict[str, Any], selfrows: dict[str, Any]) -> None:
    """Append one school-year's truth rows."""
    values, findings, (dh, qt, lvl) = reconcile(code, year, data, selfrows)
    for v in values:
        run.truth("indicator_values.csv", [
            code, year, v.code, "" if v.numerator is None else v.numerator,
            "" if v.denominator is None else v.denominator,
            "" if v.value is None else R.fmt_decimal(R.round_half_up(v.value, 6)),
            R.fmt_decimal(v.points) if v.points is not None else "", v.status])
    for f in findings:
        run.truth("findings.csv", list(f))
    run.truth("school_levels.csv", [code, year, R.fmt_decimal(dh), R.fmt_decimal(qt), lvl])


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
            training_rows: list[list[Any]] = []
            self_entries: dict[str, list[tuple[School, dict[str, Any]]]] = {}
            prov_lms: list[dict[str, Any]] = []
            for sch in it:
                plan = build_year(sch, year, ids, small=preset_name == "small")
                school_files(run, plan, ctxb, prov_lms)
                if sch.formats["training"] == "province":
                    training_rows += S.training_rows(plan)
                data = computed_values(plan)
                fmt = sch.formats["self"]
                selfrows = SA.plant_self(data, random.Random(f"self:{sch.seed}:{year}"), wide=fmt.startswith("wide"))
                self_entries.setdefault(fmt, []).append((sch, selfrows))
                write_truth(run, sch.code, year, data, selfrows)
                del plan
            if training_rows:
                rel = f"{prov}/TaiKhoanTapHuan_ToanTinh.xlsx"
                emit(run, rel, "taphuan.accounts.v1",
                     lambda c, rel=rel, rows=training_rows: S.training(c, "SỞ GIÁO DỤC VÀ ĐÀO TẠO", rows, rel), ctxb, fmt="xlsx")
            for fmt, entries in sorted(self_entries.items()):
                for part in range(0, len(entries), 400):
                    chunk = entries[part : part + 400]
                    suffix = f"_{part // 400 + 1}" if len(entries) > 400 else ""
                    if fmt.startswith("long"):
                        ext = "csv" if fmt == "long_csv" else "xlsx"
                        rel = f"{prov}/TuDanhGia_Doc{suffix}.{ext}"
                        emit(run, rel, "cds.self_assessment_long.v1",
                             lambda c, rel=rel, ch=chunk, ext=ext: SA.long_book(c, ch, rel, ext), ctxb, fmt=ext,
                             has_title=False)
                    else:
                        two = fmt == "wide2"
                        rel = f"{prov}/TuDanhGia_{'Ngang2Tang' if two else 'Ngang'}{suffix}.xlsx"
                        emit(run, rel, "cds.self_assessment_wide.v1",
                             lambda c, rel=rel, ch=chunk, two=two: SA.wide_book(c, ch, rel, two), ctxb, fmt="xlsx",
                             single_tier=False)
            if prov_lms:
                J.push_schools(prov_lms, preset.province_code, year,
                               lambda rel, lid, obj: emit_json(run, rel, lid, obj))
    finally:
        for fh in handles:
            fh.close()
    return run
