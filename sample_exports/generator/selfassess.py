"""Planted self-assessments and their province-wide layouts (docs/exports.md §3.19 A long, B wide, two-tier
wide).

Planting policy, per school × year, from the computed values of `truth.py`:
- honest by default: self score = computed points rounded to the nearest 0.5 (always within tolerance);
- over-claims: 0–2 `ok` criteria whose max exceeds the computed points by more than the tolerance + 0.5
  are declared at their maximum; under-claims: 0–1 `ok` criterion with computed points above the
  tolerance + 0.5 is declared at 0;
- `no_data` criteria are declared (NO_DATA findings) 70 % of the time, else left blank;
  `not_applicable` criteria are left blank;
- document criteria get a score with an evidence code, except ≈15 % of schools that give none;
- mandatory conditions: met with evidence (≈80 %), met without evidence (≈12 %), not met (≈8 %);
- ≈12 % of school-years enter one invalid score (text, negative or above the maximum), only on an `ok`
  criterion whose computed points are within the tolerance of 0, so that the finding set is the same
  whether a rejected score is compared as 0 or not compared at all.
The wide layouts carry no evidence codes: their rows are marked `evidence_known=False`, so the truth
keeps their declarations (a condition declared met counts as met, document criteria keep their points)
while MISSING_EVIDENCE is still raised (docs/indicators.md, "Evidence unknown is not evidence missing").
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import rules as R
from .layouts import Ctx, code_sheet
from .presets import School
from .sheets import Block, Book, C, Col, Sheet
from .truth import SelfRow, Value


def _half(d: Decimal) -> Decimal:
    return (d * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def plant_self(data: dict[str, Value], rng: random.Random, wide: bool) -> dict[str, SelfRow]:
    """The self-assessment of one school-year (see module docstring)."""
    out: dict[str, SelfRow] = {}
    ok = [c for c, v in data.items() if v.status == "ok"]
    over_c = [
        c
        for c in ok
        if Decimal(R.CRITERIA[c][1]) - (data[c].points or 0) > R.tolerance(R.CRITERIA[c][1]) + Decimal("0.5")
    ]
    under_c = [c for c in ok if (data[c].points or 0) > R.tolerance(R.CRITERIA[c][1]) + Decimal("0.5")]
    over = set(rng.sample(over_c, min(len(over_c), rng.choice((0, 0, 1, 2)))))
    under = set(
        rng.sample(sorted(set(under_c) - over), min(len(set(under_c) - over), rng.choice((0, 0, 0, 1))))
    )
    zero_c = sorted(
        c for c in ok if (data[c].points or 0) <= R.tolerance(R.CRITERIA[c][1]) and c not in over | under
    )
    invalid = rng.choice(zero_c) if zero_c and rng.random() < 0.12 else None
    no_evidence_docs = rng.random() < 0.15
    for code, (grp, mx, kind) in R.CRITERIA.items():
        ev_code = f"H{1 if grp == 'DH' else 2}-{code}-01"
        if rng.random() < 0.3:
            ev_code += f"; H{1 if grp == 'DH' else 2}-{code}-02"
        if kind == "mandatory":
            r = rng.random()
            met = r < 0.92
            ev = "" if (r >= 0.8 or wide) else ev_code
            out[code] = SelfRow(code, "", met, ev, evidence_known=not wide)
            continue
        assert mx is not None
        if kind == "document":
            score = _half(Decimal(mx) * Decimal(str(rng.uniform(0.4, 1.0))))
            out[code] = SelfRow(
                code,
                R.fmt_decimal(score),
                None,
                "" if (no_evidence_docs or wide) else ev_code,
                evidence_known=not wide,
            )
            continue
        v = data[code]
        if v.status == "not_applicable":
            out[code] = SelfRow(code, "", None, "")
            continue
        if v.status == "no_data":
            score = _half(Decimal(mx) * Decimal(str(rng.uniform(0.5, 1.0))))
            out[code] = SelfRow(
                code, R.fmt_decimal(score) if rng.random() < 0.7 else "", None, "" if wide else ev_code
            )
            continue
        pts = v.points or Decimal(0)
        if code == invalid:
            raw = rng.choice(("abc", "-1", str(mx + 2), "đạt"))
        elif code in over:
            raw = R.fmt_decimal(Decimal(mx))
        elif code in under:
            raw = "0"
        else:
            raw = R.fmt_decimal(min(Decimal(mx), _half(pts)))
        out[code] = SelfRow(code, raw, None, "" if wide else ev_code)
    return out


def _num(raw: str) -> Any:
    """Write valid numbers as numbers, anything else as text."""
    try:
        return float(raw) if raw not in ("",) else None
    except ValueError:
        return raw


LONG_COLS = [
    C("Mã trường", "id"),
    C("Tên trường"),
    C("Năm học"),
    C("Mã tiêu chí"),
    C("Điểm tự đánh giá", "num"),
    C("Đạt/Chưa đạt"),
    C("Mã minh chứng"),
    C("Ghi chú"),
]


def code_text(code: str, k: int) -> Any:
    """Variants of a criterion code as schools type them."""
    v = k % 9
    if v == 1:
        return f"TC {code}"
    if v == 2:
        return f"Tiêu chí {code}"
    if v == 3:
        return f"{code}."
    if v == 4 and code.count(".") == 1:
        return float(code)
    return code


def long_rows(school: School, year: str, rows: dict[str, SelfRow], subtotal: bool) -> list[list[Any]]:
    out: list[list[Any]] = []
    for k, (code, sr) in enumerate(rows.items()):
        if subtotal and code == "1.4":  # composite subtotal row (skipped by connectors)
            s13 = sum(
                (
                    Decimal(rows[c].score)
                    for c in ("1.3.1", "1.3.2", "1.3.3", "1.3.4", "1.3.5")
                    if _num(rows[c].score).__class__ is float
                ),
                Decimal(0),
            )
            out.append([school.code, school.name, year, "1.3", float(s13), None, None, "Tổng tiêu chí 1.3"])
        if R.CRITERIA[code][2] == "mandatory":
            out.append(
                [
                    school.code,
                    school.name,
                    year,
                    code_text(code, k),
                    None,
                    "Đạt" if sr.met else "Chưa đạt",
                    sr.evidence or None,
                    None,
                ]
            )
        else:
            out.append(
                [
                    school.code,
                    school.name,
                    year,
                    code_text(code, k),
                    _num(sr.score),
                    None,
                    sr.evidence or None,
                    None,
                ]
            )
    return out


def long_book(ctx: Ctx, entries: list[tuple[School, dict[str, SelfRow]]], relpath: str, fmt: str) -> Book:
    """cds.self_assessment_long.v1 (many schools), 0–3 title rows, no F."""
    rows: list[list[Any]] = []
    for k, (s, r) in enumerate(entries):
        rows += long_rows(s, ctx.year, r, subtotal=k % 2 == 0)
    n_title = ctx.rng.randint(0, 3)
    title = [["KẾT QUẢ TỰ ĐÁNH GIÁ MỨC ĐỘ CHUYỂN ĐỔI SỐ"], [f"Năm học: {ctx.year}"], []][:n_title]
    b = Block(LONG_COLS, rows, title)
    sheets = [Sheet("TuDanhGia", [b])]
    if fmt == "xlsx":
        sheets.append(code_sheet("Huong_Dan"))
    return Book(relpath, fmt, sheets, ctx.quirks)


def _wide_header(code: str, k: int) -> str:
    mx = R.CRITERIA[code][1]
    v = k % 4
    if v == 1:
        return f"TC {code}"
    if v == 2:
        return f"Tiêu chí {code}"
    if v == 3 and mx is not None:
        return f"{code} ({mx} điểm)"
    return code


def wide_book(
    ctx: Ctx, entries: list[tuple[School, dict[str, SelfRow]]], relpath: str, two_tier: bool
) -> Book:
    """cds.self_assessment_wide.v1 (one row per school); two-tier variant with merged group labels."""
    groups = {
        "DH": "Nhóm 1: Chuyển đổi số trong dạy, học",
        "QT": "Nhóm 2: Chuyển đổi số trong quản trị cơ sở giáo dục",
    }
    cols = [Col(("Mã trường",), "id"), Col(("Tên trường",)), Col(("Năm học",))]
    for k, (code, (grp, _mx, _kind)) in enumerate(R.CRITERIA.items()):
        label = _wide_header(code, k)
        cols.append(Col((groups[grp], label) if two_tier else (label,), "num"))
    cols += [Col(("Tổng điểm nhóm 1",), "num"), Col(("Tổng điểm nhóm 2",), "num"), Col(("Mức",))]
    rows = []
    for s, r in entries:
        row: list[Any] = [s.code, s.name, ctx.year]
        tot = {"DH": Decimal(0), "QT": Decimal(0)}
        cap = {"DH": False, "QT": False}
        for code, (grp, mx, kind) in R.CRITERIA.items():
            sr = r[code]
            if kind == "mandatory":
                row.append(("Đạt" if sr.met else "Chưa đạt") if two_tier else ("x" if sr.met else None))
                cap[grp] |= not sr.met
                continue
            v = _num(sr.score)
            row.append(v)
            if isinstance(v, float) and 0 <= v <= (mx or 0):
                tot[grp] += Decimal(sr.score)
        lvl = min(R.level_of(tot[g], cap[g]) for g in tot)
        row += [float(tot["DH"]), float(tot["QT"]), f"Mức {lvl}"]
        rows.append(row)
    title = [["KẾT QUẢ TỰ ĐÁNH GIÁ MỨC ĐỘ CHUYỂN ĐỔI SỐ"], [f"Năm học: {ctx.year}"], []]
    return Book(
        relpath,
        "xlsx",
        [Sheet("TongHop", [Block(cols, rows, title, merge_title_row=0)], shuffle_ok=False)],
        ctx.quirks,
    )
