"""The bookkeeping of files written from a fingerprint (reports/written_files.py) on a real DuckDB file
and real files: what the fingerprint tells apart, and when a file counts as up to date."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from reports.written_files import WrittenFiles, fingerprint, rows_by


def test_fingerprint_tells_apart_values_types_and_order() -> None:
    base = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", None]})
    same = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", None]})
    assert fingerprint(base) == fingerprint(same)
    variants = [
        pd.DataFrame({"a": [1.0, 2.0000000001], "b": ["x", None]}),  # a tiny change of a number
        pd.DataFrame({"a": [1, 2], "b": ["x", None]}),  # the column's type
        pd.DataFrame({"a": [1.0, 2.0], "b": pd.Series(["x", None], dtype=object)}),  # the text type
        pd.DataFrame({"a": [1.0, 2.0], "b": ["x", ""]}),
        pd.DataFrame({"a": [2.0, 1.0], "b": [None, "x"]}),  # row order
        pd.DataFrame({"b": ["x", None], "a": [1.0, 2.0]}),  # column order
        pd.DataFrame({"a": [1.0, 2.0], "b": ["x", None]}, index=[1, 2]),
    ]
    prints = {fingerprint(v) for v in variants}
    assert len(prints) == len(variants) and fingerprint(base) not in prints
    assert fingerprint([("Mã trường", "1")], ["a"]) != fingerprint([("Mã trường", "1"), "a"])


def test_a_file_is_up_to_date_only_with_its_fingerprint_and_bytes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    a, b = out / "a.html", out / "b.html"
    state = WrittenFiles.load(con, "2024-2025", "test", out)
    assert not state.up_to_date([a], "fp1")  # nothing recorded
    for p in (a, b):
        p.write_text(p.name, encoding="utf-8")
        state.wrote(p, "fp1")
    state.save(con)

    state = WrittenFiles.load(con, "2024-2025", "test", out)
    assert state.up_to_date([a, b], "fp1")
    assert not state.up_to_date([a], "fp2")  # what the file is made from changed
    b.write_text("edited", encoding="utf-8")
    assert not state.up_to_date([b], "fp1")  # edited on disk
    a.unlink()
    assert not state.up_to_date([a], "fp1")  # missing on disk
    assert WrittenFiles.load(con, "2023-2024", "test", out).recorded == {}  # per school year

    state = WrittenFiles.load(con, "2024-2025", "test", out)
    state.save(con)  # neither written nor kept this time: forgotten
    assert con.execute("SELECT count(*) FROM ops_export_files").fetchone() == (0,)
    con.close()


def test_rows_by_groups_tell_apart_what_fingerprint_tells_apart() -> None:
    base = pd.DataFrame({"school_code": ["1", "2", "1", None], "v": [1.0, 2.0, 3.0, 4.0]})
    head, groups = rows_by(base, "school_code")
    assert sorted(groups) == ["1", "2"]  # a row without a code belongs to no school
    assert rows_by(base.iloc[[2, 0, 1]], "school_code")[1]["1"] != groups["1"]  # row order
    assert rows_by(base.set_axis([5, 6, 7, 8]), "school_code") == (head, groups)  # the index is left out
    changed = base.assign(v=[1.0, 2.0, 3.0000000001, 4.0])
    assert rows_by(changed, "school_code")[1] == {
        "1": rows_by(changed, "school_code")[1]["1"],
        "2": groups["2"],
    }
    assert rows_by(changed, "school_code")[1]["1"] != groups["1"]  # a tiny change of one school's number
    assert rows_by(base.astype({"v": "float32"}), "school_code")[0] != head  # the column's type
    assert rows_by(base.iloc[:0], "school_code") == (head, {})
