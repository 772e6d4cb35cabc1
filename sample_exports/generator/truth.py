"""Truth computed from the generator's own plan: indicator values, findings and school levels.

Implements the exact definitions of docs/indicators.md §3 ("Definitions the rules use", "Computing, rounding,
not-applicable", "Reconciliation") over the GOOD records of the plan (planted bad rows are extra rows
that never enter the plan). Constants come from `rules.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from . import curriculum as cur
from . import rules as R
from .plan import YearPlan, year_window


@dataclass
class Value:
    code: str
    numerator: int | None
    denominator: int | None
    value: Fraction | None
    points: Decimal | None
    status: str  # ok | no_data | not_applicable | self_declared


@dataclass
class SelfRow:
    """One criterion of a school's self-assessment as written to the file."""

    code: str
    score: str  # raw cell text ('' = blank); for mandatory: '' (score blank)
    met: bool | None  # mandatory only
    evidence: str  # '' = no evidence code
    evidence_known: bool = True  # False: the form has no evidence column (wide layouts)


def _ratio(code: str, num: int, den: int, max_pts: int, transform=None) -> Value:
    if den == 0:
        return Value(code, None, None, None, None, "no_data")
    v = Fraction(num, den)
    share = transform(v) if transform else v
    return Value(code, num, den, v, R.points_for(max_pts, share), "ok")


def _presence(code: str, count: int, max_pts: int) -> Value:
    return Value(code, count, None, Fraction(count), Decimal(max_pts) if count >= 1 else Decimal(0), "ok")


def _nodata(code: str) -> Value:
    return Value(code, None, None, None, None, "no_data")


