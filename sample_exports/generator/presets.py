"""Scale presets (docs/exports.md §5) and the province skeleton: the list of schools with their static traits.

The skeleton is small (one object per school) and is built up front; everything per school and year is
built later, one school at a time, by `plan.py`.
"""

from __future__ import annotations

import csv
import functools
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from .ids import COMMUNE_WORDS

#: The official administrative units (the registry check reads the same file): generated schools get
#: real commune codes of their province, so that the registry check finds nothing to report.
ADMIN_UNITS_CSV = Path(__file__).resolve().parents[2] / "indicator_sets" / "seeds" / "admin_units.csv"

LEVEL_NAMES = {
    "TH": "Tiểu học",
    "THCS": "THCS",
    "THPT": "THPT",
    "TH_THCS": "TH&THCS",
    "THCS_THPT": "THCS&THPT",
    "TH_THCS_THPT": "TH, THCS&THPT",
    "GDTX": "GDTX",
}
LEVEL_GRADES = {
    "TH": range(1, 6),
    "THCS": range(6, 10),
    "THPT": range(10, 13),
    "TH_THCS": range(1, 10),
    "THCS_THPT": range(6, 13),
    "TH_THCS_THPT": range(1, 13),
    "GDTX": range(10, 13),
}
LEVEL_PREFIX = {
    "TH": "Trường Tiểu học",
    "THCS": "Trường THCS",
    "THPT": "Trường THPT",
    "TH_THCS": "Trường PTDTBT TH&THCS",
    "THCS_THPT": "Trường THCS&THPT",
    "TH_THCS_THPT": "Trường PT nhiều cấp học",
    "GDTX": "Trung tâm GDNN-GDTX",
}
PUPIL_RANGE = {
    "TH": (150, 1500),
    "THCS": (150, 1500),
    "THPT": (500, 2000),
    "TH_THCS": (100, 1000),
    "THCS_THPT": (100, 1000),
    "TH_THCS_THPT": (100, 1000),
    "GDTX": (100, 600),
}
PLATFORMS = (("vnedu", 0.5), ("smas", 0.4), ("misa", 0.1))


@dataclass(frozen=True)
class Preset:
    name: str
    province_code: str
    province_name: str
    n_schools: int
    pupils: int
    level_mix: tuple[tuple[str, float], ...]
    class_size: tuple[int, int]
    mountain: bool
    #: default share of schools sending real vendor exports (docs/real_exports.md R1–R9; `--real-exports`)
    real_share: float = 0.0


PRESETS: dict[str, Preset] = {
    "small": Preset("small", "08", "TUYÊN QUANG", 5, 2500, (), (15, 35), False, real_share=0.5),
    "province-mountain": Preset(
        "province-mountain",
        "14",
        "SƠN LA",
        600,
        250_000,
        (
            ("TH", 0.30),
            ("THCS", 0.25),
            ("TH_THCS", 0.20),
            ("THCS_THPT", 0.07),
            ("TH_THCS_THPT", 0.03),
            ("THPT", 0.10),
            ("GDTX", 0.05),
        ),
        (15, 30),
        True,
        real_share=0.3,
    ),
    "province-lowland": Preset(
        "province-lowland",
        "36",
        "NAM ĐỊNH",
        700,
        350_000,
        (
            ("TH", 0.45),
            ("THCS", 0.38),
            ("THPT", 0.12),
            ("TH_THCS", 0.02),
            ("THCS_THPT", 0.01),
            ("GDTX", 0.02),
        ),
        (30, 45),
        False,
        real_share=0.3,
    ),
    "hanoi-like": Preset(
        "hanoi-like",
        "01",
        "HÀ NỘI",
        2950,
        2_300_000,
        (
            ("TH", 0.40),
            ("THCS", 0.33),
            ("THPT", 0.17),
            ("TH_THCS", 0.03),
            ("THCS_THPT", 0.03),
            ("TH_THCS_THPT", 0.01),
            ("GDTX", 0.03),
        ),
        (35, 45),
        False,
        real_share=0.3,
    ),
}
# the largest province after the 2025 merger (issue 22: sizes past a province;
# `cds-bench --sizes province-hanoi`): the level mix, class sizes and real-export share of `hanoi-like`
PRESETS["province-hanoi"] = replace(
    PRESETS["hanoi-like"], name="province-hanoi", n_schools=2800, pupils=2_200_000
)


@dataclass
class School:
    """Static traits of one school (the same in every generated year)."""

    idx: int
    code: str
    name: str
    level: str
    province_code: str
    commune_code: str
    commune_name: str
    ownership: str
    managing_unit: str
    n_sites: int
    disadvantaged: bool
    has_internet: bool
    platform: str
    pupils: int
    class_size: tuple[int, int]
    maturity: float  # 0..1, drives how digital the school is
    seed: int
    formats: dict[str, str] = field(default_factory=dict)

    @property
    def grades(self) -> list[int]:
        return list(LEVEL_GRADES[self.level])


