"""The figures `cds simulate` reports from run times (pipelines/simulate.py): the ratio to the sum ÷ slots,
the overlaps, and where the time outside the runs' own clocks went (launch → start, end → next launch).
The simulation itself is the slow test tests/integration/test_simulation.py."""

from __future__ import annotations

import pytest

from pipelines.simulate import RunTimes, Simulation, report_lines

pytestmark = pytest.mark.unit


T0 = 1_765_000_000.0  # seconds since the epoch (0.0 is "not known" in RunTimes)


def _run(run_id: str, province: str, launched: float, start: float, end: float) -> RunTimes:
    return RunTimes(run_id, province, "2024-2025", "SUCCESS", T0 + start, T0 + end, T0 + launched)


def _two_slots() -> Simulation:
    # slot 1: a (launched 0, runs 5–35), c (launched 36, runs 42–72); slot 2: b (launched 2.5, 8–38)
    runs = [
        _run("a", "01", 0.0, 5.0, 35.0),
        _run("b", "02", 2.5, 8.0, 38.0),
        _run("c", "04", 36.0, 42.0, 72.0),
    ]
    return Simulation(runs=runs, wall_seconds=72.0 - 5.0)


def test_launch_and_handoff_seconds() -> None:
    sim = _two_slots()
    assert sim.launch_seconds() == pytest.approx([5.0, 5.5, 6.0])
    assert sim.handoff_seconds() == pytest.approx(
        [1.0]
    )  # c: launched 1 s after a ended (b ended after c's launch)
    assert sim.overlapping(same_province=False) == [("a", "b")]


def test_runs_without_launch_times_report_no_split() -> None:
    runs = [RunTimes("a", "01", "2024-2025", "SUCCESS", T0 + 5.0, T0 + 35.0)]
    sim = Simulation(runs=runs, wall_seconds=30.0)
    assert sim.launch_seconds() == [] and sim.handoff_seconds() == []
    assert not any(line.startswith("Khởi động") for line in report_lines(sim))


def test_report_lines_name_the_split_in_vietnamese() -> None:
    lines = report_lines(_two_slots())
    assert lines[1].startswith("Thời gian thực: 67,0 giây; tổng thời gian các lượt: 90,0 giây")
    assert "tỉ lệ 1,49×" in lines[1]
    assert lines[4] == (
        "Khởi động mỗi lượt (hàng đợi phát lệnh → lượt bắt đầu tính giờ: tiến trình mới nạp mã nguồn): "
        "trung bình 5,5 giây, lâu nhất 6,0 giây"
    )
    assert lines[5].endswith("trung bình 1,0 giây, lâu nhất 1,0 giây")
