"""The indicator-set YAML and its check: the shipped file, broken copies, a province-specific criterion."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from indicator_sets.config import config_frames, load_config_tables
from indicator_sets.model import check, load_indicator_set
from indicator_sets.scoring import score_values
from pipelines.cli import main

pytestmark = pytest.mark.unit

YAML = Path(__file__).resolve().parents[2] / "indicator_sets" / "qd4725_2022.yaml"
LEAVES = [
    "1.1",
    "1.2",
    "1.3.1",
    "1.3.2",
    "1.3.3",
    "1.3.4",
    "1.3.5",
    "1.4",
    "1.5.1",
    "1.5.2",
    "1.6.1",
    "1.6.2",
    "1.6.3",
    "1.7.1",
    "1.7.2",
    "1.7.3",
    "2.1",
    "2.2",
    "2.3.1",
    "2.3.2",
    "2.3.3",
    "2.3.4",
    "2.3.5",
    "2.3.6",
    "2.3.7",
    "2.3.8",
    "2.4.1",
    "2.4.2",
    "2.4.3",
]


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "set" / "qd4725_2022.yaml"
    shutil.copytree(YAML.parent / "seeds", dst.parent / "seeds")
    shutil.copyfile(YAML, dst)
    return dst


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    return next(
        i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line
    )


def test_shipped_set_is_complete_and_warns_about_group_ii() -> None:
    iset, problems = check(YAML)
    assert iset is not None
    assert [c.code for c in iset.leaves()] == LEAVES
    assert iset.group_max_sum("DH") == 100
    assert iset.group_max_sum("QT") == 90
    warnings = [str(p) for p in problems if p.severity == "warning"]
    assert len(warnings) == 1 and "nhóm II" in warnings[0] and "90" in warnings[0]
    crit = iset.by_code()
    assert {c.code for c in iset.criteria if c.verified} == {"1.1", "1.2", "1.3", "1.3.1"}
    assert crit["1.3.1"].max_points == 6 and crit["1.1"].mandatory and crit["1.2"].mandatory
    assert [b.label for b in crit["1.3"].bands] == ["Dưới 10 điểm", "Từ 10 đến 20 điểm", "Trên 20 điểm"]
    assert crit["2.3.2"].rule.target == 0.95 and crit["2.3.4"].rule.target == 0.95
    assert crit["1.6.2"].rule.params["min_events"] == 5


def test_cli_check_exits_zero_and_names_group_ii() -> None:
    res = CliRunner().invoke(main, ["indicator-set", "check", str(YAML)], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "nhóm II (QT) có tổng điểm tối đa 90" in res.output


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "rule: {type: presence, min_count: 1, params: {metric: live_sessions}}",
            "rule: {type: percent, min_count: 1, params: {metric: live_sessions}}",
            "type: percent",
            "rule.type",
        ),
        ('  - code: "1.3.2"', '  - code: "1.3.1"', None, "bị trùng"),
        (
            '{label: "Từ 10 đến 20 điểm", min: 10, min_inclusive: true',
            '{label: "Từ 10 đến 20 điểm", min: 11, min_inclusive: true',
            'code: "1.3"',
            "có chỗ hở",
        ),
        ("    max_points: 30\n", "    max_points: 25\n", 'code: "1.3"', "vượt điểm tối đa"),
    ],
    ids=["unknown_rule_type", "duplicate_code", "band_gap", "points_above_max"],
)
def test_broken_copy_exits_non_zero_with_line(
    tmp_path: Path, old: str, new: str, needle: str | None, message: str
) -> None:
    path = _copy(tmp_path)
    _edit(path, old, new)
    iset, problems = check(path)
    assert iset is None
    errors = [p for p in problems if p.severity == "error"]
    assert any(message in p.message for p in errors), errors
    expected_line = (
        _line_of(path, needle)
        if needle
        else [
            i
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if line == '  - code: "1.3.1"'
        ][1]
    )
    assert any(p.line == expected_line for p in errors if message in p.message), errors
    res = CliRunner().invoke(main, ["indicator-set", "check", str(path)], terminal_width=200)
    assert res.exit_code != 0
    assert f"dòng {expected_line}" in res.output


def test_province_criterion_needs_no_code_change(tmp_path: Path) -> None:
    """A Sở adds 2.3.9 with an existing rule type: it loads, reaches cfg tables and is scored."""
    path = _copy(tmp_path)
    text = path.read_text(encoding="utf-8")
    addition = (
        '  - code: "2.3.9"\n'
        "    name: Phân hệ quản lý thư viện số (tiêu chí riêng của tỉnh)\n"
        "    group: QT\n"
        '    parent: "2.3"\n'
        "    max_points: 4\n"
        "    inputs: [facility]\n"
        "    rule: {type: ratio, target: 0.8, params: {room_type: [library]}}\n"
    )
    path.write_text(text.replace("# Reference tables", addition + "# Reference tables"), encoding="utf-8")
    _edit(path, "    max_points: 60\n", "    max_points: 64\n")
    iset = load_indicator_set(path)
    assert iset.group_max_sum("QT") == 94
    frames = config_frames(iset)
    params = frames["cfg_params"]
    assert params[(params.criterion_code == "2.3.9")]["value"].tolist() == ["library"]
    con = duckdb.connect()
    load_config_tables(con, iset)
    assert (
        con.execute("SELECT max_points FROM cfg_criteria WHERE criterion_code = '2.3.9'").fetchone()[0] == 4
    )
    import pandas as pd

    values = pd.DataFrame(
        [
            {
                "school_code": "S1",
                "school_year": "2024-2025",
                "criterion_code": "2.3.9",
                "numerator": 2.0,
                "denominator": 5.0,
                "value": 0.4,
                "status": "ok",
            }
        ]
    )
    assert score_values(values, iset)["points"].iloc[0] == 2.0  # 4 × min(1, 0.4 / 0.8)


def test_params_reach_sql_as_data() -> None:
    con = duckdb.connect()
    load_config_tables(con, YAML)
    rows = con.execute(
        "SELECT key, value FROM cfg_params WHERE criterion_code = '2.3.8' AND param = 'deadlines' "
        "ORDER BY key"
    ).fetchall()
    assert rows == [("CK1", "01-15"), ("CN", "05-31"), ("DN", "09-30")]
    assert con.execute("SELECT count(*) FROM cfg_subjects").fetchone()[0] > 40
    assert con.execute("SELECT tx_required FROM cfg_tx_required ORDER BY periods_above").fetchall() == [
        (2,),
        (3,),
        (4,),
    ]
