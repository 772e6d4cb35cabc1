"""Generate the hostile-input corpus: files a school (or an attacker) could drop into the inbox that must
each end in a clear outcome (docs/exports.md §1.6) without stopping, hanging or bloating the run.

Everything is generated (openpyxl, xlsxwriter, zipfile, a tiny compound-file writer); nothing is a
hand-made binary. `build_corpus(inbox)` writes the cases into `<inbox>/<YEAR>/<CORPUS_SCHOOL>/…` (plus
the odd symlink, FIFO and folder elsewhere) and returns the `Case` list with each case's accepted
outcomes. Run as a script to write a corpus into a folder for manual inspection:

    python -m tests.corpus.make_corpus DIR   (any scratch folder)
"""

from __future__ import annotations

import csv
import io
import os
import struct
import sys
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

YEAR = "2024-2025"
CORPUS_SCHOOL = "08000003"  # in the sample registry, and no good file of the test inbox uses it
LOADED = frozenset({"loaded"})
LOADED_ANY = frozenset({"loaded", "partly_loaded"})
UNREADABLE = frozenset({"unreadable_file"})
ABSENT = "absent"  # the file is (rightly) not an inbox file at all: no manifest row

Row = list[Any]
_DRY = False  # set by `case_list()`: describe the cases without writing anything


@dataclass(frozen=True)
class Case:
    """One hostile input: where it lands (relative to the inbox) and the outcomes accepted for it.

    An outcome is the manifest status for loaded files (`loaded`, `partly_loaded`) or the reason code
    for quarantined ones; `ABSENT` means the walker must not list it. `row_reasons` are row-reject
    reason codes that must appear for the file (for partly loaded inputs)."""

    name: str
    rel: str
    expect: frozenset[str]
    row_reasons: frozenset[str] = frozenset()
    note: str = ""


# ---------------------------------------------------------------------------------------------- rows
def title(kind: str) -> list[Row]:
    return [
        ["SỞ GIÁO DỤC VÀ ĐÀO TẠO TUYÊN QUANG", None, None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
        ["TRƯỜNG THPT SƠN PHÚ", None, None, None, "Độc lập - Tự do - Hạnh phúc"],
        [],
        [kind],
        [f"Năm học: {YEAR}"],
        [],
    ]


ROOM_HEAD = [
    "STT",
    "Mã phòng",
    "Tên phòng",
    "Loại phòng",
    "Diện tích (m²)",
    "Máy chiếu/TV",
    "Kết nối Internet",
]
STUDENT_HEAD = [
    "STT",
    "MÃ\nHỌC SINH",
    "MÃ ĐỊNH DANH BỘ GD&ĐT",
    "HỌ VÀ TÊN",
    "NGÀY SINH",
    "GIỚI TÍNH",
    "LỚP",
    "DÂN TỘC",
    "TRẠNG THÁI",
    "SỐ ĐIỆN THOẠI LIÊN HỆ",
]

#: The corpus' own people: names, birth dates and phones that must never reach an output or a log.
CORPUS_PEOPLE = [
    (
        f"03{i:08d}",
        f"08000039{i:02d}",
        f"Phạm Thử Nghiệm Số {i}",
        f"{(i % 27) + 1:02d}/0{(i % 9) + 1}/2008",
        f"09{i:08d}",
    )
    for i in range(1, 13)
]


def rooms(n: int = 10, prefix: str = "C") -> list[Row]:
    return [[i, f"{prefix}{i:03d}", f"Phòng học {i}", "Phòng học", "54,5", "x", "x"] for i in range(1, n + 1)]


def room_file(n: int = 10, prefix: str = "C") -> list[Row]:
    return [
        *title("DANH SÁCH PHÒNG HỌC, PHÒNG CHỨC NĂNG"),
        ROOM_HEAD,
        *rooms(n, prefix),
        [],
        [f"Tổng số: {n}"],
    ]


def students(dates: list[Any] | None = None) -> list[Row]:
    out = []
    for i, (code, moet, name, dob, phone) in enumerate(CORPUS_PEOPLE, 1):
        d = dates[i - 1] if dates and i <= len(dates) else dob
        out.append([i, code, moet, name, d, "Nam" if i % 2 else "Nữ", "10A1", "Kinh", "Đang học", phone])
    return out


def student_file(dates: list[Any] | None = None) -> list[Row]:
    return [*title("DANH SÁCH HỌC SINH LỚP 10A1"), STUDENT_HEAD, *students(dates)]


# ------------------------------------------------------------------------------------------- writers
def write_xlsx(path: Path, sheets: dict[str, list[Row]]) -> Path:
    """openpyxl workbook (formulas stay formulas: openpyxl writes no cached values)."""
    import openpyxl

    if _DRY:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is not None and v != "":
                    ws.cell(row=r, column=c, value=v)
    wb.save(path)
    return path


def xlsx_bytes(sheets: dict[str, list[Row]]) -> bytes:
    """xlsxwriter workbook in memory (fast; numbers stay numbers, text stays text)."""
    import xlsxwriter

    if _DRY:
        return b""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False}
    )
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, bool) or v is None or v == "":
                    continue
                if isinstance(v, int | float):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, str(v))
    wb.close()
    return buf.getvalue()


