"""No silent loss on every generator preset with its real structures (issue 19): each preset generated
with its default share of schools sending real vendor exports (`Preset.real_share`), ingested, and
checked like the sample inbox (tests/integration/test_accounting.py): 0 sheets and 0 non-empty columns
unaccounted.

`small` is generated whole (default suite); the others are marked slow. The other presets
(province-mountain, province-lowland, hanoi-like, the bench's `medium`, and any preset added later) are
**scaled down** to keep the test minutes, not hours:
their own school skeleton (same seed, same levels, platforms and sizes) reduced to, per platform, the
smallest real school with primary classes, the smallest real school with secondary classes, plus the
smallest school that is not real; the real/not-real choice is the preset's default share, unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import raw_store
from connectors.filedrop import ingest_inbox
from sample_exports.generator import real_province as RE
from sample_exports.generator.presets import PRESETS, Preset, School
from sample_exports.generator.real_common import read_expected
from sample_exports.medium import register_medium
from tests.integration.test_accounting import _account

pytestmark = pytest.mark.integration
SEED = 7
YEAR = "2024-2025"

register_medium()


def scaled_down(schools: list[School], preset: Preset) -> list[School]:
    """Per platform the smallest real school with primary and with secondary classes, and the smallest
    school that is not real (in the preset's own order)."""
    opts = RE.RealOptions(preset.real_share)
    by_size = sorted(schools, key=lambda s: s.pupils)
    picked: dict[int, School] = {}
    for platform in ("vnedu", "smas", "misa"):
        mine = [s for s in by_size if s.platform == platform and RE.is_real(opts, SEED, s)]
        for wants in (lambda s: min(s.grades) <= 5, lambda s: max(s.grades) >= 6):
            first = next((s for s in mine if wants(s)), None)
            if first is not None:
                picked[first.idx] = first
    plain = next(s for s in by_size if not RE.is_real(opts, SEED, s))
    picked[plain.idx] = plain
    return [picked[i] for i in sorted(picked)]


@pytest.mark.parametrize(
    "preset",
    # the scaled-down presets take 1–2 minutes each on a loaded machine: slow (`make test-slow`, CI)
    [name if name == "small" else pytest.param(name, marks=pytest.mark.slow) for name in sorted(PRESETS)],
)
def test_every_preset_with_its_real_exports_every_sheet_and_column_accounted(
    preset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sample_exports.generator.province as P

    p = PRESETS[preset]
    assert p.real_share > 0, f"preset {preset} sends no real exports by default"
    if preset != "small":
        full = P.build_schools
        monkeypatch.setattr(P, "build_schools", lambda pr, seed: scaled_down(full(pr, seed), pr))
    inbox = tmp_path / "inbox"
    P.generate(preset, SEED, [YEAR], inbox, 1.0, workers=1)  # no `real`: the preset's default share
    structures = {read_expected(e).structure for e in (inbox / RE.EXPECTED_DIR).rglob("*.json")}
    assert {"R7", "R8"} <= structures and len(structures) >= 4, structures
    con = raw_store.connect(str(tmp_path / "w.duckdb"))
    ingest_inbox(con, inbox, hash_key="test")
    acc = _account(con, inbox)
    assert acc.n_sheets > 100 and acc.n_cols > 1000, (acc.n_sheets, acc.n_cols)
    assert acc.unaccounted_sheets == []
    assert acc.unaccounted_cols == []