def _weighted(rng: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


@functools.cache
def _real_commune_codes(province_code: str) -> tuple[int, ...]:
    """Commune codes of a province before the 2025 reform (the generated school years), those that
    survived the reform first; empty when the file does not know the province."""
    with ADMIN_UNITS_CSV.open(encoding="utf-8", newline="") as fh:
        rows = [(r["era"], int(r["province_code"]), int(r["commune_code"])) for r in csv.DictReader(fh)]
    since = {c for era, _p, c in rows if era == "2025"}
    before = sorted(c for era, p, c in rows if era == "pre2025" and p == int(province_code))
    return tuple(sorted(c for c in before if c in since)) + tuple(c for c in before if c not in since)


def commune_code(province_code: str, k: int) -> str:
    """The k-th commune code of a generated province: a real one while the province has enough."""
    real = _real_commune_codes(province_code)
    return f"{real[k]:05d}" if k < len(real) else f"{int(province_code) * 1000 + 100 + k:05d}"


def build_schools(preset: Preset, seed: int) -> list[School]:
    """The province's schools for a preset (deterministic in `seed`)."""
    rng = random.Random(f"schools:{preset.name}:{seed}")
    n_communes = 3 if preset.name == "small" else max(20, preset.n_schools // 8)
    communes = []
    used: set[str] = set()
    for k in range(n_communes):
        while True:
            nm = f"{rng.choice(COMMUNE_WORDS)} {rng.choice(COMMUNE_WORDS)}"
            if nm not in used and nm.split()[0] != nm.split()[1]:
                used.add(nm)
                break
        kind = "Xã" if (preset.mountain or rng.random() < 0.6) else "Phường"
        communes.append((commune_code(preset.province_code, k), f"{kind} {nm}"))
    if preset.name == "small":
        levels = ["TH", "THCS", "THPT", "TH_THCS", "GDTX"]
        pupils = [240, 210, 240, 170, 120]
        platforms = ["vnedu", "smas", "vnedu", "misa", "smas"]
        maturity = [0.85, 0.55, 0.95, 0.3, 0.6]
    else:
        levels = [_weighted(rng, preset.level_mix) for _ in range(preset.n_schools)]
        raw = []
        for lv in levels:
            lo, hi = PUPIL_RANGE[lv]
            if preset.mountain and lv in ("TH_THCS", "THCS_THPT", "TH_THCS_THPT"):
                lo, hi = 80, 900
            raw.append(rng.triangular(lo, hi, lo))
        scale = preset.pupils / sum(raw)
        pupils = [max(60, round(r * scale)) for r in raw]
        platforms = [_weighted(rng, PLATFORMS) for _ in levels]
        maturity = [rng.betavariate(2.5, 2) for _ in levels]
    schools: list[School] = []
    name_count: dict[str, int] = {}
    for i, lv in enumerate(levels):
        ccode, cname = communes[i % len(communes)] if preset.name == "small" else rng.choice(communes)
        base = f"{LEVEL_PREFIX[lv]} {cname.split(' ', 1)[1]}"
        name_count[base] = name_count.get(base, 0) + 1
        name = base if name_count[base] == 1 else f"{base} số {name_count[base]}"
        multi = lv in ("TH_THCS", "THCS_THPT", "TH_THCS_THPT")
        n_sites = (
            rng.randint(3, 10) if (preset.mountain and multi) else (rng.randint(1, 3) if lv == "TH" else 1)
        )
        by_province = lv in ("THPT", "GDTX", "THCS_THPT", "TH_THCS_THPT")
        managing = "Sở GD&ĐT" if by_province else f"UBND {cname[0].lower()}{cname[1:]}"
        mat = maturity[i]
        schools.append(
            School(
                idx=i,
                code=f"{preset.province_code}{i + 1:06d}",
                name=name,
                level=lv,
                province_code=preset.province_code,
                commune_code=ccode,
                commune_name=cname,
                ownership="Tư thục" if rng.random() < 0.03 else "Công lập",
                managing_unit=managing,
                n_sites=n_sites,
                disadvantaged=(preset.mountain and rng.random() < 0.6) or (preset.name == "small" and i == 3),
                has_internet=rng.random() < 0.97,
                platform=platforms[i],
                pupils=pupils[i],
                class_size=(
                    preset.class_size[0],
                    min(preset.class_size[1], 30) if multi and preset.mountain else preset.class_size[1],
                ),
                maturity=mat,
                seed=rng.randrange(2**31),
            )
        )
    return schools
