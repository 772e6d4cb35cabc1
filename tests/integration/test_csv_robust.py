"""Issue 24: CSV line ends and legacy encodings. A room list saved with CR-only or mixed line ends loads
every row (before, the whole file was lost with an English Python message); a file in a legacy
Vietnamese 8-bit encoding is quarantined as `bad_encoding` naming the likely encoding and how to save it
as UTF-8; the other schools load as in a run without these files."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from connectors.readers import legacy_encoding
from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = pytest.mark.integration
S = f"{YEAR}/08000001"
HEADER = "STT,Mã phòng,Tên phòng,Loại phòng,Máy chiếu/Ti vi,Kết nối Internet"
LINES = [HEADER] + [f"{i},C{i},Phòng C{i},Phòng học,x,x" for i in range(1, 6)]


def cp1258(text: str) -> bytes:
    """Text as Windows-1258 writes it: letters with ^, ( or + precomposed, tone marks combining."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        d = unicodedata.normalize("NFD", ch)
        tone = d[-1] if d[-1] in "\u0300\u0301\u0303\u0309\u0323" else ""
        out.append(unicodedata.normalize("NFC", d[:-1]) + tone if tone else ch)
    return "".join(out).encode("cp1258")


def test_line_ends_and_legacy_encodings(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for school, rooms in ROOMS.items():
        write_rooms(root / YEAR / school / "PhongHoc.xlsx", school, rooms)
    clean = raw_store.connect(":memory:")
    ingest_inbox(clean, root, YEAR, hash_key="k")

    folder = root / S
    (folder / "cr.csv").write_bytes("\r".join(LINES).encode() + b"\r")
    mixed = LINES[0] + "\r\n" + LINES[1] + "\r" + LINES[2] + "\n" + "\r\n".join(LINES[3:]) + "\r"
    (folder / "tron.csv").write_bytes(mixed.encode())
    (folder / "cp1258.csv").write_bytes(cp1258("\r\n".join(LINES).replace("Phòng học", "Phòng học mới")))
    tcvn3 = b"STT,M\xb8 ph\xdfng,T\xaan ph\xdfng\r\n1,C1,Ph\xdfng h\xe4c\r\n"  # "Mã phòng…" in TCVN3 bytes
    (folder / "tcvn3.csv").write_bytes(tcvn3)

    con = raw_store.connect(":memory:")
    ingest_inbox(con, root, YEAR, hash_key="k")
    for name in ("cr.csv", "tron.csv"):
        codes = con.execute(
            "SELECT room_code FROM raw_facility WHERE source_file = ? ORDER BY source_row", [f"{S}/{name}"]
        ).fetchall()
        assert [c[0] for c in codes] == [f"C{i}" for i in range(1, 6)], name
    for name, guess in (("cp1258.csv", "Windows-1258"), ("tcvn3.csv", "TCVN3 (ABC) hoặc VNI")):
        code, reason = con.execute(
            "SELECT reason_code, reason FROM ingest_manifest WHERE source_file = ?", [f"{S}/{name}"]
        ).fetchone()
        assert code == "bad_encoding" and f"có vẻ là bảng mã cũ {guess}" in reason and "CSV UTF-8" in reason
    q = (
        "SELECT * EXCLUDE (ingested_at) FROM raw_facility WHERE NOT ends_with(source_file, "
        "'.csv') ORDER BY ALL"
    )
    assert con.execute(q).fetchall() == clean.execute(q).fetchall()


def test_legacy_encoding_guess() -> None:
    assert legacy_encoding(b"plain ascii") is None
    assert legacy_encoding("Mã trường".encode("utf-16")) == "UTF-16"
    assert legacy_encoding(cp1258("Trường Tiểu học Thủy Thượng")) == "Windows-1258"
