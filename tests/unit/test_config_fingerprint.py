"""The no-change check's configuration fingerprint: the settings and files that change the outputs of
unchanged inputs (the code mapping, the ranking groups, the season's dates) make `cds run` run again."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.inbox_state import config_fingerprint
from pipelines.runner import OUTPUT_SETTINGS
from pipelines.settings import get_settings

pytestmark = pytest.mark.unit


def _fp(tmp_path: Path, **overrides: object) -> str:
    s = get_settings(
        inbox=tmp_path / "in", warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out", **overrides
    )
    return config_fingerprint(s.indicator_set, [s.code_mapping], s.model_dump(include=OUTPUT_SETTINGS))


def test_output_settings_and_the_mapping_file_change_the_fingerprint(tmp_path: Path) -> None:
    base = _fp(tmp_path)
    assert _fp(tmp_path) == base
    assert _fp(tmp_path, thi_dua_groups=["commune"]) != base
    assert _fp(tmp_path, season_warn_days=3) != base
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("a\n", encoding="utf-8")
    with_mapping = _fp(tmp_path, code_mapping=mapping)
    assert with_mapping != base
    mapping.write_text("b\n", encoding="utf-8")
    assert _fp(tmp_path, code_mapping=mapping) != with_mapping
    assert _fp(tmp_path, lock_wait_seconds=5) == base  # a setting that changes no output
