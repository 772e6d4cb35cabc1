"""The ingest asset's progress callback: a line at most every PROGRESS_EVERY_S, with the running count."""

from pipelines.assets.ingest import throttled_progress


def test_progress_logs_first_file_then_at_most_once_per_interval() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = throttled_progress(lines.append, every_s=10.0, clock=lambda: now[0])
    for i in range(100):  # 100 files, one every 0.5 s: 50 s in all
        progress(f"2024-2025/T{i:03d}/grades.xlsx")
        now[0] += 0.5
    assert len(lines) == 5  # at 0, 10, 20, 30, 40 s
    assert lines[0] == "ingesting file 1 of the changed ones: 2024-2025/T000/grades.xlsx"
    assert lines[1].startswith("ingesting file 21 of the changed ones: 2024-2025/T020/")
