"""Issue 24: a byte-identical copy of an export beside it (`… - Copy.xlsx`, `(1).xlsx`) is read once: the
copy is quarantined as `duplicate_file` naming the original, the rooms are not counted twice, a run with
nothing new changes nothing, and the copy is read on its own once the original is gone. A copy of a file
loaded in an earlier run takes its rows out with it."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
SCHOOL = "08000001"


def _state(con: duckdb.DuckDBPyConnection) -> tuple[int, dict[str, tuple]]:
    rooms = con.execute("SELECT count(*) FROM raw_facility").fetchone()[0]
    files = {
        r[0].rsplit("/", 1)[1]: r[1:]
        for r in con.execute(
            "SELECT source_file, status, reason_code, reason FROM ingest_manifest"
        ).fetchall()
    }
    return rooms, files


def test_a_copy_is_read_once(tmp_path: Path) -> None:
    folder = tmp_path / YEAR / SCHOOL
    original, copy = folder / "PhongHoc.xlsx", folder / "PhongHoc - Copy.xlsx"
    write_rooms(original, SCHOOL, ROOMS[SCHOOL])
    shutil.copyfile(original, copy)
    con = raw_store.connect(":memory:")
    first = ingest_inbox(con, tmp_path, hash_key="k")
    rooms, files = _state(con)
    assert rooms == len(ROOMS[SCHOOL])  # not twice
    assert files["PhongHoc.xlsx"][:2] == ("loaded", None)
    status, code, reason = files["PhongHoc - Copy.xlsx"]
    assert (status, code) == ("quarantined", "duplicate_file")
    assert "bản sao" in reason and f"{YEAR}/{SCHOOL}/PhongHoc.xlsx" in reason
    assert first.quarantined == 1

    again = ingest_inbox(con, tmp_path, hash_key="k")  # nothing new: nothing changes
    assert not again.changed and again.skipped == 2

    original.unlink()  # the copy is all that is left: it is read
    ingest_inbox(con, tmp_path, hash_key="k")
    rooms, files = _state(con)
    assert rooms == len(ROOMS[SCHOOL]) and files["PhongHoc - Copy.xlsx"][:2] == ("loaded", None)
    assert files["PhongHoc.xlsx"][0] == "retired"


def test_a_copy_of_a_file_loaded_earlier(tmp_path: Path) -> None:
    folder = tmp_path / YEAR / SCHOOL
    write_rooms(folder / "PhongHoc (1).xlsx", SCHOOL, ROOMS[SCHOOL])
    con = raw_store.connect(":memory:")
    ingest_inbox(con, tmp_path, hash_key="k")
    shutil.copyfile(folder / "PhongHoc (1).xlsx", folder / "PhongHoc.xlsx")  # the original arrives later
    ingest_inbox(con, tmp_path, hash_key="k")
    rooms, files = _state(con)
    assert rooms == len(ROOMS[SCHOOL])
    assert files["PhongHoc.xlsx"][:2] == ("loaded", None)
    assert files["PhongHoc (1).xlsx"][:2] == ("quarantined", "duplicate_file")
    # the same bytes in another delivery folder are not a copy of this one (copies are found per folder)
    other = tmp_path / YEAR / "08000002" / "PhongHoc.xlsx"
    other.parent.mkdir()
    shutil.copyfile(folder / "PhongHoc.xlsx", other)
    ingest_inbox(con, tmp_path, hash_key="k")
    status = con.execute(
        "SELECT status, reason_code FROM ingest_manifest WHERE source_file = ?",
        [f"{YEAR}/08000002/PhongHoc.xlsx"],
    ).fetchone()
    assert status is not None and status[1] != "duplicate_file"
