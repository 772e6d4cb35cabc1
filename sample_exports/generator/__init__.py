"""Synthetic province generator (issue 3): emits every export layout and quirk of docs/exports.md and the
truth.

Modules: presets (scale + school skeleton), plan (per school-year records), curriculum (§4 rules),
layouts (one builder per reference layout), sheets (grid model + cell quirks), writers (file formats +
container quirks), quirks (switch choice), truth (indicator values, findings, levels), rules (constants
mirroring docs/indicators.md), selfassess (planted self-assessments), province (orchestration), cli;
real_* (the real vendor exports of docs/real_exports.md R1–R9 and their expected readings; each preset
has a default share of schools sending them, `Preset.real_share`; the committed sample is `small` at 0).
"""
