"""The fast ingest paths give the same results as the plain ones: value cleaning per distinct value,
HMAC per distinct value, and parsing in a process pool versus one file after another."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pandas as pd
import pytest

from connectors import filedrop, raw_store
from connectors import normalize as nz

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "connectors"))
import builders as B


def _clean_text_reference(s: pd.Series) -> pd.Series:
    s = s.astype("string")
    s = s.str.normalize("NFC").str.replace("\u00a0", " ", regex=False).str.strip()
    s = s.str.replace(r"^'\s*", "", regex=True)
    return s.mask(s == "")


def test_clean_text_matches_the_pandas_chain() -> None:
    vals = [
        "a",
        None,
        " 'x ",
        "\u00a0b",
        "",
        "'",
        " ' y",
        "Nguye\u0302\u0303n",
        "\t8,5\n",
        "\u2003z\u3000",
        "''q",
    ]
    rng = random.Random(7)
    for trial in range(100):
        s = pd.Series([rng.choice(vals) for _ in range(rng.randint(0, 25))], dtype=object)
        s.index = s.index + trial
        for inp in (s, s.astype("string")):
            want, got = _clean_text_reference(inp), nz.clean_text(inp)
            assert got.dtype == want.dtype
            assert got.equals(want)


def test_hmac_hex_hashes_each_value() -> None:
    s = pd.Series(["1", None, "1", "2"], dtype="string", index=[5, 6, 7, 8])
    got = nz.hmac_hex(s, "k")
    assert got.isna().tolist() == [False, True, False, False]
    assert got.iloc[0] == got.iloc[2] != got.iloc[3]
    assert got.index.tolist() == [5, 6, 7, 8]
    import hashlib
    import hmac

    assert got.iloc[3] == hmac.new(b"k", b"2", hashlib.sha256).hexdigest()


ROOM_HDR = [
    "STT",
    "Mã phòng",
    "Tên phòng",
    "Loại phòng",
    "Máy chiếu/Ti vi",
    "Kết nối Internet",
    "Số máy tính",
    "Số máy tính hoạt động",
]


def _rooms(n: int, bad: int = 0) -> list[list]:
    body = [[i, f"P{i:02d}", f"Phòng {i}", "Phòng học", "x", "", i, i] for i in range(1, n + 1)]
    body += [[n + i, f"Q{i:02d}", "Lạ", "Phòng bí ẩn", "x", "", 0, 0] for i in range(1, bad + 1)]
    return [
        *B.title("TRƯỜNG THCS A", "DANH SÁCH PHÒNG HỌC", "Năm học: 2024-2025"),
        ROOM_HDR,
        *body,
        *B.footer(n + bad),
    ]


def _dump(con) -> dict[str, list]:
    out = {}
    for t in ("raw_facility", "dq_quarantine_rows", "ingest_warnings", "ingest_manifest"):
        cols = [
            r[0]
            for r in con.execute(f"DESCRIBE {t}").fetchall()
            if r[0] not in ("ingested_at", "run_id", "recorded_at")
        ]
        sel = ", ".join(cols)
        out[t] = con.execute(f"SELECT {sel} FROM {t} ORDER BY ALL").fetchall()
    return out


@pytest.mark.slow
def test_pool_gives_the_sequential_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ib = tmp_path / "inbox"
    for i in range(6):
        B.write_xlsx(ib / "2024-2025" / f"0800012{i}" / "phong.xlsx", {"Phong": _rooms(3 + i, bad=i % 2)})
    (ib / "2024-2025" / "08000120" / "ghi_chu.txt").write_text("x")
    results = []
    for workers in (0, 2):
        con = raw_store.connect(":memory:")
        s = filedrop.ingest_inbox(con, ib, hash_key="k", workers=workers)
        assert s.files_seen == 7
        results.append(_dump(con))
    assert results[0] == results[1]


def test_a_batch_part_stores_only_the_rows_of_the_files_in_the_transaction(tmp_path: Path) -> None:
    """Files parsed together share their packed rows; a transaction that stores some of them writes those
    files' rows only (each file stays atomic with its manifest row), and the rest follow with theirs."""
    from connectors.filedrop import ParseJob, StoreItem, delivery_of, pack, parse_files, store_files
    from connectors.sheet_parser import ParseContext

    ib = tmp_path / "inbox"
    paths = []
    for i in range(3):
        p = ib / "2024-2025" / f"0800014{i}" / "phong.xlsx"
        B.write_xlsx(p, {"Phong": _rooms(2 + i)})
        paths.append(p)
    jobs = []
    for p in paths:
        rel = p.relative_to(ib).as_posix()
        fy, fs = delivery_of(Path(rel))
        jobs.append(ParseJob(p, rel, ParseContext(file=rel, folder_year=fy, folder_school=fs)))
    results = pack(parse_files(jobs))
    shared = {id(part) for r in results for part in r.parts or []}
    assert len(shared) == 1  # one part for the three files (one group of sheets)
    con = raw_store.connect(":memory:")
    raw_store.ensure_schema(con)
    filedrop.ensure_manifest_columns(con)
    items = [
        StoreItem(r, "2024-2025", delivery_of(Path(r.source_file))[1], False, None, True) for r in results
    ]
    store_files(con, items[:1], "t")
    got = con.execute("SELECT source_file, count(*) FROM raw_facility GROUP BY 1").fetchall()
    assert got == [(results[0].source_file, 2)]
    store_files(con, items[1:], "t")
    got = dict(con.execute("SELECT source_file, count(*) FROM raw_facility GROUP BY 1").fetchall())
    assert got == {r.source_file: n for r, n in zip(results, (2, 3, 4), strict=True)}
    assert con.execute("SELECT count(*) FROM ingest_manifest").fetchone()[0] == 3
