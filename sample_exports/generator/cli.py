"""The `generate` click command (registered by the lead as `cds generate`)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from .presets import PRESETS
from .province import generate as run_generate
from .real_province import STRUCTURES, RealOptions

YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")


def _years(value: str) -> list[str]:
    years = [y.strip() for y in value.split(",") if y.strip()]
    for y in years:
        m = YEAR_RE.match(y)
        if not m or int(m.group(2)) != int(m.group(1)) + 1:
            raise click.BadParameter(f"năm học không hợp lệ: {y!r} (dạng 2024-2025)")
    return years


@click.command("generate")
@click.option("--preset", type=click.Choice(list(PRESETS)), default="small", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--years", default="2024-2025", show_default=True, help="Comma-separated school years.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--messiness", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Worker processes for presets other than `small` (0: min(2, CPUs)); output does not depend on it.",
)
@click.option(
    "--real-exports",
    type=click.FloatRange(0, 1),
    default=None,
    help="Share of schools sending real vendor exports (docs/real_exports.md R1–R9); default: the preset's "
    + ", ".join(f"{p.name} {p.real_share:g}" for p in PRESETS.values())
    + " (0: contract files only, as the committed sample inbox).",
)
@click.option(
    "--real-structures",
    default=",".join(sorted(STRUCTURES)),
    show_default=True,
    help="Which real structures to emit (comma-separated R1…R9).",
)
@click.option(
    "--key-synonym-share",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of grade-book sheets whose student-key header reads `Mã số học sinh`.",
)
def generate(
    preset: str,
    seed: int,
    years: str,
    out: Path,
    messiness: float,
    quiet: bool,
    workers: int,
    real_exports: float | None,
    real_structures: str,
    key_synonym_share: float,
) -> None:
    """Generate a synthetic province inbox (with `_truth/`) for the CĐS pipeline."""
    year_list = _years(years)
    wanted = frozenset(x.strip().upper() for x in real_structures.split(",") if x.strip())
    if not wanted <= STRUCTURES:
        raise click.BadParameter(f"cấu trúc không hợp lệ: {sorted(wanted - STRUCTURES)} (R1…R9)")
    share = PRESETS[preset].real_share if real_exports is None else real_exports
    real = RealOptions(share, key_synonym_share, wanted)
    t0 = time.perf_counter()
    if quiet:
        run = run_generate(preset, seed, year_list, out, messiness, workers=workers or None, real=real)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as prog:

            def track(items: Iterable[Any], total: int, label: str) -> Iterable[Any]:
                task = prog.add_task(f"{preset} {label}", total=total)
                for x in items:
                    yield x
                    prog.advance(task)

            run = run_generate(
                preset, seed, year_list, out, messiness, progress=track, workers=workers or None, real=real
            )
    click.echo(
        f"{run.files} files, {len(run.layouts_seen)} layouts -> {out} in {time.perf_counter() - t0:.1f}s"
    )
