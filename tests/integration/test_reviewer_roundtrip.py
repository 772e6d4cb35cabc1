"""The reviewer round trip end to end: a hand-made inbox (registry, rooms, self-assessment) → run →
reviewer workbook → decisions filled in with openpyxl → workbook dropped back into the inbox → run →
the thi đua workbook reflects the valid decisions, the invalid rows are reported and not applied.
The same runs check the outputs: formula injection, HTML escaping and a privacy scan of every file."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from rich.console import Console

from pipelines.runner import run_pipeline
from pipelines.settings import get_settings
from tests.fixtures.connectors import builders as B
from tests.integration.test_slice import write_rooms

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # two full runs (~90 s)

YEAR = "2024-2025"
EVIL_NAME = '=HYPERLINK("http://evil.example","bấm vào")'
SCRIPT_NAME = "<script>alert(1)</script>"
SCHOOLS = [
    ("08000001", "Trường THCS Hòa Bình", "UBND xã Thử Nghiệm"),
    ("08000002", EVIL_NAME, "Sở GD&ĐT"),
    ("08000003", SCRIPT_NAME, ""),
]
ROOMS = {
    "08000001": [
        ("P01", "Phòng học", "x", "x"),
        ("P02", "Phòng học", None, "x"),
        ("P03", "Phòng học", "x", "x"),
    ],
    "08000002": [("A1", "Phòng học", "x", "x"), ("A2", "Phòng học", "x", "x")],
    "08000003": [
        ("B1", "Phòng học", "x", None),
        ("B2", "Phòng học", None, None),
        ("B3", "Phòng học", "x", "x"),
    ],
}  # 1.7.1 computed: 5.33, 8, 2.67
#: Personal data planted in the self-assessment notes and the reviewer's comment: must reach no output.
PII = ["Nguyễn Thị Bí Mật", "12/03/2011", "079123456789", "0912345678", "Trần Văn Duyệt"]
NOTE = f"{PII[0]}, sinh {PII[1]}, CCCD {PII[2]}, ĐT {PII[3]}"


def self_rows(code: str, name: str) -> list[list]:
    mand = [[code, name, YEAR, c, "", "Đạt", f"H-{c}-01", ""] for c in ("1.1", "1.2", "2.1", "2.2")]
    if code == "08000001":  # DH 30 + 10 + 8 + 2 = 50 → Mức 2; QT 54 → Mức 2
        scores = {
            **{f"1.3.{i}": ("6", "E") for i in range(1, 6)},
            "1.4": ("10", "E"),
            "1.7.1": ("8", "E"),
            "1.7.3": ("2", ""),
            "2.3.1": ("6", "E"),
            "2.3.2": ("6", "E"),
            "2.3.3": ("10", "E"),
            "2.3.4": ("6", "E"),
            "2.3.5": ("10", "E"),
            "2.3.6": ("10", "E"),
            "2.3.7": ("6", "E"),
        }
    elif code == "08000002":
        scores = {"1.7.1": ("8", "E"), "1.4": ("10", "E")}
    else:
        scores = {"1.7.1": ("abc", "E")}
    rows = [[code, name, YEAR, c, s, "", ev, NOTE] for c, (s, ev) in scores.items()]
    return mand + rows


@pytest.fixture()
def inbox(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    head = ["STT", "Mã trường", "Tên trường", "Cấp học", "Mã xã", "Đơn vị quản lý"]
    reg = [[i, c, n, "THCS", "12345", u or None] for i, (c, n, u) in enumerate(SCHOOLS, 1)]
    B.write_csv(root / YEAR / "province" / "truong.csv", [head, *reg])  # CSV: the '=' name stays text
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "phong_hoc.xlsx", school, rooms)
    sa_head = [
        "Mã trường",
        "Tên trường",
        "Năm học",
        "Mã tiêu chí",
        "Điểm tự đánh giá",
        "Đạt/Chưa đạt",
        "Mã minh chứng",
        "Ghi chú",
    ]
    rows = [r for c, n, _ in SCHOOLS for r in self_rows(c, n)]
    B.write_xlsx(root / YEAR / "province" / "tu_danh_gia.xlsx", {"TuDanhGia": [sa_head, *rows]})
    return root


def run(inbox: Path, tmp_path: Path, console: Console | None = None) -> Path:
    settings = get_settings(
        inbox=inbox, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", school_year=YEAR
    )
    outcome = run_pipeline(settings, console)
    assert getattr(outcome, "ok", outcome)
    return tmp_path / "out"


def query(tmp_path: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def fill(path: Path, target: Path, decisions: dict[tuple[str, str, str], tuple[str, float | None]]) -> None:
    """Fill decisions by (school, criterion, finding label) and append an unknown-id row."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        head = [c.value for c in ws[1]]
        if "Mã phát hiện" not in head or "Quyết định của người thẩm định" not in head:
            continue
        col = {h: i + 1 for i, h in enumerate(head)}
        for r in range(2, ws.max_row + 1):
            key = (
                ws.cell(r, col["Mã số trường"]).value,
                ws.cell(r, col["Mã TC"]).value or "",
                ws.cell(r, col["Loại phát hiện"]).value,
            )
            if key in decisions:
                label, pts = decisions[key]
                ws.cell(r, col["Quyết định của người thẩm định"], label)
                ws.cell(r, col["Điểm điều chỉnh"], pts)
                ws.cell(r, col["Nhận xét của người thẩm định"], f"Đã gọi {PII[4]}")
        if ws.title == "UBND xã Thử Nghiệm":
            ws.append(
                ["khong-co-ma-nay"]
                + [None] * (col["Quyết định của người thẩm định"] - 2)
                + ["Chấp nhận điểm tự đánh giá"]
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)