def computed_values(p: YearPlan) -> dict[str, Value]:
    """Every data criterion of one school-year (document criteria are added by `with_self`)."""
    out: dict[str, Value] = {}
    w0, w1 = year_window(p.year)
    enrolled = p.enrolled_students()
    enr = set(enrolled)
    active_teachers = [s for s in p.staff if s.active and s.teacher]
    at_ids = {s.staff_id for s in active_teachers}

    def in_year(d: date | datetime) -> bool:
        dd = d.date() if isinstance(d, datetime) else d
        return w0 <= dd <= w1

    # 1.3.x, 1.6.2
    metrics = ("live_sessions", "lessons_assigned", "questions_answered", "tests_graded", "parent_views")
    if "lms" in p.missing or not p.lms_users:
        for k in range(5):
            out[f"1.3.{k + 1}"] = _nodata(f"1.3.{k + 1}")
        out["1.6.2"] = _nodata("1.6.2")
    else:
        for k, m in enumerate(metrics):
            out[f"1.3.{k + 1}"] = _presence(f"1.3.{k + 1}", sum(u[4].get(m, 0) for u in p.lms_users), 6)
        ev: dict[str, int] = {}
        for pin, _role, _g, _s, mt in p.lms_users:
            ev[pin] = ev.get(pin, 0) + mt.get("active_events", 0)
        num = sum(1 for t in at_ids if ev.get(t, 0) >= R.ACTIVE_EVENTS_MIN)
        out["1.6.2"] = _ratio("1.6.2", num, len(at_ids), 7)
    # 1.4, 1.6.3
    pairs = {(a.subject, p.classes[a.klass].grade) for a in p.assignments}
    if "resources" in p.missing:
        out["1.4"] = _nodata("1.4")
        out["1.6.3"] = _nodata("1.6.3")
    else:
        ok_res = [
            r
            for r in p.resources
            if r.approval == "Đã duyệt"
            and r.created <= w1
            and (p.school.formats.get("resources") != "json" or r.moderation in ("Normal", "ReviewedSafe"))
        ]
        covered = {(r.subject, r.grade) for r in ok_res}
        out["1.4"] = _ratio("1.4", len(pairs & covered), len(pairs), 10)
        authors = {r.author for r in p.resources if r.created <= w1}
        out["1.6.3"] = _ratio("1.6.3", len(at_ids & authors), len(at_ids), 6)
    # 1.5.1, 1.5.2
    if "cbt" in p.missing:
        out["1.5.1"] = _nodata("1.5.1")
        out["1.5.2"] = _nodata("1.5.2")
    else:
        scored = {
            a.subject for a in p.assignments if cur.is_scored_for_151(a.subject, p.classes[a.klass].grade)
        }
        with_test = {t.subject for t in p.tests if t.kind in ("Giữa kỳ", "Cuối kỳ") and in_year(t.held)}
        out["1.5.1"] = _ratio("1.5.1", len(scored & with_test), len(scored), 15)
        out["1.5.2"] = _presence(
            "1.5.2", sum(1 for t in p.tests if in_year(t.held) and t.sync.startswith("Đã")), 5
        )
    # 1.6.1
    matched = set()
    for a in p.training:
        if a["status"] != "Hoạt động":
            continue
        s = p.staff[a["staff_idx"]]
        matched.add(s.staff_id)
    out["1.6.1"] = _ratio("1.6.1", len(at_ids & matched), len(at_ids), 7)
    # 1.7.1, 1.7.2, 2.3.5
    if "rooms" in p.missing:
        for c in ("1.7.1", "1.7.2", "2.3.5"):
            out[c] = _nodata(c)
    else:
        cls = [r for r in p.rooms if r.rtype == "Phòng học"]
        out["1.7.1"] = _ratio("1.7.1", sum(1 for r in cls if r.projector and r.internet), len(cls), 8)
        g312 = [c.size for c in p.classes if 3 <= c.grade <= 12]
        if not g312:
            out["1.7.2"] = Value("1.7.2", None, None, None, None, "not_applicable")
        else:
            work = sum(r.working for r in p.rooms if r.rtype == "Phòng Tin học")
            out["1.7.2"] = _ratio("1.7.2", work, max(g312), 7)
        out["2.3.5"] = _presence("2.3.5", len(p.rooms), 10)
    # 2.3.2
    if "csdl_student" in p.missing:
        out["2.3.2"] = _nodata("2.3.2")
    else:
        num = sum(1 for i in enrolled if p.students[i].in_platform)
        out["2.3.2"] = _ratio(
            "2.3.2", num, len(enrolled), 6, lambda v: min(Fraction(1), v / R.STUDENT_MODULE_TARGET)
        )
    # 2.3.3
    if "gradebook" in p.missing or "transcripts" in p.missing:
        out["2.3.3"] = _nodata("2.3.3")
    else:
        complete = 0
        pairs_s1 = [(a.klass, a.subject) for a in p.assignments]
        for ci, subj in pairs_s1:
            members = [i for i in enrolled if p.students[i].klass == ci]
            marks = p.marks.get((ci, subj), {})
            g = p.classes[ci].grade
            ok = True
            for i in members:
                m = marks.get(i)
                if m is None:
                    ok = False
                    break
                if g <= 5:
                    if m.level is None or (cur.has_ck1_test(subj, g) and m.test is None):
                        ok = False
                        break
                else:
                    need = cur.required_tx(cur.periods_per_year(subj, g))
                    if len(m.tx) < need or m.gk is None or m.ck is None:
                        ok = False
                        break
            complete += ok
        gb = Fraction(complete, len(pairs_s1)) if pairs_s1 else Fraction(0)
        issued = {t[0] for t in p.transcripts if t[2] == "Đã ký phát hành"}
        hb = Fraction(len(issued & enr), len(enrolled)) if enrolled else Fraction(0)
        v = gb / 2 + hb / 2
        out["2.3.3"] = Value("2.3.3", None, None, v, R.points_for(10, v), "ok")
    # 2.3.4
    act = [s for s in p.staff if s.active]
    out["2.3.4"] = _ratio(
        "2.3.4",
        sum(1 for s in act if s.complete),
        len(act),
        6,
        lambda v: min(Fraction(1), v / R.STUDENT_MODULE_TARGET),
    )
    # 2.3.6
    if "health" in p.missing:
        out["2.3.6"] = _nodata("2.3.6")
    else:
        seen = {h["student"] for h in p.health if in_year(h["at"])}
        out["2.3.6"] = _ratio("2.3.6", len(seen & enr), len(enrolled), 10)
    # 2.3.7
    out["2.3.7"] = (
        _nodata("2.3.7")
        if "vouchers" in p.missing
        else _presence("2.3.7", sum(1 for v in p.vouchers if in_year(v["date"])), 6)
    )
    # 2.3.8
    if "sync_log" in p.missing:
        out["2.3.8"] = _nodata("2.3.8")
    else:
        s0 = p.start
        deadlines = {
            "Đầu năm": date(s0, 9, 30),
            "Cuối học kỳ I": date(s0 + 1, 1, 15),
            "Cuối năm": date(s0 + 1, 5, 31),
        }
        ent = {"Học sinh", "Cán bộ giáo viên", "Lớp học", "Kết quả học tập"}
        met = set()
        for r in p.sync_log:
            success = r["result"] == "Thành công" and r["ok"] >= r["sent"]
            if success and r["entity"] in ent and r["at"].date() <= deadlines[r["period"]]:
                met.add((r["entity"], r["period"]))
        out["2.3.8"] = _ratio("2.3.8", len(met), 12, 6)
    # 2.4.1
    if "parent_accounts" in p.missing:
        out["2.4.1"] = _nodata("2.4.1")
    else:
        good = {
            a["student"] for a in p.parent_accounts if a["status"] == "Đã kích hoạt" and in_year(a["last"])
        }
        out["2.4.1"] = _ratio("2.4.1", len(good & enr), len(enrolled), 8)
    # 2.4.2
    entry = [g for g in (1, 6, 10) if g in p.school.grades] if p.school.level != "GDTX" else []
    if not entry or "admissions" in p.missing:
        out["2.4.2"] = Value("2.4.2", None, None, None, None, "not_applicable")
    elif p.school.formats.get("admissions") == "class_split":
        out["2.4.2"] = _nodata("2.4.2")
    else:
        apps = [a for a in p.admissions if a["grade"] in entry]
        online = sum(1 for a in apps if a["channel"] == "Trực tuyến")
        out["2.4.2"] = (
            _ratio("2.4.2", online, len(apps), 12)
            if apps
            else Value("2.4.2", None, None, None, None, "not_applicable")
        )
    # 2.4.3
    if "fees" in p.missing:
        out["2.4.3"] = _nodata("2.4.3")
    else:
        paid = [f for f in p.fees if f["status"] == "Thành công" and in_year(f["at"])]
        tot = sum(f["paid"] for f in paid)
        cashless = sum(f["paid"] for f in paid if f["channel"] != "Tiền mặt")
        out["2.4.3"] = _ratio("2.4.3", cashless, tot, 10)
    return out


