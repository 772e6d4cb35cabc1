"""A snapshot of the whole Dagster asset graph (issue 23): every asset's key, group, upstream keys and
partitioning, every asset check and the jobs, schedules and sensors, compared with the reviewed file
`tests/unit/snapshots/asset_graph.json`. A change to the graph fails here until the snapshot is
regenerated (`CDS_UPDATE_SNAPSHOTS=1 pytest tests/unit/test_asset_graph_snapshot.py`) and the diff is
reviewed with the change."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import build_definitions
from pipelines.settings import get_settings

pytestmark = pytest.mark.unit
SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_snapshot(defs: dg.Definitions) -> dict[str, object]:
    """The graph as plain, sorted data (no paths, nothing that depends on the machine)."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parts = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "materializable": node.is_materializable,
            "upstream": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": type(parts).__name__ if parts else None,
        }
    checks = sorted(f"{ck.asset_key.to_user_string()}:{ck.name}" for ck in graph.asset_check_keys)
    repo = defs.get_repository_def()
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in repo.get_all_jobs()),
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }


def test_asset_graph_matches_the_reviewed_snapshot(tmp_path: Path) -> None:
    settings = get_settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out")
    got = graph_snapshot(build_definitions(settings))
    text = json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("CDS_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.is_file(), "no snapshot yet: run with CDS_UPDATE_SNAPSHOTS=1 and review it"
    want = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    for part in ("jobs", "schedules", "sensors", "checks"):
        assert got[part] == want[part], (
            f"{part} changed: +{set(got[part]) - set(want[part])} -{set(want[part]) - set(got[part])}"
        )  # type: ignore[operator]
    assets, want_assets = got["assets"], want["assets"]
    assert isinstance(assets, dict)
    changed = sorted(k for k in set(assets) | set(want_assets) if assets.get(k) != want_assets.get(k))
    assert not changed, "assets changed: " + "; ".join(
        f"{k}: {want_assets.get(k)} → {assets.get(k)}" for k in changed
    )
