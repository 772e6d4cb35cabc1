"""Generated inboxes for the benchmark, cached under benchmarks/cache/ (gitignored), and the 5% change.

Sizes: `small`, `province-mountain` and `province-hanoi` (≈2,800 schools, 2.2 M pupils) are the
generator's presets; `medium` is province-mountain
scaled to 60 schools (`sample_exports.medium`, registered at run time in this process only, so the
generator code is not edited). The cache key holds preset, seed, years, messiness and the git tree
hash of sample_exports/generator (plus a content hash of uncommitted generator edits).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

from benchmarks.core import cache_key, n_to_change, select_sample
from sample_exports.medium import register_medium

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / "benchmarks" / "cache"
GENERATOR_DIR = REPO_ROOT / "sample_exports" / "generator"
SIZES = ("small", "medium", "province-mountain", "province-hanoi")
DONE = ".bench-complete.json"


def generator_tree_hash() -> str:
    """`git rev-parse HEAD:sample_exports/generator`, suffixed with a hash of uncommitted edits; a plain
    content hash of the generator's files when git is not available."""
    content = hashlib.sha256()
    for p in sorted(GENERATOR_DIR.rglob("*.py")):
        content.update(p.relative_to(GENERATOR_DIR).as_posix().encode())
        content.update(p.read_bytes())
    try:
        tree = subprocess.run(
            ["git", "rev-parse", "HEAD:sample_exports/generator"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sample_exports/generator"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "c" + content.hexdigest()[:15]
    return f"{tree[:12]}{('+' + content.hexdigest()[:8]) if dirty else ''}"


def school_count(size: str) -> int:
    """Schools of a size (for extrapolation)."""
    register_medium()
    from sample_exports.generator.presets import PRESETS

    return PRESETS[size].n_schools


def ensure_inbox(size: str, seed: int, years: list[str], messiness: float, log=print) -> tuple[Path, dict]:
    """The cached inbox of a size (generated on first use); returns (inbox, cache info)."""
    register_medium()
    from sample_exports.generator.province import generate

    tree = generator_tree_hash()
    key = cache_key(size, seed, years, messiness, tree)
    root = CACHE_DIR / key
    done = root / DONE
    if done.is_file():
        info = json.loads(done.read_text(encoding="utf-8"))
        info["cached"] = True
        return root / "inbox", info
    tmp = CACHE_DIR / f".tmp-{key}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"generating {size} (seed {seed}, years {','.join(years)}, messiness {messiness:g}) → {root}")
    t0 = time.perf_counter()
    run = generate(size, seed, years, tmp / "inbox", messiness)
    info = {
        "key": key,
        "size": size,
        "seed": seed,
        "years": years,
        "messiness": messiness,
        "generator_tree": tree,
        "files": run.files,
        "generate_s": round(time.perf_counter() - t0, 1),
    }
    (tmp / DONE).write_text(json.dumps(info, indent=2), encoding="utf-8")
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    info["cached"] = False
    return root / "inbox", info


def year_files(inbox: Path, school_year: str) -> list[Path]:
    """The files the pipeline reads for `year` (the connector's own walk)."""
    from connectors.filedrop import iter_inbox

    return list(iter_inbox(inbox, school_year))


def work_copy(inbox: Path, dest: Path) -> Path:
    """A fresh copy of a cached inbox to run on (the cache is never modified)."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(inbox, dest, ignore=shutil.ignore_patterns("_truth"))
    return dest


def change_candidates(inbox: Path, school_year: str) -> list[str]:
    """Files the 5% change may touch: the year's .xlsx files (their content can be changed without
    changing any cell data), as paths relative to the inbox."""
    return [
        p.relative_to(inbox).as_posix() for p in year_files(inbox, school_year) if p.suffix.lower() == ".xlsx"
    ]


def pick_changes(inbox: Path, school_year: str, fraction: float, seed: int) -> list[str]:
    """The deterministic sample: `fraction` of all the year's files, drawn from the candidates."""
    total = len(year_files(inbox, school_year))
    return select_sample(change_candidates(inbox, school_year), n_to_change(total, fraction), seed)


_NUM_CELL = re.compile(rb'(<c r="[A-Z]+\d+"(?: s="\d+")?(?: t="n")?>)<v>(-?\d+(?:\.\d+)?)</v>')


def _bump(value: bytes) -> bytes:
    """A different number of the same kind: one less (one more below 1), decimals kept."""
    num = float(value)
    new = num - 1 if num >= 1 else num + 1
    return (str(int(new)) if b"." not in value else repr(round(new, 6))).encode()


def touch_xlsx(path: Path, stamp: str) -> bool:
    """Change a workbook as a school's re-export would: the last plain-number cell of its first worksheet
    changes by one (a mark, an amount, a count or a date serial: a real change of data that every later
    stage has to see) and the document property `docProps/core.xml` gets an XML comment, so sha256, mtime
    and the rows change. Returns whether a cell was changed (a sheet of text only keeps its cells)."""
    src = path.read_bytes()
    buf = io.BytesIO()
    changed = False
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        names = zin.namelist()
        sheets = sorted(n for n in names if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
        first = sheets[0] if sheets else None
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = data.rstrip() + f"<!-- cds-bench {stamp} -->".encode()
            elif item.filename == first:
                hits = list(_NUM_CELL.finditer(data))
                if hits:
                    m = hits[-1]
                    data = data[: m.start(2)] + _bump(m.group(2)) + data[m.end(2) :]
                    changed = True
            zout.writestr(item, data)
        if "docProps/core.xml" not in names:  # no property part: add an unreferenced custom XML part
            zout.writestr("customXml/cds-bench.xml", f"<bench>{stamp}</bench>")
    path.write_bytes(buf.getvalue())
    return changed


def apply_changes(inbox: Path, rel_paths: list[str], stamp: str) -> int:
    """Change each listed file; returns the bytes of the changed files."""
    total = 0
    for rel in rel_paths:
        p = inbox / rel
        touch_xlsx(p, stamp)
        total += p.stat().st_size
    return total
