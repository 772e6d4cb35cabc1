"""Layout builders: one function per reference layout of docs/exports.md §3, turning plan records into
`Book`s.

Builders only describe content (title block T, headers with synonyms, rows, footer F, planted bad rows);
rendering and quirks live in `sheets.py`, file writing in `writers.py`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from .presets import LEVEL_NAMES, Preset, School
from .sheets import Block, Book, C, Col, Sheet


@dataclass
class Ctx:
    preset: Preset
    year: str
    quirks: frozenset[str]
    rng: random.Random

    @property
    def start(self) -> int:
        return int(self.year[:4])


def title_block(ctx: Ctx, left2: str, title: str, param: str | list[str], ncols: int) -> list[list[Any]]:
    """Standard title block T (r1–r6); `param` may hold two parameter lines."""
    right = max(4, ncols - 4)
    r1: list[Any] = (
        [f"SỞ GIÁO DỤC VÀ ĐÀO TẠO {ctx.preset.province_name}"]
        + [None] * (right - 1)
        + ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    )
    r2: list[Any] = [left2.upper()] + [None] * (right - 1) + ["Độc lập - Tự do - Hạnh phúc"]
    params = [param] if isinstance(param, str) else param
    return [r1, r2, [], [title], *[[p] for p in params], []]


def footer_block(
    ctx: Ctx, n: int, ncols: int, signer: str = "HIỆU TRƯỞNG", day: date | None = None
) -> list[list[Any]]:
    """Standard footer F."""
    d = day or date(ctx.start + 1, 5, 25)
    right = max(3, ncols - 3)
    place = "Tuyên Quang" if ctx.preset.name == "small" else ctx.preset.province_name.title()
    return [
        [],
        [f"Tổng số: {n}"],
        [None] * right + [f"{place}, ngày {d.day} tháng {d.month} năm {d.year}"],
        ["NGƯỜI LẬP BIỂU"] + [None] * (right - 1) + [signer],
        [],
        [],
        [],
        ["Nguyễn Văn Lập"] + [None] * (right - 1) + ["Trần Thị Ký"],
    ]


def plant(block: Block, rng: random.Random, bad_rows: list[tuple[list[Any], str]]) -> None:
    """Insert planted bad rows at random positions (tags carry the reason code)."""
    if not block.tags:
        block.tags = [None] * len(block.rows)
    for row, reason in bad_rows:
        pos = rng.randint(0, len(block.rows))
        block.rows.insert(pos, row)
        block.tags.insert(pos, reason)


def n_bad(n_rows: int) -> int:
    """≈1 % of rows, at least 1."""
    return max(1, round(n_rows * 0.01))


def yes(b: bool) -> str | None:
    return "x" if b else None


def renumber(block: Block, stt_col: int = 0) -> None:
    """Rewrite STT after planting."""
    for k, row in enumerate(block.rows, 1):
        row[stt_col] = k


# ---------------------------------------------------------------------------------------------- 3.1
REGISTRY_COLS = [
    C("STT", "int"),
    C("Mã trường", "id", ("Mã đơn vị", "Mã CSGD")),
    C("Tên trường", syn=("Tên đơn vị",)),
    C("Cấp học", syn=("Cấp",)),
    C("Loại hình"),
    C("Mã tỉnh", "id"),
    C("Mã xã", "id", ("Mã xã/phường",)),
    C("Tên xã/phường"),
    C("Đơn vị quản lý", syn=("Cơ quan quản lý",)),
    C("Số điểm trường", "int"),
    C("Vùng khó khăn", "flag"),
    C("Kết nối Internet", "flag"),
    C("Phần mềm quản lý"),
]
PLATFORM_LABEL = {"vnedu": "vnEdu", "smas": "SMAS", "misa": "MISA EMIS"}


def registry(ctx: Ctx, schools: list[School], relpath: str) -> Book:
    """csdl.school.v1: one row per school, province folder."""
    rows = [
        [
            k,
            s.code,
            s.name,
            LEVEL_NAMES[s.level],
            s.ownership,
            s.province_code,
            s.commune_code,
            s.commune_name,
            s.managing_unit,
            s.n_sites,
            yes(s.disadvantaged),
            yes(s.has_internet),
            PLATFORM_LABEL[s.platform],
        ]
        for k, s in enumerate(schools, 1)
    ]
    b = Block(
        REGISTRY_COLS,
        rows,
        title_block(
            ctx, "", "DANH SÁCH CƠ SỞ GIÁO DỤC PHỔ THÔNG", f"Năm học: {ctx.year}", len(REGISTRY_COLS)
        ),
        footer_block(ctx, len(rows), len(REGISTRY_COLS), "GIÁM ĐỐC"),
        merge_title_row=3,
    )
    b.title[1][0] = f"UBND TỈNH {ctx.preset.province_name}"
    b.title[0][0] = f"SỞ GIÁO DỤC VÀ ĐÀO TẠO {ctx.preset.province_name}"
    if "bad_rows" in ctx.quirks:
        s = schools[0]
        plant(
            b,
            ctx.rng,
            [
                (
                    [
                        0,
                        "2,50366E+09",
                        s.name + " (trùng)",
                        LEVEL_NAMES[s.level],
                        "Công lập",
                        s.province_code,
                        s.commune_code,
                        s.commune_name,
                        s.managing_unit,
                        1,
                        None,
                        "x",
                        "vnEdu",
                    ],
                    "bad_id_format",
                )
            ],
        )
        renumber(b)
    return Book(relpath, "xlsx", [Sheet("DanhSachTruong", [b])], ctx.quirks)


# ---------------------------------------------------------------------------------------------- 3.11
ROOM_COLS = [
    C("STT", "int"),
    C("Mã phòng", "id"),
    C("Tên phòng"),
    C("Loại phòng"),
    C("Điểm trường"),
    C("Cấp công trình"),
    C("Diện tích (m²)", "num"),
    C("Máy chiếu/Ti vi", "flag", ("Máy chiếu/TV", "Thiết bị trình chiếu")),
    C("Kết nối Internet", "flag", ("Internet",)),
    C("Số máy tính", "int"),
    C("Số máy tính hoạt động", "int", ("Số máy tính sử dụng được",)),
]


def rooms(ctx: Ctx, plan: Any, relpath: str) -> Book:
    """csdl.rooms.v1."""
    sch = plan.school
    rows = [
        [
            k,
            r.code,
            r.name,
            r.rtype,
            r.site,
            r.build,
            r.area,
            yes(r.projector),
            yes(r.internet),
            r.computers or (0 if r.rtype == "Phòng Tin học" else None),
            r.working or (0 if r.rtype == "Phòng Tin học" else None),
        ]
        for k, r in enumerate(plan.rooms, 1)
    ]
    b = Block(
        ROOM_COLS,
        rows,
        title_block(
            ctx, sch.name, "DANH SÁCH PHÒNG HỌC, PHÒNG CHỨC NĂNG", f"Năm học: {ctx.year}", len(ROOM_COLS)
        ),
        footer_block(ctx, len(rows), len(ROOM_COLS)),
        merge_title_row=3,
    )
    if "bad_rows" in ctx.quirks:
        bad = [
            (
                [
                    0,
                    f"PX{j + 1:02d}",
                    "Phòng Tin học phụ",
                    "Phòng Tin học",
                    plan.rooms[0].site,
                    "Kiên cố",
                    40.0,
                    "x",
                    "x",
                    10,
                    25,
                ],
                "out_of_range",
            )
            for j in range(n_bad(len(rows)))
        ]
        plant(b, ctx.rng, bad)
        renumber(b)
    return Book(relpath, "xlsx", [Sheet("DanhSachPhong", [b])], ctx.quirks)


def code_sheet(name: str = "DM_DanToc") -> Sheet:
    """A code-list sheet (ignored by connectors: no signature)."""
    rows = [[k, v] for k, v in enumerate(("Kinh", "Tày", "Thái", "Mường", "H'Mông", "Dao", "Nùng"), 1)]
    return Sheet(name, [Block([C("Mã"), C("Tên dân tộc")], rows)], shuffle_ok=False)


_unused = Col
