"""The red-team province (issue 24): a small generated province, a clean pipeline run of it, and a
hostile run in which every class of bad input the issue lists is planted at a school of its own.

What belongs here: generating the province (the generator's province-mountain preset scaled to
`N_SCHOOLS` schools, no messiness), planting each class (`plant`, one `Plant` per class with the school it
targets and the outcome expected), the two runs (`run_both`: the clean run on a fresh warehouse, then the
hostile run on a copy of that warehouse, as a province whose season ran well receives bad files) and
reading a run's outputs per school (`school_outputs`). The assertions are in test_redteam.py.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import xlsxwriter

from tests.corpus import harness
from tests.integration.test_csv_robust import cp1258
from tests.integration.test_folder_mismatch import write_titled_rooms
from tests.integration.test_slice import write_rooms

YEAR = harness.YEAR
PRESET = "redteam"
N_SCHOOLS = 24
PUPILS = 2400  # the whole province (the run's time grows with it, the classes do not need more)
SEED = 7
SETTLE_SECONDS = 600  # the hostile run's settle window: files modified since are deferred
PHANTOM = "14999999"  # a school folder the registry does not hold
ROOM_HEADER = "STT,Mã phòng,Tên phòng,Loại phòng,Máy chiếu/Ti vi,Kết nối Internet"


@dataclass(frozen=True)
class Plant:
    """One class of bad input planted in the hostile inbox.

    `school`: the school it targets (None: no school of the registry, e.g. a phantom folder or a
    province-folder file naming no known school). `neutral`: the mechanism must leave the target's own
    scoring outputs exactly as in the clean run (the input is quarantined, deferred or not read), so
    the target is compared too. `files`: the offending inputs as the manifest names them. `reason`: the
    reason code expected, found where `where` says: `manifest` (the file's manifest row is
    quarantined with it), `rows` (row rejects of a loaded file in dq_quarantine_rows), `sheets` (a sheet not
    read, in the manifest's sheets report), `deferred` (the run's events), `loaded` (read whole, nothing
    to report: the class was that good rows were lost), `api` (the run's LMS API pull failed with it,
    the run completed with a failed source). `shown`: texts the data-quality report must
    contain (the file's name and the Vietnamese words of its reason)."""

    name: str
    school: str | None
    neutral: bool
    files: tuple[str, ...]
    reason: str
    where: str
    shown: tuple[str, ...] = ()
    rows_kept: int | None = None  # rows each file must keep (`loaded` and `rows`)


@dataclass
class Province:
    """The generated province: its school codes and registry names (in registry order)."""

    inbox: Path
    names: dict[str, str] = field(default_factory=dict)

    @property
    def schools(self) -> list[str]:
        return list(self.names)


def generate_province(dest: Path) -> Province:
    """Generate the province (one school year) into `dest` and read its registry."""
    from sample_exports.generator.presets import PRESETS
    from sample_exports.generator.province import generate

    if PRESET not in PRESETS:
        PRESETS[PRESET] = replace(
            PRESETS["province-mountain"], name=PRESET, n_schools=N_SCHOOLS, pupils=PUPILS
        )
    generate(PRESET, SEED, [YEAR], dest, 0.0, workers=1)
    ws = openpyxl.load_workbook(dest / YEAR / "province" / "DanhSachTruong.xlsx", read_only=True).active
    names = {}
    for row in ws.iter_rows(min_row=8, values_only=True):
        if row[1] and str(row[1]).isdigit():
            names[str(row[1])] = str(row[2])
    return Province(dest, names)


# --------------------------------------------------------------------------------------------- plants
def _csv(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _room_lines(prefix: str, n: int = 5) -> list[str]:
    return [ROOM_HEADER] + [f"{i},{prefix}{i},Phòng {prefix}{i},Phòng học,x,x" for i in range(1, n + 1)]


def _poison(path: Path, school: str) -> None:
    """A room list with one more value cell at ZZ1048576: its used range is 736 million cells."""
    write_rooms(path, school, [("PX1", "Phòng học", "x", "x")])
    wb = openpyxl.load_workbook(path)
    wb.active.cell(row=1048576, column=702, value="x")
    wb.save(path)


def _formula_errors(path: Path) -> None:
    """A room list whose second room's computer count is `=1/0` (cached `#DIV/0!`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("DanhSachPhong")
    ws.write_row(0, 0, [f"Năm học: {YEAR}"])
    ws.write_row(1, 0, [*ROOM_HEADER.split(","), "Số máy tính"])
    for i, code in enumerate(("FM1", "FM2", "FM3")):
        ws.write_row(2 + i, 0, [i + 1, code, f"Phòng {code}", "Phòng Tin học", "x", "x"])
        if code == "FM2":
            ws.write_formula(2 + i, 6, "=1/0", None, "#DIV/0!")
        else:
            ws.write_number(2 + i, 6, 20)
    wb.close()


def _very_hidden(path: Path) -> None:
    """Add a very hidden sheet of last year's rooms to an existing room list (the visible sheet as it
    was)."""
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("NamCu")
    ws.append([f"Năm học: {YEAR}"])
    ws.append(ROOM_HEADER.split(","))
    for i in range(1, 6):
        ws.append([i, f"CU{i}", f"Phòng cũ {i}", "Phòng học", "x", "x"])
    ws.sheet_state = "veryHidden"
    wb.save(path)


def _big_push(path: Path, school: str) -> None:
    """A well-formed JSON push just over the 16 MiB cap (made-up user pins): never read."""
    from connectors.filedrop import MAX_JSON_BYTES

    user = {"role": "GV", "metrics": [{"key": "live_sessions", "value": 3}]}
    users = [{"user_pin": f"CB{i:08d}", **user} for i in range(MAX_JSON_BYTES // 60)]
    data = {
        "error_code": 0,
        "data": {
            "school_code": school,
            "school_year_code": 2024,
            "semester_code": 1,
            "measured_at": "2025-01-12T23:00:00+07:00",
            "users": users,
        },
    }
    path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    assert path.stat().st_size > MAX_JSON_BYTES


def _registry_twin(path: Path, code: str) -> None:
    """The registry with a second row for `code` that says another level and name, after the last
    school row."""
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    last = max(r for r in range(8, ws.max_row + 1) if str(ws.cell(r, 2).value or "").isdigit())
    row = next(r for r in range(8, last + 1) if str(ws.cell(r, 2).value) == code)
    twin = [ws.cell(row, c).value for c in range(1, ws.max_column + 1)]
    twin[0], twin[2] = last - 6, f"{twin[2]} (bản trùng)"
    twin[3] = "THPT" if twin[3] != "THPT" else "THCS"
    ws.insert_rows(last + 1)
    for c, v in enumerate(twin, start=1):
        ws.cell(last + 1, c, v)
    wb.save(path)


def plant(province: Province, inbox: Path, permissions: bool) -> list[Plant]:
    """Plant every class into `inbox` (a copy of the province's inbox), each at a school of its own in
    registry order; the last school is the one a misplaced export names (so it must stay unchanged).
    `permissions`: plant the permission classes (the run obeys permissions)."""
    schools = iter(province.schools)
    other = province.schools[-1]
    y = inbox / YEAR
    out: list[Plant] = []

    s = next(schools)  # a cell-reference bomb: stops the run from native code if read
    _poison(y / s / "PhongHoc_bo_sung.xlsx", s)
    out.append(
        Plant(
            "poison_cell_bomb",
            s,
            True,
            (f"{YEAR}/{s}/PhongHoc_bo_sung.xlsx",),
            "file_too_large",
            "manifest",
            ("PhongHoc_bo_sung.xlsx", "Tệp quá lớn"),
        )
    )

    s = next(schools)  # two names that print alike (NFC and NFD): the manifest keys must not collide
    nfc = "Phòng_bổ_sung.xlsx"
    nfd = unicodedata.normalize("NFD", nfc)
    write_rooms(y / s / nfc, s, [("AL1", "Phòng học", "x", "x"), ("AL2", "Phòng học", "x", "x")])
    write_rooms(y / s / nfd, s, [("AL3", "Phòng Tin học", "x", "x")])
    from connectors.inbox import file_key

    out.append(
        Plant(
            "names_that_print_alike",
            s,
            False,
            (f"{YEAR}/{s}/{nfc}", file_key(f"{YEAR}/{s}/{nfd}")),
            "loaded",
            "loaded",
        )
    )

    s = next(schools)  # a byte-identical copy beside its original
    shutil.copy2(y / s / "DanhSachPhong.xlsx", y / s / "DanhSachPhong - Copy.xlsx")
    out.append(
        Plant(
            "byte_identical_copy",
            s,
            True,
            (f"{YEAR}/{s}/DanhSachPhong - Copy.xlsx",),
            "duplicate_file",
            "manifest",
            ("DanhSachPhong - Copy.xlsx", "bản sao"),
        )
    )

    s = next(schools)  # another school's export in this school's folder (its title names `other`)
    extra = [("MP1", "Phòng học", "x", "x"), ("MP2", "Phòng Tin học", "x", "x")]
    write_titled_rooms(y / s / "PhongHoc_truong_khac.xlsx", province.names[other].upper(), extra)
    out.append(
        Plant(
            "export_in_another_schools_folder",
            s,
            True,
            (f"{YEAR}/{s}/PhongHoc_truong_khac.xlsx",),
            "folder_mismatch",
            "manifest",
            ("PhongHoc_truong_khac.xlsx", "khác thư mục nộp"),
        )
    )

    write_rooms(y / PHANTOM / "DanhSachPhong.xlsx", PHANTOM, extra)  # a folder whose code is no school
    out.append(
        Plant(
            "unknown_school_folder",
            None,
            True,
            (f"{YEAR}/{PHANTOM}/DanhSachPhong.xlsx",),
            "unknown_school",
            "manifest",
            (f"{PHANTOM}/DanhSachPhong.xlsx", "không có trong danh sách trường"),
        )
    )

    s = next(schools)  # a misnamed year folder holding a copy of a school's room list
    bad_year = YEAR.replace("-", "_")
    (inbox / bad_year / s).mkdir(parents=True)
    shutil.copy2(y / s / "DanhSachPhong.xlsx", inbox / bad_year / s / "DanhSachPhong.xlsx")
    out.append(
        Plant(
            "misnamed_year_folder",
            s,
            True,
            (f"{bad_year}/{s}/DanhSachPhong.xlsx",),
            "unexpected_folder",
            "manifest",
            (f"{bad_year}/{s}/DanhSachPhong.xlsx", "Thư mục năm học không đúng quy ước"),
        )
    )

    s = next(schools)  # a very hidden sheet of last year's rooms in the school's room list
    _very_hidden(y / s / "DanhSachPhong.xlsx")
    out.append(
        Plant(
            "very_hidden_sheet",
            s,
            True,
            (f"{YEAR}/{s}/DanhSachPhong.xlsx",),
            "hidden_sheet",
            "sheets",
            ("NamCu", "very hidden"),
        )
    )

    s = next(schools)  # cached formula errors
    _formula_errors(y / s / "PhongMay.xlsx")
    out.append(
        Plant(
            "cached_formula_errors",
            s,
            False,
            (f"{YEAR}/{s}/PhongMay.xlsx",),
            "bad_number",
            "rows",
            ("PhongMay.xlsx", "#DIV/0!"),
            rows_kept=2,
        )
    )

    s = next(schools)  # a CSV still being written (modified inside the settle window)
    _csv(y / s / "PhongHoc_dang_ghi.csv", ("\r\n".join(_room_lines("DG")) + "\r\n").encode())
    out.append(
        Plant(
            "csv_being_written",
            s,
            True,
            (f"{YEAR}/{s}/PhongHoc_dang_ghi.csv",),
            "deferred",
            "deferred",
            ("PhongHoc_dang_ghi.csv", "Tệp đang được ghi, chưa đọc"),
        )
    )

    s = next(schools)  # a CSV whose last line is cut
    lines = _room_lines("CT")
    _csv(y / s / "PhongHoc_cat.csv", ("\r\n".join(lines) + "\r\n6,CT6,Phòng C").encode())
    out.append(
        Plant(
            "csv_last_line_cut",
            s,
            False,
            (f"{YEAR}/{s}/PhongHoc_cat.csv",),
            "truncated_row",
            "rows",
            ("PhongHoc_cat.csv", "bị cắt dở"),
            rows_kept=5,
        )
    )

    s = next(schools)  # CR-only and mixed line ends: every row must load
    cr, mixed = _room_lines("CR"), _room_lines("MX")
    _csv(y / s / "PhongHoc_cr.csv", "\r".join(cr).encode() + b"\r")
    _csv(
        y / s / "PhongHoc_tron.csv",
        (mixed[0] + "\r\n" + mixed[1] + "\r" + mixed[2] + "\n" + "\r\n".join(mixed[3:]) + "\r").encode(),
    )
    out.append(
        Plant(
            "csv_cr_and_mixed_newlines",
            s,
            False,
            (f"{YEAR}/{s}/PhongHoc_cr.csv", f"{YEAR}/{s}/PhongHoc_tron.csv"),
            "loaded",
            "loaded",
            rows_kept=5,
        )
    )

    s = next(schools)  # a NUL inside a row
    nul = _room_lines("NU", 6)
    nul[3] = "3,NU\x003,Phòng NU3,Phòng học,x,x"
    _csv(y / s / "PhongHoc_nul.csv", ("\r\n".join(nul) + "\r\n").encode())
    out.append(
        Plant(
            "csv_nul_row",
            s,
            False,
            (f"{YEAR}/{s}/PhongHoc_nul.csv",),
            "nul_character",
            "rows",
            ("PhongHoc_nul.csv", "Dòng có ký tự NUL"),
            rows_kept=5,
        )
    )

    s = next(schools)  # a legacy 8-bit Vietnamese encoding
    _csv(y / s / "PhongHoc_cp1258.csv", cp1258("\r\n".join(_room_lines("LE")) + "\r\n"))
    out.append(
        Plant(
            "csv_legacy_encoding",
            s,
            True,
            (f"{YEAR}/{s}/PhongHoc_cp1258.csv",),
            "bad_encoding",
            "manifest",
            ("PhongHoc_cp1258.csv", "Windows-1258", "CSV UTF-8"),
        )
    )

    s = next(schools)  # the registry lists the school's code twice (another level): the previous entry stays
    _registry_twin(y / "province" / "DanhSachTruong.xlsx", s)
    out.append(
        Plant(
            "registry_duplicate_code",
            s,
            True,
            (f"{YEAR}/province/DanhSachTruong.xlsx",),
            "duplicate_school_code",
            "rows",
            ("DanhSachTruong.xlsx", "Mã trường xuất hiện nhiều lần"),
            rows_kept=len(province.schools) - 1,
        )
    )

    s = next(schools)  # a JSON push over the size cap
    _big_push(y / s / f"dti_push_users_{s}_02.json", s)
    out.append(
        Plant(
            "json_too_large",
            s,
            True,
            (f"{YEAR}/{s}/dti_push_users_{s}_02.json",),
            "file_too_large",
            "manifest",
            (f"dti_push_users_{s}_02.json", "tệp JSON"),
        )
    )

    s = next(schools)  # a JSON nested 100,000 deep
    (y / s / f"dti_push_users_{s}_03.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    out.append(
        Plant(
            "json_too_deep",
            s,
            True,
            (f"{YEAR}/{s}/dti_push_users_{s}_03.json",),
            "unreadable_file",
            "manifest",
            (f"dti_push_users_{s}_03.json", "Không đọc được tệp"),
        )
    )

    if permissions:
        s = next(schools)  # a file the pipeline's account may not read
        write_rooms(y / s / "PhongHoc_khoa.xlsx", s, extra)
        (y / s / "PhongHoc_khoa.xlsx").chmod(0)
        out.append(
            Plant(
                "file_permission_denied",
                s,
                True,
                (f"{YEAR}/{s}/PhongHoc_khoa.xlsx",),
                "permission_denied",
                "manifest",
                ("PhongHoc_khoa.xlsx", "Máy chủ không có quyền đọc tệp"),
            )
        )
        s = next(
            schools
        )  # a school folder the pipeline's account may not list (its data of the clean run stays)
        (y / s).chmod(0)
        out.append(
            Plant(
                "folder_permission_denied",
                s,
                True,
                (f"{YEAR}/{s}/",),
                "unreadable_folder",
                "manifest",
                (f"{YEAR}/{s}/", "Máy chủ không có quyền mở thư mục nộp"),
            )
        )

    title = "TRƯỜNG THCS KHÔNG CÓ THẬT"  # a province-folder file naming a school the registry does not hold
    write_titled_rooms(y / "province" / "PhongHoc_truong_la.xlsx", title, extra)
    out.append(
        Plant(
            "school_name_matched_nothing",
            None,
            True,
            (f"{YEAR}/province/PhongHoc_truong_la.xlsx",),
            "school_unresolved",
            "manifest",
            ("PhongHoc_truong_la.xlsx", "không khớp trường nào"),
        )
    )
    assert other not in {p.school for p in out}, "the school a misplaced export names must not be targeted"
    return out


def restore_permissions(inbox: Path) -> None:
    """Undo the permission classes (so that the temporary folder can be removed): top-down, a folder is
    made readable before the walk enters it."""
    for dirpath, dirnames, filenames in os.walk(inbox):
        for d in dirnames:
            Path(dirpath, d).chmod(0o755)
        for f in filenames:
            if not Path(dirpath, f).is_symlink():
                Path(dirpath, f).chmod(0o644)


def age_files(inbox: Path, keep_new: set[Path], seconds: float = 3600) -> None:
    """Every file of the inbox modified `seconds` ago (long finished), but those of `keep_new`."""
    t = time.time() - seconds
    for dirpath, _, filenames in os.walk(inbox):
        for f in filenames:
            p = Path(dirpath, f)
            if p not in keep_new and os.access(p, os.R_OK):
                os.utime(p, (t, t))


# ----------------------------------------------------------------------------------------------- runs
@dataclass
class Runs:
    """The clean and hostile runs: their folders, outcomes, times and the hostile run's peak memory."""

    province: Province
    plants: list[Plant]
    clean_out: Path
    hostile_out: Path
    hostile_db: Path
    hostile_rc: int
    hostile_stderr: str
    clean_seconds: float
    hostile_seconds: float
    tree_peak_bytes: int
    skipped_permissions: str | None


def _run(
    inbox: Path, db: Path, out: Path, log: Path, env: dict[str, str], unprivileged: bool, tree: bool = False
) -> tuple[int, str, float, int]:
    """One pipeline run in a child process under the memory limit: (exit code, stderr, seconds, peak
    resident memory of its process tree when `tree`)."""
    import subprocess
    import sys

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.corpus.harness", "run", str(inbox), str(db), str(out), str(log)],
        cwd=harness.REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=harness._unprivileged if unprivileged else harness._limit_memory,
    )
    sampler = harness.TreeMemory(proc.pid) if tree else None
    if sampler:
        sampler.start()
    try:
        _, err = proc.communicate(timeout=harness.RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        err = f"timed out after {harness.RUN_TIMEOUT_SECONDS} s\n{err}"
    peak = sampler.stop() if sampler else 0
    return proc.returncode, err, time.perf_counter() - t0, peak


API_KEY = "redteam-key-0123456789"
API_DEADLINE_SECONDS = 2.0


def api_server(script: Callable[..., None]) -> tuple[ThreadingHTTPServer, str]:
    """An LMS metrics API on 127.0.0.1 answering every request with `script` (the raw server of
    tests/integration/test_http_client_limits.py). Returns the server and its base URL."""
    from tests.integration.test_http_client_limits import Served, _RawHandler, _RawServer

    srv = _RawServer(("127.0.0.1", 0), _RawHandler)
    srv.script, srv.served = script, Served()  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def stop_server(server: ThreadingHTTPServer) -> None:
    server.served.stop.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def dripping_api() -> tuple[ThreadingHTTPServer, str]:
    """An API that answers a byte every 0.25 s (a valid answer if one waited 10 s for it): only the pull's
    wall-clock deadline stops it."""
    from tests.integration.test_http_client_limits import drip_body

    return api_server(drip_body)


def redirect_elsewhere(h: Any, served: Any) -> None:
    """An API answering `302` to another origin (another port of 127.0.0.1): the client must not follow
    it, so the API key is never sent there."""
    from tests.integration.test_http_client_limits import send

    send(
        h,
        served,
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/v1/metrics\r\nContent-Length: 0\r\n\r\n",
    )


def huge_body(h: Any, served: Any) -> None:
    """An API streaming a 256 MiB JSON answer, chunked (no announced length to refuse it by)."""
    from tests.integration.test_http_client_limits import huge_chunked

    huge_chunked(256 * 2**20)(h, served)


@dataclass
class Clean:
    """The clean run: the folder holding its warehouse (`clean/`) and outputs (`clean_out/`)."""

    root: Path
    province: Province
    seconds: float


def run_clean(root: Path) -> Clean:
    """Generate the province and run it clean on a fresh warehouse."""
    province = generate_province(root / "inbox")
    rc, err, clean_s, _ = _run(
        province.inbox,
        root / "clean" / "w.duckdb",
        root / "clean_out",
        root / "clean.log",
        harness.child_env(),
        unprivileged=False,
    )
    assert rc == 0, f"the clean run failed:\n{err[-5000:]}"
    return Clean(root, province, clean_s)


@dataclass
class ApiRun:
    """A run whose only change from the clean one is an LMS API at a hostile server."""

    out: Path
    db: Path
    rc: int
    stderr: str


def run_api_class(clean: Clean, name: str, script: Callable[..., None], **settings: str) -> ApiRun:
    """The clean run's next run (on a copy of its warehouse, the inbox unchanged, forced) with the LMS
    API at a server answering with `script`; `settings`: extra `CDS_*` settings."""
    root = clean.root
    shutil.copytree(root / "clean", root / f"api_{name}")
    env = {k: v for k, v in harness.child_env().items() if "proxy" not in k.lower()}
    server, base = api_server(script)
    env.update(
        {"CDS_API_BASE_URL": base, "CDS_API_KEY": API_KEY, "NO_PROXY": "127.0.0.1,localhost", **settings}
    )
    try:
        rc, err, _s, _peak = _run(
            clean.province.inbox,
            root / f"api_{name}" / "w.duckdb",
            root / f"api_{name}_out",
            root / f"api_{name}.log",
            env,
            unprivileged=False,
        )
    finally:
        stop_server(server)
    return ApiRun(root / f"api_{name}_out", root / f"api_{name}" / "w.duckdb", rc, err)


def run_both(clean: Clean) -> Runs:
    """After the clean run: copy its warehouse (and lake), plant every class into a copy of its inbox and
    run again on the copy, with a settle window and file permissions obeyed."""
    root, province, clean_s = clean.root, clean.province, clean.seconds
    env = harness.child_env()
    shutil.copytree(root / "clean", root / "hostile")
    hostile_inbox = root / "hostile_inbox"
    shutil.copytree(province.inbox, hostile_inbox, symlinks=True)
    skipped = harness.permissions_apply()
    plants = plant(province, hostile_inbox, permissions=skipped is None)
    written = {hostile_inbox / f for p in plants if p.where == "deferred" for f in p.files}
    age_files(hostile_inbox, written)
    server, base = dripping_api()
    plants.append(
        Plant(
            "api_dripping_server",
            None,
            True,
            (),
            "pull_deadline",
            "api",
            ("Nguồn API số liệu LMS", "CDS_API_PULL_DEADLINE_SECONDS"),
        )
    )
    hostile_env = {k: v for k, v in env.items() if "proxy" not in k.lower()}
    hostile_env.update(
        {
            "CDS_INGEST_SETTLE_SECONDS": str(SETTLE_SECONDS),
            "CDS_API_BASE_URL": base,
            "CDS_API_KEY": API_KEY,
            "CDS_API_PULL_DEADLINE_SECONDS": str(API_DEADLINE_SECONDS),
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    try:
        rc, err, hostile_s, peak = _run(
            hostile_inbox,
            root / "hostile" / "w.duckdb",
            root / "hostile_out",
            root / "hostile.log",
            hostile_env,
            unprivileged=True,
            tree=True,
        )
    finally:
        restore_permissions(hostile_inbox)
        stop_server(server)
    return Runs(
        province,
        plants,
        root / "clean_out",
        root / "hostile_out",
        root / "hostile" / "w.duckdb",
        rc,
        err,
        clean_s,
        hostile_s,
        peak,
        skipped,
    )


# -------------------------------------------------------------------------------------------- outputs
RANK_COLUMNS = ("Xếp hạng toàn tỉnh", "Xếp hạng trong đơn vị quản lý", "Ghi chú xếp hạng")


def _csv_rows(path: Path, key: str = "school_code") -> dict[str, list[tuple]]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    out: dict[str, list[tuple]] = {}
    for row in frame.itertuples(index=False):
        out.setdefault(str(getattr(row, key)), []).append(tuple(row))
    return {k: sorted(v) for k, v in out.items()}


def _thi_dua_rows(path: Path) -> dict[str, list[tuple]]:
    ws = openpyxl.load_workbook(path, read_only=True)[f"Thi đua {YEAR}"]
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    keep = [i for i, h in enumerate(head) if h not in RANK_COLUMNS]
    code = head.index("Mã trường")
    return {str(r[code]): [tuple(r[i] for i in keep)] for r in rows[1:] if r[code]}


def _pack(path: Path) -> object:
    """A school's feedback pack: the HTML text and every cell of the workbook."""
    html = (
        path.with_suffix(".html").read_text(encoding="utf-8") if path.with_suffix(".html").exists() else None
    )
    book = None
    if path.with_suffix(".xlsx").exists():
        wb = openpyxl.load_workbook(path.with_suffix(".xlsx"), read_only=True)
        book = {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    return html, book


SCORING = ("indicator_values", "school_scores", "findings", "thi_dua")
ALL_OUTPUTS = (*SCORING, "season_status", "pack")


def school_outputs(out: Path) -> dict[str, dict[str, object]]:
    """Per output, per school code: what the run wrote of that school (see test_redteam.py)."""
    got: dict[str, dict[str, object]] = {
        "indicator_values": _csv_rows(out / f"indicator_values_{YEAR}.csv"),
        "school_scores": _csv_rows(out / f"school_scores_{YEAR}.csv"),
        "findings": _csv_rows(out / f"findings_{YEAR}.csv"),
        "thi_dua": _thi_dua_rows(out / f"thi_dua_{YEAR}.xlsx"),
        "season_status": _csv_rows(out / f"season_status_{YEAR}.csv"),
    }
    packs = out / "schools" / YEAR
    got["pack"] = {p.stem: _pack(p) for p in sorted(packs.glob("*.html"))}
    return got
