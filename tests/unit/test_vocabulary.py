"""The vocabulary files (connectors/layouts/vocabulary/*.yaml) load, validate, and are what the parsers
read with: a word there changes what is parsed, without a code change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from connectors import normalize as nz
from connectors.vocabulary import VOCAB_DIR, load_vocabulary, vocabulary

pytestmark = pytest.mark.unit


def test_every_vocabulary_file_validates() -> None:
    voc = vocabulary()
    assert voc.common.title_lookup["nam hoc"] == "school_year"
    assert "Mã HS" in voc.common.synonyms_of("Mã học sinh")
    assert set(voc.subjects.comment_subjects) <= set(voc.subjects.subjects)


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "vocabulary"
    shutil.copytree(VOCAB_DIR, dest)
    return dest


def test_a_word_with_two_meanings_is_refused(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    p = d / "values.yaml"
    p.write_text(
        p.read_text(encoding="utf-8").replace("CN: [Cả năm, CN]", "CN: [Cả năm, CN, HK1]"), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="HK1"):
        load_vocabulary(d)


def test_a_symbol_only_word_outside_ticks_is_refused(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    p = d / "tt27.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("Chăm chỉ]", "Chăm chỉ, ✓]"), encoding="utf-8")
    with pytest.raises(ValueError, match="no letter or digit"):
        load_vocabulary(d)


def test_ticks_are_true_flags_and_female_marks() -> None:
    ticks = ["\uf0fc", "✓", "✔", "x", "X", "1"]
    vals, bad = nz.parse_flag(pd.Series([*ticks, "", "Không"], dtype=object))
    assert vals.tolist() == [True] * 6 + [False, False] and not bad.any()
    assert nz.parse_female_flag(pd.Series([*ticks, None], dtype=object)).tolist() == ["F"] * 6 + ["M"]


def test_period_semester_and_subject_words() -> None:
    assert nz.period_of("Giữa HK1") == "GK1" and nz.period_of("3") == "CN"
    assert nz.period_of("1") is None and nz.period_of("1", numeric_codes=True) == "CK1"
    assert nz.semester_of("Học kỳ II") == "2"
    assert nz.subject_code_of("LS&ĐL") == "LSDL" and nz.subject_code_of("Nghệ thuật (Âm nhạc)") == "AN"
