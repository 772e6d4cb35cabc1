"""Unit tests of the reviewer outputs and the decisions reader on small frames (no Dagster): the
reviewer workbook → decisions → proposals round trip, validation of bad rows, stale decisions, formula
injection in the workbooks and HTML escaping."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from indicator_sets import decisions as dec
from indicator_sets import reconcile as rc
from reports.reviewer_html import render, year_over_year
from reports.reviewer_workbook import ReviewData, write_reviewer_workbook
from reports.thi_dua import build_summary, build_table, write_thi_dua
from tests.unit.test_reconcile import BASE_DATA, BASE_SELF, Y, scored, selfs, small_set

pytestmark = pytest.mark.unit
EVIL = '=HYPERLINK("http://evil.example","x")'


def review_data(states: pd.DataFrame | None = None) -> ReviewData:
    iset = small_set()
    data = [(c, s, 0.0 if c == "2.3.3" else p) for c, s, p in BASE_DATA]
    rows = [*BASE_SELF, *[(c, str(p), p, None, None, "e") for c, _, p in BASE_DATA]]
    sa = pd.concat([selfs(rows), selfs([("1.4", "abc", None, "bad_number", None, "e")], school="S2")])
    final = rc.final_values(
        pd.concat([scored(data), scored(BASE_DATA, school="S2")]), rc.self_points(sa, iset), iset
    )
    found = rc.reconcile_findings(final, iset)
    schools = pd.DataFrame(
        {
            "school_code": ["S1", "S2"],
            "school_year": [Y, Y],
            "school_name": [EVIL, "<script>x()</script>"],
            "managing_unit": ["UBND xã A", None],
        }
    )
    st = dec.decision_states(states, found) if states is not None else pd.DataFrame()
    prop = rc.proposed_values(final, found, st if len(st) else None, iset)
    return ReviewData(
        school_year=Y,
        iset=iset,
        schools=schools,
        final=final,
        findings=found,
        states=st,
        self_scores=rc.self_scores(final, iset),
        final_scores=rc.computed_scores(final, iset),
        proposed=prop,
        proposed_scores=rc.proposed_scores(prop, iset),
    )


def table_of(data: ReviewData) -> tuple[pd.DataFrame, dict]:
    factors = rc.verification_factors(data.final, data.units())
    t = build_table(
        data.final_scores,
        data.units(),
        data.final,
        self_scores=data.self_scores,
        proposed_scores=data.proposed_scores,
        proposed=data.proposed,
        findings=data.findings,
        states=data.states,
        factors=factors["school"],
    )
    return t, factors


def test_workbook_round_trip_applies_valid_and_rejects_invalid(tmp_path: Path) -> None:
    data = review_data()
    path = write_reviewer_workbook(tmp_path / "reviewer.xlsx", data)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:3] == ["Tổng hợp", "Chưa rõ đơn vị", "UBND xã A"]
    ws = wb["UBND xã A"]
    head = {c.value: c.column for c in ws[1]}
    first = ws.cell(2, head["Loại phát hiện"]).value
    assert ws.cell(2, head["Mức độ"]).value == "Cao" and first  # queue order: high first
    over = next(
        r
        for r in range(2, ws.max_row + 1)
        if ws.cell(r, head["Mã TC"]).value == "2.3.3"
        and ws.cell(r, head["Loại phát hiện"]).value == "Tự đánh giá cao hơn dữ liệu"
    )
    ws.cell(over, head[dec.COL_DECISION], "Điều chỉnh điểm")
    ws.cell(over, head[dec.COL_ADJUSTED], 30)
    ws.cell(over, head[dec.COL_COMMENT], "Đã liên hệ cô Lan")
    ws.append(["khong-co"] + [None] * (head[dec.COL_DECISION] - 2) + ["Chấp nhận điểm tự đánh giá"])
    ws2 = wb["Chưa rõ đơn vị"]
    ws2.cell(2, head[dec.COL_DECISION], "Điều chỉnh điểm")
    ws2.cell(2, head[dec.COL_ADJUSTED], 99)
    (tmp_path / "inbox" / Y / "province").mkdir(parents=True)
    wb.save(tmp_path / "inbox" / Y / "province" / f"reviewer_{Y}.xlsx")

    files = dec.find_decision_files(tmp_path / "inbox", Y)
    raw = dec.read_decision_files(files, tmp_path / "inbox")
    valid, rejects = dec.validate_decisions(raw, data.findings, data.iset, Y)
    assert list(valid["decision"]) == ["adjust"] and valid.iloc[0]["adjusted_points"] == 30
    assert sorted(rejects["reason_code"]) == ["out_of_range", "unknown_finding"]
    stored = dec.merge_decisions(pd.DataFrame(columns=dec.STORED_COLUMNS), valid)
    after = review_data(stored)
    t, _ = table_of(after)
    s1 = t.set_index("school_code").loc["S1"]
    assert s1["prop_qt_points"] == 86.0 and "Thẩm định" in s1["prop_qt_origin"]
    # the regenerated workbook pre-fills the decision and the comment, masked of the name it held
    wb = openpyxl.load_workbook(write_reviewer_workbook(tmp_path / "again.xlsx", after))
    texts = [c.value for r in wb["UBND xã A"].iter_rows() for c in r if isinstance(c.value, str)]
    assert "Điều chỉnh điểm" in texts and "Đã liên hệ cô [tên đã ẩn]" in texts
    assert not any("Lan" in v for v in texts)


def test_stale_decision_not_applied() -> None:
    data = review_data()
    fid = data.findings[data.findings["criterion_code"] == "2.3.3"].iloc[0]["finding_id"]
    stored = pd.DataFrame(
        [
            {
                **dict.fromkeys(dec.STORED_COLUMNS),
                "finding_id": fid,
                "decision": "adjust",
                "adjusted_points": 30.0,
                "self_points_at_decision": 44.0,
                "computed_points_at_decision": 10.0,
            }
        ]
    )
    st = dec.decision_states(stored, data.findings)  # the data said 10 then, 0 now
    assert st.iloc[0]["state"] == "stale" and not st.iloc[0]["in_force"]
    after = review_data(stored)
    assert after.proposed_scores.iloc[0]["group_qt_points"] == 56.0
    gone = dec.decision_states(stored.assign(finding_id="zzz"), data.findings)
    assert gone.iloc[0]["state"] == "orphaned"


def test_merge_keeps_recorded_row_when_unchanged() -> None:
    row = {
        **dict.fromkeys(dec.STORED_COLUMNS),
        "finding_id": "a",
        "decision": "adjust",
        "adjusted_points": 1.0,
        "comment": "",
        "recorded_at": pd.Timestamp("2025-01-01"),
    }
    stored = pd.DataFrame([row])
    same = dec.merge_decisions(stored, pd.DataFrame([{**row, "recorded_at": pd.Timestamp("2025-06-01")}]))
    assert same.iloc[0]["recorded_at"] == pd.Timestamp("2025-01-01")
    changed = dec.merge_decisions(stored, pd.DataFrame([{**row, "adjusted_points": 2.0}]))
    assert len(changed) == 1 and changed.iloc[0]["adjusted_points"] == 2.0


def test_formula_injection_and_html_escaping(tmp_path: Path) -> None:
    data = review_data()
    t, factors = table_of(data)
    summary = build_summary(t, factors["managing_unit"], 0.5, data.iset)
    paths = [
        write_thi_dua(
            tmp_path / "t.xlsx", t, Y, summary=summary, criterion_factors=factors["criterion"], iset=data.iset
        ),
        write_reviewer_workbook(tmp_path / "r.xlsx", data),
    ]
    for p in paths:
        with zipfile.ZipFile(p) as z:
            sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any("<f>" in s for s in sheets)
        wb = openpyxl.load_workbook(p)
        cells = [c for ws in wb.worksheets for r in ws.iter_rows() for c in r]
        assert not any(c.data_type == "f" for c in cells)
        assert any(isinstance(c.value, str) and "HYPERLINK" in c.value for c in cells)
    html = render(data, t, factors)
    assert "<script>x()</script>" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert html.count("<script>") == 1 and "http" not in html.replace("http://evil.example", "")


def test_year_over_year_explains_with_numerator_and_denominator() -> None:
    iset = small_set()
    cur = scored([("1.4", "ok", 20.0)]).assign(numerator=2.0, denominator=4.0, value=0.5)
    prev = scored([("1.4", "ok", 40.0)]).assign(
        numerator=4.0, denominator=4.0, value=1.0, school_year="2023-2024"
    )
    sp = rc.self_points(selfs([]), iset)
    yoy = year_over_year(rc.final_values(cur, sp, iset), rc.final_values(prev, sp, iset))
    r = yoy.set_index("criterion_code").loc["1.4"]
    assert r["delta"] == -20.0 and "tử số 4 → 2" in r["reason"]


def test_writers_sharing_one_review_data_write_what_each_writes_alone(tmp_path: Path) -> None:
    """The three writers of a run share one ReviewData (and its derived frames): same files as with a
    fresh ReviewData each, whatever the order."""
    from reports.reviewer_html import write_reviewer_html

    def write_all(out: Path, shared: ReviewData | None) -> dict[str, bytes]:
        for name in ("html", "xlsx", "thi_dua", "html2"):
            data = shared or review_data()
            table, factors = table_of(data)
            if name.startswith("html"):
                write_reviewer_html(out / f"{name}.html", data, table, factors)
            elif name == "xlsx":
                write_reviewer_workbook(out / "reviewer.xlsx", data)
            else:
                summary = build_summary(table, factors["managing_unit"], None, data.iset)
                write_thi_dua(
                    out / "thi_dua.xlsx",
                    table,
                    Y,
                    summary=summary,
                    criterion_factors=factors["criterion"],
                    iset=data.iset,
                )
        return {p.name: p.read_bytes() for p in sorted(out.iterdir())}

    alone = write_all(tmp_path / "alone", None)
    assert write_all(tmp_path / "shared", review_data()) == alone
    assert alone["html.html"] == alone["html2.html"]


def test_export_assets_of_one_run_read_the_review_data_once(tmp_path: Path, monkeypatch) -> None:
    """The `review_data` asset reads the review tables once and hands them to the three writers (an
    asset input, no cache between steps)."""
    import dagster as dg

    from pipelines.assets import exports
    from pipelines.partitions import school_year_partitions
    from pipelines.resources import PipelineConfig, WarehouseResource
    from reports.review_exports import Review, thi_dua_frames

    calls: list[str] = []

    def fake_load(con, school_year, iset, code_mapping=None, groups=()):
        calls.append(school_year)  # the warehouse is empty: serve the small data
        data = review_data()
        table, summary, factors = thi_dua_frames(data)
        return Review(data, table, summary, factors, data.final)

    monkeypatch.setattr(exports, "load_review", fake_load)
    monkeypatch.setattr(exports, "load_indicator_set", lambda _path: small_set())
    assets = [
        a for a in exports.build_export_assets(school_year_partitions()) if "findings_csv" not in a.op.name
    ]
    out = tmp_path / "out"
    resources = {
        "warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb"), threads=1, memory_limit="1GB"),
        "pipeline": PipelineConfig(inbox=str(tmp_path), out=str(out), indicator_set="x", hash_key="k"),
    }
    result = dg.materialize(assets, resources=resources, partition_key=Y)
    assert result.success
    assert calls == [Y]  # one read for the three writers
    assert {p.name for p in out.iterdir()} >= {
        f"thi_dua_{Y}.xlsx",
        f"reviewer_{Y}.xlsx",
        f"reviewer_{Y}.html",
    }


def test_decision_files_are_found_anywhere_in_the_year_oldest_first(tmp_path: Path) -> None:
    import os

    inbox = tmp_path / "inbox"
    made = {}
    for i, rel in enumerate(
        [
            f"{Y}/province/reviewer_{Y}.xlsx",
            f"{Y}/_cu/Reviewer_old.xlsx",
            f"{Y}/08000001/reviewer_x.XLSX",
            f"{Y}/08000001/bang.xlsx",
            "2023-2024/province/reviewer_2023-2024.xlsx",
        ]
    ):
        p = inbox / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
        os.utime(p, (1_000_000 - i, 1_000_000 - i))
        made[rel] = p
    (inbox / Y / "province" / "reviewer_dir.xlsx").mkdir()
    assert dec.find_decision_files(inbox, Y) == [
        made[f"{Y}/_cu/Reviewer_old.xlsx"],
        made[f"{Y}/province/reviewer_{Y}.xlsx"],
    ]
    assert dec.find_decision_files(inbox, "2099-2100") == []


def test_reviewer_html_does_not_contradict_itself() -> None:
    """The scatter has axis numbers; its tooltip shows the same total as the LEVEL_CHANGE text; the
    province factor's wording names what it divides; a link to a school opens its section."""
    import re

    data = review_data()
    t, factors = table_of(data)
    html = render(data, t, factors)
    assert {m for m in re.findall(r'class="tick-x"[^>]*>(\d+)<', html)} == {"0", "50", "100", "150", "200"}
    assert {m for m in re.findall(r'class="tick-y"[^>]*>(\d+)<', html)} == {"0", "50", "100", "150", "200"}
    change = data.findings[
        (data.findings["finding"] == "LEVEL_CHANGE") & (data.findings["school_code"] == "S1")
    ]
    assert len(change) == 1
    from reports.reviewer_workbook import _fmt, explain

    text = explain(change.iloc[0])
    tip = re.search(
        r"<title>S1: tự đánh giá ([\d,]+); thay điểm tính từ dữ liệu \(nơi có số liệu\) ([\d,]+)</title>",
        html,
    )
    assert tip is not None
    assert f"Tổng điểm tự đánh giá {tip.group(1)};" in text and f"được {tip.group(2)}:" in text
    assert tip.group(2) == _fmt(change.iloc[0]["computed_points"])
    assert "chỉ trên các tiêu chí có số liệu" in html and 'id="he-so-tinh"' in html
    assert 'if(d.tagName==="DETAILS"){d.open=true;}' in html and 'href="#s-S1"' in html


