"""Pre-flight guards (connectors/safety.py) on small generated inputs: each hostile shape gets its
reason code without the file being parsed."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from connectors.safety import MAX_COLUMNS, max_value_column, preflight
from tests.corpus.make_corpus import ROOM_HEAD, cfb, rezip, room_file, rooms, write_csv, xlsx_bytes, zip_bomb

pytestmark = pytest.mark.unit


@pytest.fixture()
def inbox(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    root.mkdir()
    return root


def put(inbox: Path, name: str, data: bytes) -> Path:
    path = inbox / name
    path.write_bytes(data)
    return path


def test_good_workbook_and_csv_pass(inbox: Path) -> None:
    assert preflight(put(inbox, "a.xlsx", xlsx_bytes({"P": room_file()})), inbox) is None
    assert preflight(write_csv(inbox / "a.csv", [ROOM_HEAD, *rooms()]), inbox) is None


def test_links_and_special_files(inbox: Path, tmp_path: Path) -> None:
    (inbox / "zero.csv").symlink_to("/dev/zero")
    assert preflight(inbox / "zero.csv", inbox) == ("unsafe_path", "liên kết trỏ ra ngoài thư mục nhận")
    os.mkfifo(inbox / "_fifo")
    (inbox / "fifo.csv").symlink_to(inbox / "_fifo")
    assert preflight(inbox / "fifo.csv", inbox)[0] == "unsafe_path"  # type: ignore[index]
    (inbox / "loop.csv").symlink_to(inbox / "loop.csv")
    assert preflight(inbox / "loop.csv", inbox)[0] == "unreadable_file"  # type: ignore[index]


def test_encrypted_ooxml_is_named_as_such(inbox: Path) -> None:
    enc = cfb({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": struct.pack("<Q", 10) + b"x" * 10})
    code, detail = preflight(put(inbox, "pw.xlsx", enc), inbox)  # type: ignore[misc]
    assert code == "unreadable_file" and "mật khẩu" in detail
    assert preflight(put(inbox, "bad.xls", cfb({"Workbook": b"x"})), inbox)[0] == "unreadable_file"  # type: ignore[index]
    sample = Path(__file__).resolve().parents[2] / "sample_exports/inbox/2024-2025/08000001/DS_Lop.xls"
    assert preflight(put(inbox, "good.xls", sample.read_bytes()), inbox) is None


def test_zip_guards(inbox: Path) -> None:
    assert preflight(put(inbox, "bomb.xlsx", zip_bomb(60)), inbox)[0] == "file_too_large"  # type: ignore[index]
    assert preflight(put(inbox, "lie.xlsx", zip_bomb(20, lie=True)), inbox)[0] == "unreadable_file"  # type: ignore[index]
    good = xlsx_bytes({"P": room_file()})
    macro = rezip(good, lambda n, b: b, {"xl/vbaProject.bin": b"VBA"})
    assert preflight(put(inbox, "m.xlsm", macro), inbox)[0] == "unsupported_type"  # type: ignore[index]
    wide = xlsx_bytes({"P": [ROOM_HEAD + ["x"] * MAX_COLUMNS]})
    assert preflight(put(inbox, "wide.xlsx", wide), inbox)[0] == "file_too_large"  # type: ignore[index]


def test_max_value_column_ignores_formatted_empty_cells() -> None:
    xml = (
        b'<c r="A1" t="s"><v>0</v></c><c r="XFD1048576" s="1"/><c '
        b'r="AB3"><f>1+1</f><v>2</v></c><c r="B2" t="inlineStr"><is><t>x</t></is></c>'
    )
    assert max_value_column(xml) == 28
    assert max_value_column(b'<x:c r="ZZ9" s="2"><x:v>1</x:v></x:c>') == 702


def test_csv_guards(inbox: Path) -> None:
    assert preflight(put(inbox, "bom.csv", b"\xef\xbb\xbf\r\n;;\r\n"), inbox)[0] == "empty_file"  # type: ignore[index]
    assert (
        preflight(put(inbox, "wide.csv", b",".join([b"c"] * (MAX_COLUMNS + 5)) + b"\n1\n"), inbox)[0]
        == "file_too_large"
    )  # type: ignore[index]


def test_path_checks_of_a_walk_equal_check_path(inbox: Path, tmp_path: Path) -> None:
    """`PathChecks` (a folder resolved once for all its files) gives `check_path`'s answer for every entry
    the connector's walk lists: regular files, links in and out, a linked folder, a FIFO, a dangling link,
    a name that is not UTF-8, a file over the size limit."""
    from connectors import safety
    from connectors.filedrop import iter_inbox, relative
    from connectors.safety import PathChecks, check_path

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.xlsx").write_bytes(xlsx_bytes({"P": room_file()}))
    school = inbox / "2024-2025" / "08000001"
    school.mkdir(parents=True)
    put(school, "a.xlsx", xlsx_bytes({"P": room_file()}))
    put(school, "b.csv", b"x,y\n1,2\n")
    (school / "link_in.xlsx").symlink_to(school / "a.xlsx")
    (school / "link_out.xlsx").symlink_to(outside / "o.xlsx")
    (school / "dangling.xlsx").symlink_to(school / "missing.xlsx")
    (inbox / "2024-2025" / "linked_school").symlink_to(outside, target_is_directory=True)
    os.mkfifo(school / "pipe.csv")
    put(school, os.fsdecode(b"t\xe9n.csv"), b"x,y\n1,2\n")
    big = put(school, "big.csv", b"x\n" * 10)
    checks = PathChecks(inbox)
    seen = 0
    old = safety.MAX_FILE_BYTES
    try:
        safety.MAX_FILE_BYTES = big.stat().st_size - 1
        for p in iter_inbox(inbox, "2024-2025"):
            assert checks.check(p, relative(p, inbox)) == check_path(p, inbox), p
            seen += 1
    finally:
        safety.MAX_FILE_BYTES = old
    assert seen >= 8
