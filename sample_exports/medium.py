"""The `medium` preset: province-mountain scaled to 60 schools (pupils scaled alike).

It is not one of the generator's own presets: `register_medium()` adds it to the preset table of the
running process, so the generator code stays untouched. Used by the benchmark (`cds-bench`, size
`medium`) and by the medium truth test (`tests/integration/test_truth_medium.py`).
"""

from __future__ import annotations

from dataclasses import replace

MEDIUM = "medium"
MEDIUM_SCHOOLS = 60


def register_medium() -> None:
    """Add the `medium` preset to the generator's preset table of this process (idempotent)."""
    from sample_exports.generator.presets import PRESETS

    if MEDIUM not in PRESETS:
        base = PRESETS["province-mountain"]
        scale = MEDIUM_SCHOOLS / base.n_schools
        PRESETS[MEDIUM] = replace(
            base, name=MEDIUM, n_schools=MEDIUM_SCHOOLS, pupils=round(base.pupils * scale)
        )