def write_csv(path: Path, rows: list[Row], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    if _DRY:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    text = buf.getvalue()
    if encoding == "cp1258":  # Windows-1258 writes Vietnamese as base letter + combining tone mark
        text = unicodedata.normalize("NFD", text)
    path.write_bytes(text.encode(encoding, errors="replace"))
    return path


def rezip(
    data: bytes, edit: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None = None
) -> bytes:
    """Copy an OOXML zip, rewriting (or dropping, when `edit` returns None) members and adding `extra`."""
    if _DRY:
        return b""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = edit(info.filename, src.read(info.filename))
            if body is not None:
                dst.writestr(info.filename, body)
        for name, body in (extra or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal compound file (CFB v3, 512-byte sectors) holding `streams` at the root, each padded to
    ≥ 4096 bytes so that no mini stream is needed. Enough for an encrypted-OOXML look-alike."""
    sec = 512
    end, free, fatsect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    bodies = [(n, b.ljust(max(4096, -(-len(b) // sec) * sec), b"\0")) for n, b in streams.items()]
    fat = [fatsect, end]  # sector 0 = FAT, sector 1 = directory
    starts = []
    for _, body in bodies:
        n = len(body) // sec
        starts.append(len(fat))
        fat += [len(fat) + k + 1 for k in range(n - 1)] + [end]
    assert len(fat) <= sec // 4
    fat += [free] * (sec // 4 - len(fat))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(raw), kind, 1, left, right, child)
            + b"\0" * 16
            + b"\0" * 4
            + b"\0" * 16
            + struct.pack("<IQ", start, size)
        )

    names = sorted(range(len(bodies)), key=lambda i: (len(bodies[i][0]), bodies[i][0].upper()))
    dirs = [entry("Root Entry", 5, nostream, nostream, 1 if bodies else nostream, end, 0)]
    for pos, i in enumerate(names):  # a right-leaning chain is a valid (degenerate) red-black tree
        right = pos + 2 if pos + 1 < len(names) else nostream
        dirs.append(entry(bodies[i][0], 2, nostream, right, nostream, starts[i], len(streams[bodies[i][0]])))
    dirs += [b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, nostream, nostream, nostream) + b"\0" * 48]
    directory = b"".join(dirs)[:sec].ljust(sec, b"\0")
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", free) * 108
    )
    assert len(header) == sec
    return header + struct.pack(f"<{sec // 4}I", *fat) + directory + b"".join(b for _, b in bodies)


def zip_bomb(inflated_mb: int, lie: bool = False) -> bytes:
    """A one-member zip whose member inflates to `inflated_mb` MiB of zeros, built from one fully
    flushed 1 MiB deflate block repeated (fast to make). With `lie`, the central directory and local
    header claim 10 kB: only a streaming reader finds out."""
    if _DRY:
        return b""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    data = block * inflated_mb + comp.flush()
    crc = 0
    for _ in range(inflated_mb):
        crc = zlib.crc32(chunk, crc)
    size = 10_000 if lie else inflated_mb << 20
    name = b"xl/worksheets/sheet1.xml"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0) + name
    central = (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            crc,
            len(data),
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + name
    )
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + eocd


def styled_million_rows(base: bytes, dimension: bool, styled_cell: bool) -> bytes:
    """A good room list whose sheet declares A1:XFD1048576 and/or carries a formatted empty cell on the
    last Excel row (Excel users format whole columns; calamine must not allocate a million rows)."""

    def edit(name: str, body: bytes) -> bytes:
        if not name.startswith("xl/worksheets/sheet"):
            return body
        text = body.decode("utf-8")
        if dimension:
            import re

            text = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', text)
        if styled_cell:
            text = text.replace("</sheetData>", '<row r="1048576"><c r="Z1048576" s="1"/></row></sheetData>')
        return text.encode("utf-8")

    return rezip(base, edit)


# --------------------------------------------------------------------------------------------- cases
def build_corpus(inbox: Path, outside: Path) -> list[Case]:
    """Write every hostile input into `inbox` (and link targets into `outside`, a folder beside it)."""
    school = inbox / YEAR / CORPUS_SCHOOL
    if not _DRY:
        school.mkdir(parents=True, exist_ok=True)
        outside.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def link(at: Path, target: Path | str, is_dir: bool = False) -> None:
        if not _DRY:
            at.symlink_to(target, target_is_directory=is_dir)

    def fifo(at: Path) -> None:
        if not _DRY:
            at.parent.mkdir(parents=True, exist_ok=True)
            os.mkfifo(at)

    def add(
        name: str,
        rel: str,
        expect: frozenset[str] | set[str],
        data: bytes | None = None,
        rows: list[Row] | None = None,
        note: str = "",
        row_reasons: frozenset[str] = frozenset(),
    ) -> Path:
        path = inbox / rel
        if data is not None and not _DRY:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        cases.append(Case(name, rel, frozenset(expect), row_reasons, note))
        return path

    s = f"{YEAR}/{CORPUS_SCHOOL}"
    good = xlsx_bytes({"DanhSachPhong": room_file()})

    # --- empty, truncated, mislabelled -------------------------------------------------------------
    add("zero_byte_xlsx", f"{s}/rong.xlsx", {"empty_file"}, b"")
    add("zero_byte_csv", f"{s}/rong.csv", {"empty_file"}, b"")
    add("bom_only_csv", f"{s}/chi_bom.csv", {"empty_file"}, b"\xef\xbb\xbf")
    add("truncated_xlsx", f"{s}/cat_ngang.xlsx", UNREADABLE, good[: len(good) // 2])
    add(
        "truncated_xls",
        f"{s}/cat_ngang.xls",
        UNREADABLE,
        (
            Path(__file__).resolve().parents[2] / "sample_exports/inbox" / YEAR / "08000001/DS_Lop.xls"
        ).read_bytes()[:1500],
    )
    add(
        "text_renamed_xlsx",
        f"{s}/van_ban.xlsx",
        UNREADABLE,
        "Đây là tệp văn bản, không phải Excel\n".encode() * 20,
    )
    add(
        "html_renamed_xls",
        f"{s}/bang_html.xls",
        UNREADABLE | {"unrecognized_layout"},
        "<html><body><table><tr><td>Mã phòng</td></tr></table></body></html>".encode(),
    )
    add("xlsx_renamed_xls", f"{s}/xlsx_doi_ten.xls", LOADED | UNREADABLE, good, note="content decides")
    add("random_bytes_xlsx", f"{s}/ngau_nhien.xlsx", UNREADABLE, bytes((i * 7919) % 251 for i in range(5000)))
    add("zip_without_workbook", f"{s}/zip_rong.xlsx", UNREADABLE, rezip(good, lambda n, b: None))
    for ext in (".exe", ".zip", ".ods", ".pdf", ""):
        add(f"unsupported{ext or '_noext'}", f"{s}/tep_khac{ext}", {"unsupported_type"}, b"MZ\x90\x00" * 10)

    # --- encrypted, macros -------------------------------------------------------------------------
    info = (
        b"\x04\x00\x04\x00\x40\x00\x00\x00"
        + b'<?xml version="1.0"?><encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>'
    )
    add(
        "encrypted_ooxml",
        f"{s}/mat_khau.xlsx",
        UNREADABLE,
        cfb({"EncryptionInfo": info, "EncryptedPackage": struct.pack("<Q", 5000) + os.urandom(5000)}),
        note="password-protected workbook (CFB with EncryptionInfo)",
    )
    add("cfb_renamed_xlsx", f"{s}/cfb_khong_ma.xlsx", UNREADABLE, cfb({"Workbook": b"\x09\x08" * 100}))
    vba = cfb({"VBA": b'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\nShell "calc"\r\nEnd Sub\r\n'})
    add(
        "macro_xlsm",
        f"{s}/co_macro.xlsm",
        {"unsupported_type"},
        rezip(good, lambda n, b: b, {"xl/vbaProject.bin": vba}),
    )
    add(
        "macro_in_xlsx",
        f"{s}/macro_gia.xlsx",
        {"unsupported_type"},
        rezip(good, lambda n, b: b, {"xl/vbaProject.bin": vba}),
    )

    # --- bombs and huge shapes ---------------------------------------------------------------------
    add("zip_bomb", f"{s}/bom_nen.xlsx", {"file_too_large"}, zip_bomb(3000))
    add(
        "zip_bomb_lying_sizes",
        f"{s}/bom_noi_doi.xlsx",
        UNREADABLE | {"file_too_large"},
        zip_bomb(3000, lie=True),
    )
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w", zipfile.ZIP_STORED) as z:
        for i in range(20_000):
            z.writestr(f"xl/x/{i}.xml", b"")
    add("zip_20k_members", f"{s}/nhieu_muc.xlsx", UNREADABLE | {"file_too_large"}, many.getvalue())
    add("dimension_million", f"{s}/kich_thuoc_lon.xlsx", LOADED, styled_million_rows(good, True, False))
    add("styled_row_1048576", f"{s}/dong_cuoi_dinh_dang.xlsx", LOADED, styled_million_rows(good, True, True))
    wide = [
        *title("DANH SÁCH PHÒNG HỌC"),
        ROOM_HEAD + [f"Cột {i}" for i in range(16_000)],
        *[r + ["x"] * 16_000 for r in rooms(3)],
    ]
    add(
        "columns_16k_xlsx", f"{s}/rat_nhieu_cot.xlsx", {"file_too_large"}, xlsx_bytes({"DanhSachPhong": wide})
    )
    write_csv(school / "rat_nhieu_cot.csv", [ROOM_HEAD + [f"c{i}" for i in range(100_000)], *rooms(2)])
    add("columns_100k_csv", f"{s}/rat_nhieu_cot.csv", {"file_too_large"})
    add(
        "sheets_300",
        f"{s}/nhieu_trang.xlsx",
        LOADED,
        xlsx_bytes(
            {"DanhSachPhong": room_file(), **{f"DM_{i}": [["MÃ", "TÊN"], [i, "x"]] for i in range(300)}}
        ),
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        + "".join(f'<!ENTITY lol{k} "{("&lol" + str(k - 1) + ";") * 10}">' for k in range(3, 10))
        + ']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        'uniqueCount="1">'
        "<si><t>&lol9;</t></si></sst>"
    )
    add(
        "billion_laughs",
        f"{s}/xml_thuc_the.xlsx",
        UNREADABLE | LOADED_ANY | {"unrecognized_layout"},
        rezip(good, lambda n, b: laughs.encode() if n == "xl/sharedStrings.xml" else b),
    )

    # --- headers -----------------------------------------------------------------------------------
    add(
        "header_only_xlsx",
        f"{s}/chi_tieu_de.xlsx",
        {"empty_file"},
        xlsx_bytes({"P": [*title("DS PHÒNG"), ROOM_HEAD]}),
    )
    write_csv(school / "chi_tieu_de.csv", [ROOM_HEAD])
    add("header_only_csv", f"{s}/chi_tieu_de.csv", {"empty_file"})
    add(
        "title_only",
        f"{s}/chi_dong_tieu_de.xlsx",
        {"unrecognized_layout"},
        xlsx_bytes({"P": title("DS PHÒNG")}),
    )
    dup = [*title("DS PHÒNG"), [*ROOM_HEAD, "Mã phòng", "Tên phòng"], *[[*r, "Z9", "khác"] for r in rooms()]]
    add(
        "duplicate_headers",
        f"{s}/cot_trung.xlsx",
        LOADED_ANY | {"ambiguous_layout", "unrecognized_layout"},
        xlsx_bytes({"P": dup}),
    )
    blank = [
        *title("DS PHÒNG"),
        [None, *ROOM_HEAD[:3], None, *ROOM_HEAD[3:], None],
        *[[None, *r[:3], None, *r[3:], None] for r in rooms()],
    ]
    add("empty_headers", f"{s}/cot_trong.xlsx", LOADED_ANY, xlsx_bytes({"P": blank}))
    add(
        "tab_separated_csv",
        f"{s}/tab.csv",
        {"unrecognized_layout"},
        "\n".join("\t".join(map(str, r)) for r in [ROOM_HEAD, *rooms()]).encode(),
    )

    # --- values: formulas, dates, numbers, ids ------------------------------------------------------
    formulas = [
        *title("DS PHÒNG"),
        ROOM_HEAD,
        *[
            [i, f'="C"&TEXT({i},"000")', f'=CONCATENATE("Phòng ",{i})', "Phòng học", "=6*9", "x", "x"]
            for i in range(1, 11)
        ],
    ]
    write_xlsx(school / "cong_thuc.xlsx", {"P": formulas})
    add(
        "formulas_without_values",
        f"{s}/cong_thuc.xlsx",
        {"too_many_rejects"},
        row_reasons=frozenset({"missing_key"}),
    )
    odd_dates = [
        "31/02/2008",
        "2008-13-01",
        "00/00/0000",
        "29/02/2007",
        "3/1/08",
        0,
        59,
        1e10,
        -5,
        "ngày 3 tháng 1",
    ]
    dated = student_file([*odd_dates, "15/06/2008", "2008-06-16"])
    add(
        "odd_dates_all",
        f"{s}/ngay_sai.xlsx",
        {"too_many_rejects"},
        xlsx_bytes({"HS": dated}),
        row_reasons=frozenset({"bad_date"}),
    )
    some = student_file(["31/02/2008", 99999, "2099-01-01"])  # 3 of 12 rows odd → partly loaded
    add(
        "odd_dates_some",
        f"{s}/ngay_sai_mot_phan.xlsx",
        {"partly_loaded"},
        xlsx_bytes({"HS": some}),
        row_reasons=frozenset({"bad_date"}),
    )
    nums = [*title("DS PHÒNG"), ROOM_HEAD]
    for i, area in enumerate(
        [
            "1.250,5",
            "1e308",
            "NaN",
            "inf",
            "-0",
            "١٢",
            "５４",
            "10" * 20,
            "12 m²",
            "54,5",
            "54.5",
            "60",
            "45",
            "50",
        ],
        1,
    ):
        nums.append([i, f"N{i:03d}", f"Phòng {i}", "Phòng học", area, "x", "x"])
    add("odd_numbers", f"{s}/so_la.xlsx", LOADED_ANY | {"too_many_rejects"}, xlsx_bytes({"P": nums}))
    ids = student_file()
    for r, bad in zip(ids[-4:], ["2,50366E+09", "08000039xx", "9" * 30, None], strict=True):
        r[2] = bad
    ids[-1][1] = None  # missing key
    add(
        "odd_ids",
        f"{s}/ma_sai.xlsx",
        {"partly_loaded"},
        xlsx_bytes({"HS": ids}),
        row_reasons=frozenset({"missing_key"}),
    )

    # --- text: encodings, NFD, control characters, huge cells ---------------------------------------
    stu = student_file()
    write_csv(
        school / "nfd.csv",
        [[unicodedata.normalize("NFD", v) if isinstance(v, str) else v for v in r] for r in stu],
    )
    add("nfd_csv", f"{s}/nfd.csv", LOADED)
    write_csv(school / "utf16.csv", stu, encoding="utf-16")
    add("utf16_bom_csv", f"{s}/utf16.csv", {"bad_encoding"})
    write_csv(school / "utf16le.csv", stu, encoding="utf-16-le")
    add("utf16le_csv", f"{s}/utf16le.csv", {"bad_encoding"})
    write_csv(school / "cp1258.csv", stu, encoding="cp1258", delimiter=";")
    add("windows_1258_csv", f"{s}/cp1258.csv", {"bad_encoding"})
    mixed = io.StringIO()
    csv.writer(mixed).writerows(stu[:8])
    data = mixed.getvalue().encode("utf-8") + unicodedata.normalize(
        "NFD", "13,0300000013,0800003913,Nguyễn Văn Mười Ba,01/01/2008\r\n"
    ).encode("cp1258", "replace")
    add("mixed_encoding_csv", f"{s}/tron_ma.csv", {"bad_encoding"}, data)
    ctl = student_file()
    ctl[7][3] = "Phạm\x00Thử\x1b[31m\u202eNghiệm\u200b\x7f"
    ctl[8][7] = "Kinh\r\nTày\x0b"
    write_csv(school / "ky_tu_dieu_khien.csv", ctl)
    add("control_chars_csv", f"{s}/ky_tu_dieu_khien.csv", LOADED_ANY)
    ctlx = student_file()
    ctlx[7][3] = "Phạm _x0000_ _x001B_ Thử"  # OOXML escapes of control characters
    add("control_escapes_xlsx", f"{s}/ky_tu_dieu_khien.xlsx", LOADED_ANY, xlsx_bytes({"HS": ctlx}))
    big = room_file()
    big[7][2] = "Phòng " + "rất dài " * 12_500  # 100k characters
    big[8][6] = "x" * 100_000
    add("cell_100k_xlsx", f"{s}/o_rat_dai.xlsx", LOADED_ANY, xlsx_bytes({"P": big}))
    write_csv(school / "o_rat_dai.csv", big)
    add("cell_100k_csv", f"{s}/o_rat_dai.csv", LOADED_ANY)
    huge = room_file()
    huge[7][2] = "y" * 300_000  # beyond the csv module's default field limit
    write_csv(school / "o_qua_dai.csv", huge)
    add("cell_300k_csv", f"{s}/o_qua_dai.csv", LOADED_ANY | UNREADABLE)
    add(
        "unterminated_quote_csv",
        f"{s}/ngoac_kep.csv",
        LOADED_ANY | {"unrecognized_layout", "empty_file", "too_many_rejects"},
        b"STT,M\xc3\xa3 ph\xc3\xb2ng,T\xc3\xaan ph\xc3\xb2ng,Lo\xe1\xba\xa1i "
        b'ph\xc3\xb2ng\r\n1,C001,"Ph\xc3\xb2ng 1,Ph\xc3\xb2ng h\xe1\xbb\x8dc\r\n' * 3,
    )

    # --- JSON --------------------------------------------------------------------------------------
    add(
        "json_deep_nesting",
        f"{s}/long_sau.json",
        UNREADABLE | {"unrecognized_layout", "missing_required_column"},
        b"[" * 100_000 + b"]" * 100_000,
    )
    add("json_invalid", f"{s}/hong.json", UNREADABLE | {"unrecognized_layout"}, b'{"users": [{"user_pin": ')
    add(
        "json_huge_number",
        f"{s}/so_lon.json",
        UNREADABLE | {"unrecognized_layout", "missing_required_column"},
        b'{"users": [{"user_pin": 1e999999, "x": ' + b"9" * 50_000 + b"}]}",
    )

    # --- names and paths ---------------------------------------------------------------------------
    add(
        "dot_dot_name",
        f"{s}/..\\..\\windows\\win.ini.xlsx",
        {ABSENT},
        xlsx_bytes({"P": room_file(3, prefix="W")}),
        note="a name starting with '.' is not an inbox file (§1.2.7)",
    )
    for i, name in enumerate(
        [
            "$(reboot); rm -rf ~.xlsx",
            "<script>alert(1)<\\script>.xlsx",
            '=HYPERLINK("http---x").xlsx',
            "dòng\nmới.xlsx",
            " .xlsx",
            "x" * 240 + ".xlsx",
        ]
    ):
        add(f"odd_name_{i}", f"{s}/{name}", LOADED, xlsx_bytes({"P": room_file(3, prefix=f"T{i}")}))
    deep = "/".join(f"muc{k}" for k in range(60))
    add("deep_nesting", f"{s}/{deep}/phong.xlsx", LOADED, xlsx_bytes({"P": room_file(3, prefix="D")}))

    # --- links and special files -------------------------------------------------------------------
    secret = outside / "bi_mat.csv"
    write_csv(secret, [ROOM_HEAD, *rooms(3, prefix="S")])
    link(school / "lien_ket_ra_ngoai.csv", secret)
    cases.append(Case("symlink_outside", f"{s}/lien_ket_ra_ngoai.csv", frozenset({"unsafe_path"})))
    link(school / "dev_zero.csv", "/dev/zero")
    cases.append(Case("symlink_dev_zero", f"{s}/dev_zero.csv", frozenset({"unsafe_path"})))
    link(school / "dev_urandom.xlsx", "/dev/urandom")
    cases.append(Case("symlink_dev_urandom", f"{s}/dev_urandom.xlsx", frozenset({"unsafe_path"})))
    link(school / "etc_passwd.csv", "../../../../../../../../etc/passwd")
    cases.append(Case("symlink_relative_traversal", f"{s}/etc_passwd.csv", frozenset({"unsafe_path"})))
    private = inbox / YEAR / "_rieng"
    fifo(private / "ong_dan")
    link(school / "fifo.csv", private / "ong_dan")
    cases.append(
        Case("symlink_fifo_inside", f"{s}/fifo.csv", frozenset({"unsafe_path"}), note="must not block")
    )
    fifo(school / "ong_dan_truc_tiep.csv")
    cases.append(Case("fifo_plain", f"{s}/ong_dan_truc_tiep.csv", frozenset({"unsafe_path"})))
    link(school / "vong_a.csv", school / "vong_b.csv")
    link(school / "vong_b.csv", school / "vong_a.csv")
    cases.append(Case("symlink_loop_a", f"{s}/vong_a.csv", UNREADABLE))
    cases.append(Case("symlink_loop_b", f"{s}/vong_b.csv", UNREADABLE))
    link(school / "gay.xlsx", school / "khong_ton_tai.xlsx")
    cases.append(Case("symlink_dangling", f"{s}/gay.xlsx", UNREADABLE))
    write_csv(outside / "thu_muc" / "ngoai.csv", [ROOM_HEAD, *rooms(2, prefix="O")])
    link(school / "thu_muc_ngoai", outside / "thu_muc", is_dir=True)
    cases.append(
        Case("symlink_dir_outside", f"{s}/thu_muc_ngoai/ngoai.csv", frozenset({ABSENT, "unsafe_path"}))
    )
    link(school / "vong_thu_muc", school, is_dir=True)
    cases.append(Case("symlink_dir_loop", f"{s}/vong_thu_muc/rong.csv", frozenset({ABSENT, "unsafe_path"})))
    return cases


def case_list() -> list[Case]:
    """The cases without writing anything (for test parametrisation at collection time)."""
    global _DRY
    _DRY = True
    try:
        return build_corpus(Path("/nonexistent/inbox"), Path("/nonexistent/outside"))
    finally:
        _DRY = False


def build_non_utf8_name(inbox: Path) -> Case:
    """A file whose name is Latin-1 bytes (not UTF-8): kept apart because it currently stops the whole
    ingest (see tests/integration/test_corpus.py::test_non_utf8_file_name)."""
    school = inbox / YEAR / CORPUS_SCHOOL
    school.mkdir(parents=True, exist_ok=True)
    bad_name = os.fsdecode(os.fsencode(str(school)) + b"/t\xeap_c\xf3_d\xe2u.csv")
    Path(bad_name).write_bytes("STT,Mã phòng\r\n1,C001\r\n".encode())
    return Case("non_utf8_name", os.path.relpath(bad_name, inbox), frozenset({"unsafe_path"}))


def main(argv: list[str]) -> None:
    """Write the corpus into argv[1] (an inbox) and list the cases."""
    inbox = Path(argv[1])
    for c in build_corpus(inbox, inbox.parent / (inbox.name + "_outside")):
        print(f"{c.name:28} {sorted(c.expect)}  {c.rel[:80]!r}")


if __name__ == "__main__":
    main(sys.argv)
