"""Vietnam's official administrative units as reference data for the school registry check.

What belongs here: the location and format of `seeds/admin_units.csv` (loaded as the `cfg_admin_units`
table like every seed of an indicator set, read by `dbt_like_sql/audits/audit_school__admin_unit.sql`)
and the developer command that rebuilds it. Nothing here runs in the pipeline.

The file holds two eras, one row per commune-level unit (xã, phường, đặc khu) and era:

- `2025`: the units in force since the reform of 1 July 2025 (34 provinces, 3,321 communes and wards,
  no districts), valid for school years that start in 2025 or later;
- `pre2025`: the units before it (63 provinces, 10,051 communes, wards and townships), valid for the
  school years before.

Columns: `era`, `province_code`, `province_name`, `commune_code`, `commune_name` (codes as integers: the
registry writes them zero-padded, 2 and 5 digits; the audit pads them).

Source: the General Statistics Office's list of administrative units (danh mục đơn vị hành chính), as
packaged by the `vietnam-provinces` project of Nguyễn Hồng Quân (release 2025.10.1, data of 2025-10-18,
for `2025`; release 0.6.0, data of 2025-01-04, for `pre2025`). That package is GPL-3.0, so it is not a
dependency of this project: it is used only on a developer's machine, in a throwaway environment, to
regenerate the CSV (the list of units itself is public administrative data):

    python3.11 -m venv /some/venv-new && /some/venv-new/bin/pip install vietnam-provinces==2025.10.1
    python3.11 -m venv /some/venv-old && /some/venv-old/bin/pip install vietnam-provinces==0.6.0
    python -m indicator_sets.admin_units NEW_NESTED_JSON OLD_FLAT_JSON

where NEW_NESTED_JSON is `vietnam_provinces/data/nested-divisions.json` of the first environment and
OLD_FLAT_JSON `vietnam_provinces/data/flat-divisions.json` of the second.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ADMIN_UNITS_CSV = Path(__file__).with_name("seeds") / "admin_units.csv"
COLUMNS = ("era", "province_code", "province_name", "commune_code", "commune_name")


def rows_2025(nested: list[dict]) -> list[tuple]:
    """Rows of the `2025` era from the package's nested list (province → wards)."""
    return [("2025", p["code"], p["name"], w["code"], w["name"]) for p in nested for w in p["wards"]]


def rows_pre2025(flat: list[dict]) -> list[tuple]:
    """Rows of the `pre2025` era from the package's flat list (one row per ward with its district; the
    island districts without communes, e.g. Hoàng Sa, have no commune row)."""
    return [
        ("pre2025", w["province_code"], w["province_name"], w["ward_code"], w["ward_name"])
        for w in flat
        if w["ward_code"] is not None
    ]


def build(new_nested_json: Path, old_flat_json: Path, out: Path = ADMIN_UNITS_CSV) -> int:
    """Write the CSV from the two package files; returns the number of rows written."""
    rows = rows_2025(json.loads(new_nested_json.read_text(encoding="utf-8")))
    rows += rows_pre2025(json.loads(old_flat_json.read_text(encoding="utf-8")))
    rows.sort(key=lambda r: (r[0], r[1], r[3]))
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":  # pragma: no cover - a developer's command
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1]), Path(sys.argv[2])), "rows written to", ADMIN_UNITS_CSV)