def parse_self_score(raw: str, max_pts: int) -> Decimal | None:
    """A valid self score, or None when invalid (negative, above max, not a number) or blank."""
    if raw == "":
        return None
    try:
        d = Decimal(raw.replace(",", "."))
    except Exception:
        return None
    if not d.is_finite() or d < 0 or d > max_pts:
        return None
    return d


def reconcile(
    school_code: str, year: str, data: dict[str, Value], selfrows: dict[str, SelfRow]
) -> tuple[list[Value], list[tuple[str, str, str, str]], tuple[Decimal, Decimal, int]]:
    """Full indicator values (document criteria included), findings and computed-side level."""
    values: list[Value] = []
    findings: list[tuple[str, str, str, str]] = []
    self_pts: dict[str, Decimal] = {}
    for code, (_grp, mx, kind) in R.CRITERIA.items():
        sr = selfrows.get(code)
        # "evidence unknown is not evidence missing": a form without an evidence column keeps the
        # declaration (MISSING_EVIDENCE is still raised, with a lower severity)
        unknown = bool(sr and not sr.evidence_known)
        if kind == "mandatory":
            met = bool(sr and sr.met)
            ev = bool(sr and sr.evidence)
            v = 1 if (met and (ev or unknown)) else 0
            values.append(Value(code, None, None, Fraction(v), None, "self_declared"))
            if met and not ev:
                findings.append((school_code, year, code, "MISSING_EVIDENCE"))
            continue
        assert mx is not None
        raw = sr.score if sr else ""
        valid = parse_self_score(raw, mx)
        if raw != "" and valid is None:
            findings.append((school_code, year, code, "INVALID_SELF_SCORE"))
        sp = valid if valid is not None else Decimal(0)
        self_pts[code] = sp
        if kind == "document":
            ev = bool(sr and sr.evidence)
            values.append(
                Value(code, None, None, None, sp if (ev or unknown) else Decimal(0), "self_declared")
            )
            if sp > 0 and not ev:
                findings.append((school_code, year, code, "MISSING_EVIDENCE"))
            continue
        cv = data[code]
        values.append(cv)
        if cv.status == "ok":
            assert cv.points is not None
            tol = R.tolerance(mx)
            if sp - cv.points > tol:
                findings.append((school_code, year, code, "OVER_CLAIM"))
            elif cv.points - sp > tol:
                findings.append((school_code, year, code, "UNDER_CLAIM"))
        elif cv.status == "no_data" and raw != "":
            findings.append((school_code, year, code, "NO_DATA"))
    # levels
    comp_tot = {g: Decimal(0) for g in R.GROUPS}
    mixed_tot = {g: Decimal(0) for g in R.GROUPS}
    self_tot = {g: Decimal(0) for g in R.GROUPS}
    comp_cap = {g: False for g in R.GROUPS}
    self_cap = {g: False for g in R.GROUPS}
    for v in values:
        grp, _mx, kind = R.CRITERIA[v.code]
        if kind == "mandatory":
            sr = selfrows.get(v.code)
            comp_cap[grp] |= v.value == 0
            self_cap[grp] |= not (sr and sr.met)
            continue
        comp_tot[grp] += v.points or Decimal(0)
        self_tot[grp] += self_pts[v.code]
        mixed_tot[grp] += v.points if v.status == "ok" and v.points is not None else self_pts[v.code]
    comp_level = min(R.level_of(comp_tot[g], comp_cap[g]) for g in R.GROUPS)
    self_level = min(R.level_of(self_tot[g], self_cap[g]) for g in R.GROUPS)
    mixed_level = min(R.level_of(mixed_tot[g], self_cap[g]) for g in R.GROUPS)
    if mixed_level != self_level:
        findings.append((school_code, year, "", "LEVEL_CHANGE"))
    return values, findings, (comp_tot["DH"], comp_tot["QT"], comp_level)
