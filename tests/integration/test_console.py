"""A clean console: `cds run` with its output going to files (as in a CI log) prints no library warning
(Dagster's PreviewWarning on partitioned checks used to appear on every run) and does not wrap its lines
at 80 columns; the summary is Vietnamese with decimal commas."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_slice import ROOMS, YEAR, write_rooms

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a whole `cds run` in a subprocess (~40 s)


def test_cds_run_console_is_clean_and_unwrapped(tmp_path: Path) -> None:
    deep = tmp_path / "mot_thu_muc_rat_dai_de_dong_dau_tien_vuot_qua_tam_muoi_cot" / "kho"
    inbox = tmp_path / "inbox"
    for school, rooms in ROOMS.items():
        write_rooms(inbox / YEAR / school / "phong_hoc.xlsx", school, rooms)
    cds = Path(sys.executable).with_name("cds")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")} | {
        "COLUMNS": "80",
        "CDS_INGEST_SETTLE_SECONDS": "0",
    }
    with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
        done = subprocess.run(
            [
                str(cds),
                "run",
                "--inbox",
                str(inbox),
                "--warehouse",
                str(deep / "wh.duckdb"),
                "--out",
                str(tmp_path / "out"),
                "--year",
                YEAR,
            ],
            stdout=out,
            stderr=err,
            env=env,
            timeout=600,
        )
    stdout = (tmp_path / "out.txt").read_text(encoding="utf-8")
    stderr = (tmp_path / "err.txt").read_text(encoding="utf-8")
    assert done.returncode == 0, stdout + stderr
    assert "Warning" not in stderr and "Warning" not in stdout, stderr
    first = next(line for line in stdout.splitlines() if line.startswith("Chạy pipeline năm học"))
    assert len(first) > 80 and first.endswith(f"kho dữ liệu: {deep / 'wh.duckdb'}")  # one line, not wrapped
    assert "Phát hiện theo mức độ: cao" in stdout and " giây" in stdout
    assert not any(line.rstrip().endswith(" s") for line in stdout.splitlines())
