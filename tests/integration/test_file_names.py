"""Issue 24: a file is known by a key that is one-to-one with the raw bytes of its path
(`connectors.inbox.file_key`), so files whose names print alike — the NFC and NFD spellings of a
Vietnamese name, a name with a zero-width space, a name with a byte that is not UTF-8 beside a name that
spells that byte as text — are all recorded and every readable one loads (before, two of them collided in
the manifest and the ingest step failed for the whole province). People see each name in an escaped
form that shows what differs; the other schools' rows are those of a run without these files."""

from __future__ import annotations

import os
import shutil
import unicodedata
from pathlib import Path

import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from connectors.inbox import file_key
from pipelines import inbox_state
from reports.data_quality import collect, render
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
S = f"{YEAR}/08000001"
REGISTRY = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox" / YEAR / "province"


def test_file_key_is_one_to_one_and_shows_the_difference() -> None:
    nfc, nfd = unicodedata.normalize("NFC", "Phòng.xlsx"), unicodedata.normalize("NFD", "Phòng.xlsx")
    assert file_key(nfc) == nfc and file_key("2024-2025/08000001/phong hoc.xlsx").endswith("phong hoc.xlsx")
    assert file_key(nfd) == "Pho\\u0300ng.xlsx"
    assert file_key("Phòng\u200b.xlsx") == "Phòng\\u200b.xlsx"
    assert file_key("Phòng\u00a0học.xlsx") == "Phòng\\u00a0học.xlsx"
    assert file_key(os.fsdecode(b"a\xff.xlsx")) == "a\\xff.xlsx"
    assert file_key("a\\xff.xlsx") == "a\\\\xff.xlsx"
    names = [nfc, nfd, "Phòng\u200b.xlsx", os.fsdecode(b"a\xff.xlsx"), "a\\xff.xlsx", "a\\\\xff.xlsx"]
    assert len({file_key(n) for n in names}) == len(names)


def test_names_that_print_alike_all_load(tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(REGISTRY, base / YEAR / "province")
    for school in ("08000002", "08000003"):
        write_rooms(base / YEAR / school / "PhongHoc.xlsx", school, ROOMS[school])
    root = tmp_path / "in"
    shutil.copytree(base, root)
    folder = root / S
    rooms = ROOMS["08000001"]
    write_rooms(folder / unicodedata.normalize("NFC", "Phòng.xlsx"), "08000001", rooms[0:1])
    write_rooms(folder / unicodedata.normalize("NFD", "Phòng.xlsx"), "08000001", rooms[1:2])
    write_rooms(folder / "Phòng\u200b.xlsx", "08000001", rooms[2:3])
    write_rooms(folder / "a\\xff.xlsx", "08000001", rooms[3:4])
    write_rooms(Path(os.fsdecode(os.fsencode(folder) + b"/a\xff.xlsx")), "08000001", rooms[0:1])

    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    got = dict(
        con.execute(
            "SELECT source_file, coalesce(reason_code, status) FROM ingest_manifest WHERE source_file LIKE ?",
            [f"{S}/%"],
        ).fetchall()
    )
    assert got == {
        f"{S}/Phòng.xlsx": "loaded",
        f"{S}/Pho\\u0300ng.xlsx": "loaded",
        f"{S}/Phòng\\u200b.xlsx": "loaded",
        f"{S}/a\\\\xff.xlsx": "loaded",
        f"{S}/a\\xff.xlsx": "unsafe_path",  # not UTF-8: recorded, not read
    }
    by_file = con.execute(
        "SELECT source_file, room_code FROM raw_facility WHERE school_code = '08000001' ORDER BY 2"
    ).fetchall()
    assert [r[1] for r in by_file] == ["P01", "P02", "P03", "P04"]
    assert len({r[0] for r in by_file}) == 4

    clean = raw_store.connect(":memory:")
    ingest_inbox(clean, base, YEAR, hash_key="k")
    others = "SELECT * EXCLUDE (ingested_at) FROM raw_facility WHERE school_code <> '08000001' ORDER BY ALL"
    assert con.execute(others).fetchall() == clean.execute(others).fetchall()

    html = render(collect(con, YEAR, with_audits=False))
    assert "a\\xff.xlsx" in html and "unsafe_path" in html

    again = ingest_inbox(con, root, YEAR, hash_key="k")
    assert not again.changed and again.skipped == again.files_seen

    # the no-change check of `cds run` knows these files by the same keys
    snap = inbox_state.snapshot(root, YEAR)
    inbox_state.record_state(con, YEAR, snap, "cfg")
    assert not inbox_state.check_changes(con, root, YEAR, snap, "cfg").has_changes