def thi_dua(out: Path) -> pd.DataFrame:
    return pd.read_excel(
        out / f"thi_dua_{YEAR}.xlsx",
        sheet_name=f"Thi đua {YEAR}",
        engine="calamine",
        dtype={"Mã trường": str},
    ).set_index("Mã trường")


def test_round_trip_decisions_outputs_and_privacy(inbox: Path, tmp_path: Path) -> None:
    out = run(inbox, tmp_path)
    found = pd.read_csv(out / f"findings_{YEAR}.csv", dtype={"school_code": str, "criterion_code": str})
    found["criterion_code"] = found["criterion_code"].fillna("")
    kinds = set(zip(found["school_code"], found["criterion_code"], found["finding"], strict=True))
    assert {
        ("08000001", "1.7.1", "OVER_CLAIM"),
        ("08000001", "1.7.3", "MISSING_EVIDENCE"),
        ("08000001", "", "LEVEL_CHANGE"),
        ("08000001", "1.4", "NO_DATA"),
        ("08000002", "1.4", "NO_DATA"),
        ("08000003", "1.7.1", "INVALID_SELF_SCORE"),
        ("08000003", "1.7.1", "UNDER_CLAIM"),
    } <= kinds
    assert not any(c == "08000002" and k == "1.7.1" for c, k, _ in kinds)  # self 8 = computed 8
    assert found.iloc[0]["severity"] == "high"
    over = found[(found["school_code"] == "08000001") & (found["finding"] == "OVER_CLAIM")].iloc[0]
    assert (over["severity"], over["self_points"], over["computed_points"], over["points_at_stake"]) == (
        "high",
        8.0,
        5.33,
        2.67,
    )
    t = thi_dua(out)
    assert (
        t.loc["08000001", "Mức tự đánh giá"] == 2 and t.loc["08000001", "Mức đề xuất (đánh giá ngoài)"] == 1
    )
    assert t.loc["08000001", "Đề xuất – điểm nhóm I"] == pytest.approx(45.33)

    # the reviewer's round trip: 1.7.1 adjusted to 8, the missing evidence accepted; two bad rows
    reviewer = out / f"reviewer_{YEAR}.xlsx"
    wb = openpyxl.load_workbook(reviewer)
    assert {"Tổng hợp", "UBND xã Thử Nghiệm", "Sở GD&ĐT", "Chưa rõ đơn vị"} <= set(wb.sheetnames)
    ws = wb["UBND xã Thử Nghiệm"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert any(
        '"Chấp nhận điểm tự đánh giá,' in (dv.formula1 or "") for dv in ws.data_validations.dataValidation
    )
    dropped = inbox / YEAR / "province" / f"reviewer_{YEAR}.xlsx"
    fill(
        reviewer,
        dropped,
        {
            ("08000001", "1.7.1", "Tự đánh giá cao hơn dữ liệu"): ("Điều chỉnh điểm", 8),
            ("08000001", "1.7.3", "Thiếu mã minh chứng"): ("Chấp nhận điểm tự đánh giá", None),
            ("08000002", "1.4", "Không có dữ liệu để kiểm tra"): (
                "Điều chỉnh điểm",
                99,
            ),  # > max 10: rejected
            ("08000001", "1.4", "Không có dữ liệu để kiểm tra"): (
                "Đồng ý",
                None,
            ),  # not in the list: rejected
        },
    )
    n_self = query(tmp_path, "SELECT count(*) AS n FROM raw_self_assessment")["n"].iloc[0]
    printed = io.StringIO()
    out = run(inbox, tmp_path, Console(file=printed, soft_wrap=True))
    assert query(tmp_path, "SELECT count(*) AS n FROM raw_self_assessment")["n"].iloc[0] == n_self

    t = thi_dua(out)
    assert t.loc["08000001", "Đề xuất – điểm nhóm I"] == pytest.approx(50.0)
    assert t.loc["08000001", "Mức đề xuất (đánh giá ngoài)"] == 2
    assert "Thẩm định" in t.loc["08000001", "Nguồn điểm đề xuất nhóm I"]
    assert t.loc["08000002", "Đề xuất – điểm nhóm I"] == pytest.approx(18.0)  # rejected 99 not applied
    rejects = query(tmp_path, "SELECT reason_code FROM review_decisions__rejected")["reason_code"]
    assert sorted(rejects) == ["invalid_decision", "out_of_range", "unknown_finding"]
    stored = query(tmp_path, "SELECT * FROM review_decisions")
    assert sorted(stored["decision"]) == ["accept_self", "adjust"]
    wb = openpyxl.load_workbook(out / f"reviewer_{YEAR}.xlsx")
    assert wb["QĐ không hợp lệ"].max_row == 4  # header + 3 rejected rows
    html = (out / f"reviewer_{YEAR}.html").read_text(encoding="utf-8")
    assert "3 dòng quyết định thẩm định không hợp lệ" in html
    # the console names the sheet and row of each rejected decision, in Vietnamese
    console = printed.getvalue()
    reject_rows = query(tmp_path, "SELECT source_sheet, source_row, message FROM review_decisions__rejected")
    for sheet, row, message in reject_rows.itertuples(index=False):
        line = (
            "Quyết định thẩm định chưa được áp dụng — tệp "
            f"{YEAR}/province/reviewer_{YEAR}.xlsx, trang “{sheet}”, dòng {row}: {message}"
        )
        assert line in console, console
    assert "review_decisions__rejected" not in console
    # the reviewer's comments survive: stored (masked), written back into the regenerated workbook and
    # shown in the HTML next to the decision; the name typed in them is masked everywhere
    assert set(stored["comment"]) == {"Đã gọi [tên đã ẩn]"}
    wb = openpyxl.load_workbook(out / f"reviewer_{YEAR}.xlsx")
    ws = wb["UBND xã Thử Nghiệm"]
    head = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(head)}
    kept = {
        (r[col["Mã TC"]], r[col["Quyết định của người thẩm định"]], r[col["Nhận xét của người thẩm định"]])
        for r in ws.iter_rows(min_row=2, values_only=True)
        if r[col["Nhận xét của người thẩm định"]]
    }
    assert kept == {
        ("1.7.1", "Điều chỉnh điểm", "Đã gọi [tên đã ẩn]"),
        ("1.7.3", "Chấp nhận điểm tự đánh giá", "Đã gọi [tên đã ẩn]"),
    }
    assert html.count("Nhận xét: Đã gọi [tên đã ẩn]") >= 2
    # re-dropping the regenerated workbook changes nothing: the masked comment is read back as stored
    wb.save(dropped)
    out = run(inbox, tmp_path)
    again = query(tmp_path, "SELECT * FROM review_decisions")
    assert list(again["recorded_at"]) == list(stored["recorded_at"])
    # the returned workbook is recognised by the file-drop connector (its header, not its name): listed as
    # read by the reviewer-decisions step, never quarantined, and absent from the data-quality report's
    # quarantined files
    entry = query(
        tmp_path,
        "SELECT status, reason_code, rows_read, layout_ids FROM ingest_manifest "
        f"WHERE source_file = '{YEAR}/province/reviewer_{YEAR}.xlsx'",
    )
    assert entry.to_dict("records") == [
        {"status": "loaded", "reason_code": "read_by_reviewer_decisions", "rows_read": 0, "layout_ids": ""}
    ]
    assert (
        query(tmp_path, "SELECT count(*) AS n FROM dq_quarantine_rows WHERE source_file LIKE '%reviewer_%'")[
            "n"
        ].iloc[0]
        == 0
    )
    report = (out / f"data_quality_{YEAR}.html").read_text(encoding="utf-8")
    assert f"reviewer_{YEAR}.xlsx" not in report

    # formula injection: the school named '=HYPERLINK(…)' is text everywhere
    for xlsx in out.glob("*.xlsx"):
        with zipfile.ZipFile(xlsx) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/"):
                    assert "<f>" not in z.read(name).decode("utf-8"), f"{xlsx.name}:{name} has a formula"
    cell = thi_dua(out).loc["08000002", "Tên trường"]
    assert isinstance(cell, str) and not cell.startswith("=")

    # HTML escaping: the school named <script> renders as text
    assert SCRIPT_NAME not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert len(re.findall(r"<script>", html)) == 1  # only the report's own filter script

    # privacy: nothing planted in notes or the reviewer's comment reaches any output
    for f in (p for p in out.rglob("*") if p.is_file()):
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                text = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            text = f.read_text(encoding="utf-8", errors="replace")
        for needle in PII:
            assert needle not in text, f"{needle!r} leaked into {f.name}"