def test_findings_csv_keeps_codes_and_adds_vietnamese_names() -> None:
    from reports.reviewer_workbook import findings_csv

    out = findings_csv(review_data().findings)
    cols = list(out.columns)
    assert cols.index("finding_label") == cols.index("finding") + 1
    assert cols.index("severity_label") == cols.index("severity") + 1
    row = out[out["finding"] == "LEVEL_CHANGE"].iloc[0]
    assert (row["finding_label"], row["severity_label"]) == (
        "Mức thay đổi khi dùng điểm tính từ dữ liệu",
        "Cao",
    )
    assert out["finding_label"].notna().all() and out["severity_label"].notna().all()


def test_console_summary_is_vietnamese_with_decimal_commas() -> None:
    from pipelines.run_summary import summary_lines

    lines = summary_lines(
        {
            "school_year": Y,
            "status": "success",
            "files": dict.fromkeys(("seen", "ingested", "replaced", "skipped", "quarantined", "retired"), 1),
            "rows": {"loaded_this_run": 1, "kept_in_year": 1, "rejected_in_year": 0},
            "findings_by_severity": {"high": 2, "medium": 1, "low": 0},
            "schools_by_level": {"1": 3},
            "stage_seconds": {"ingest": 1.25, "models": 10.0},
        }
    )
    text = "\n".join(lines)
    assert "cao 2, trung bình 1, thấp 0" in text and "high" not in text
    assert "nạp tệp 1,2 giây" in text or "nạp tệp 1,3 giây" in text
    assert "mô hình SQL 10,0 giây" in text
