"""Slow test: the province-mountain preset streams to disk with bounded memory (parent and workers)."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from sample_exports.generator.province import generate

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_province_mountain(tmp_path: Path) -> None:
    run = generate("province-mountain", 7, ["2024-2025"], tmp_path, 0.3)
    assert run.files > 5000
    # this process and the worker processes (ru_maxrss of children is the largest child)
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    assert peak_kib < 2 * 1024 * 1024
    lines = (tmp_path / "_truth" / "indicator_values.csv").read_text(encoding="utf-8").count("\n")
    assert lines > 600 * 29 * 0.9
