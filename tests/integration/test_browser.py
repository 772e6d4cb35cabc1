"""Browser checks of the HTML people open: the reviewer report, the data-quality report and the
data-quality suites' page, in headless Chromium (Debian's `chromium`, driven by Playwright) with the
network blocked. A page fails on a console error, a script error, a request that leaves the file, or a
section without content; in the reviewer report a link to a school opens its section, and the scatter
has its axis numbers. Screenshots are written next to the pages (`*.png`) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reports.data_quality import ReportData, SchoolSection, render
from reports.reviewer_html import write_reviewer_html
from tests.unit.test_reports import review_data, table_of

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
Y = "2024-2025"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three pages, built from small frames (no pipeline run)."""
    from quality.gx_suites import run_published_suite

    out = tmp_path_factory.mktemp("html")
    data = review_data()
    data.counted = pd.DataFrame(
        [  # the rows 1.4 of S1 counted (drill-down)
            {
                "school_code": "S1",
                "criterion_code": "1.4",
                "role": role,
                "source_file": "S1/phancong.xlsx",
                "source_sheet": "PC",
                "source_row": row,
                "fields_read": f"Môn Toán, khối {row}",
            }
            for role, row in (("numerator", 8), ("denominator", 8), ("denominator", 9))
        ]
    )
    table, factors = table_of(data)
    reviewer = write_reviewer_html(out / f"reviewer_{Y}.html", data, table, factors)
    section = SchoolSection(
        "08000001",
        "Trường THCS Hòa Bình",
        arrived=[{"label": "Danh sách phòng", "entity": "facility", "files": 1, "rows": 4}],
        n_rows=4,
        missing=["Danh sách lớp"],
    )
    quality = out / f"data_quality_{Y}.html"
    quality.write_text(render(ReportData(Y, dt.datetime(2025, 3, 1, 8, 0), [section], [])), encoding="utf-8")
    scored = pd.DataFrame(
        {
            "school_code": ["A", "B"],
            "criterion_code": ["1.4", "1.4"],
            "points": [2.0, 1.0],
            "max_points": [4.0, 4.0],
        }
    )
    scores = pd.DataFrame({"school_code": ["A", "B"], "level": [1, 1]})
    docs = run_published_suite(scored, scores, out / "data_docs" / Y, school_year=Y).docs_index
    assert docs is not None
    return {"reviewer": reviewer, "quality": quality, "docs": docs}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("Chromium (Debian package chromium) not installed")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium_profile")  # a new, empty profile
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def open_offline(context, path: Path):  # type: ignore[no-untyped-def]
    """Open `path` with every non-file request blocked; returns (page, problems)."""
    problems: list[str] = []
    page = context.new_page()

    def route(r):  # type: ignore[no-untyped-def]
        if r.request.url.startswith("file:"):
            return r.continue_()
        problems.append(f"network request blocked: {r.request.url}")
        return r.abort()

    page.route("**/*", route)
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def empty_sections(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('section')).filter(s => s.innerText.trim().length < 40)
                 .map(s => s.id || s.outerHTML.slice(0, 60))"""
    )


@pytest.mark.parametrize("name", ["reviewer", "quality", "docs"])
def test_page_loads_offline_without_errors(browser, pages: dict[str, Path], name: str) -> None:  # type: ignore[no-untyped-def]
    page, problems = open_offline(browser, pages[name])
    assert page.evaluate("document.querySelectorAll('section').length") >= 1
    assert not empty_sections(page)
    assert "nan" not in page.inner_text("body").split()  # no missing value shown as "nan"
    page.screenshot(path=str(pages[name].with_suffix(".png")), full_page=True)
    assert not problems, problems
    page.close()


def test_reviewer_report_link_opens_the_school(browser, pages: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    page, problems = open_offline(browser, pages["reviewer"])
    assert page.evaluate("document.getElementById('s-S1').open") is False
    page.click('#findings a[href="#s-S1"]')
    page.wait_for_function("document.getElementById('s-S1').open === true")
    # the filter script works (counts rows) and the scatter has its tick numbers
    assert "phát hiện" in page.inner_text("#count")
    ticks = page.evaluate("Array.from(document.querySelectorAll('text.tick-x')).map(t => t.textContent)")
    assert ticks == ["0", "50", "100", "150", "200"]
    page.screenshot(path=str(pages["reviewer"].with_name("reviewer_school_open.png")), full_page=False)
    # a computed value links to the rows it counted: the link opens them (and their school)
    page.goto(pages["reviewer"].as_uri())
    page.click("#s-S1 summary")
    page.click('a[href="#r-S1-1.4"] >> nth=0')
    page.wait_for_function("document.getElementById('r-S1-1.4').open === true")
    assert page.inner_text("[id='r-S1-1.4']").count("S1/phancong.xlsx") == 3
    page.screenshot(path=str(pages["reviewer"].with_name("reviewer_rows_open.png")), full_page=False)
    # opening the page on a school's address opens that school too
    page.goto(pages["reviewer"].as_uri() + "#s-S2")
    page.wait_for_function("document.getElementById('s-S2').open === true")
    assert not problems, problems
    page.close()
