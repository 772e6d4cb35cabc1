"""Issue 24: a school folder whose code the year's registry does not hold is quarantined as
`unknown_school` with a Vietnamese reason naming the folder, so that no phantom school appears in any
output; the next run with nothing new changes nothing. Without a registry for the year nothing is judged
(the folders cannot be checked)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
REGISTRY = (
    Path(__file__).resolve().parents[2]
    / "sample_exports"
    / "inbox"
    / YEAR
    / "province"
    / "DanhSachTruong.xlsx"
)


def test_unknown_school_folder_is_quarantined(tmp_path: Path) -> None:
    (tmp_path / YEAR / "province").mkdir(parents=True)
    shutil.copyfile(REGISTRY, tmp_path / YEAR / "province" / "DanhSachTruong.xlsx")  # schools 08000001–05
    write_rooms(tmp_path / YEAR / "08000001" / "PhongHoc.xlsx", "08000001", ROOMS["08000001"])
    write_rooms(tmp_path / YEAR / "08000099" / "PhongHoc.xlsx", "08000099", ROOMS["08000002"])
    con = raw_store.connect(":memory:")
    ingest_inbox(con, tmp_path, hash_key="k")
    rows = dict(con.execute("SELECT school_code, count(*) FROM raw_facility GROUP BY 1").fetchall())
    assert rows == {"08000001": len(ROOMS["08000001"])}
    status, code, reason = con.execute(
        "SELECT status, reason_code, reason FROM ingest_manifest WHERE source_file = ?",
        [f"{YEAR}/08000099/PhongHoc.xlsx"],
    ).fetchone()
    assert (status, code) == ("quarantined", "unknown_school")
    assert "không có trong danh sách trường" in reason and "08000099" in reason

    again = ingest_inbox(con, tmp_path, hash_key="k")
    assert not again.changed

    # without a registry for the year, folders are not judged
    other = tmp_path / "other"
    write_rooms(other / YEAR / "08000099" / "PhongHoc.xlsx", "08000099", ROOMS["08000002"])
    con2 = raw_store.connect(":memory:")
    ingest_inbox(con2, other, hash_key="k")
    assert con2.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == len(ROOMS["08000002"])


def test_misnamed_year_folder_is_reported_not_read(tmp_path: Path) -> None:
    """Issue 24: files under a top-level folder that is not a school year (`2024_2025`) are quarantined as
    `unexpected_folder`, never read (they would count in whatever year their content names, twice)."""
    write_rooms(tmp_path / YEAR / "08000001" / "PhongHoc.xlsx", "08000001", ROOMS["08000001"])
    write_rooms(tmp_path / "2024_2025" / "08000001" / "PhongHoc.xlsx", "08000001", ROOMS["08000001"])
    for school_year in (None, YEAR):  # walked for every year, and for one
        con = raw_store.connect(":memory:")
        ingest_inbox(con, tmp_path, school_year=school_year, hash_key="k")
        assert con.execute("SELECT count(*) FROM raw_facility").fetchone()[0] == len(ROOMS["08000001"])
        status, code, reason = con.execute(
            "SELECT status, reason_code, reason FROM ingest_manifest WHERE "
            "starts_with(source_file, '2024_2025/')"
        ).fetchone()
        assert (status, code) == ("quarantined", "unexpected_folder")
        assert "cần dạng 2024-2025" in reason and "2024_2025" in reason
