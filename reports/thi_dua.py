"""The thi đua workbook for the emulation board: one row per school with its computed group totals and
levels (widened by the reconciliation issue with self-declared totals, proposals and ranks)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.excel import write_sheets

HEADERS = {
    "rank_province": "Xếp hạng toàn tỉnh",
    "school_code": "Mã trường",
    "school_name": "Tên trường",
    "managing_unit": "Đơn vị quản lý",
    "school_year": "Năm học",
    "group_dh_points": "Điểm nhóm I (dạy, học) – tính từ dữ liệu",
    "group_dh_level": "Mức nhóm I",
    "group_qt_points": "Điểm nhóm II (quản trị) – tính từ dữ liệu",
    "group_qt_level": "Mức nhóm II",
    "level": "Mức chuyển đổi số (tính từ dữ liệu)",
    "n_criteria_computed": "Số tiêu chí tính được từ dữ liệu",
}


def build_table(scores: pd.DataFrame, schools: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """One row per school: names from the registry (codes when absent), totals, levels, rank."""
    t = scores.merge(schools, on=["school_code", "school_year"], how="left")
    computed = values[values["status"] == "ok"].groupby(["school_code", "school_year"]).size()
    t["n_criteria_computed"] = t.set_index(["school_code", "school_year"]).index.map(computed).fillna(0).astype(int)
    t["school_name"] = t.get("school_name", pd.Series(index=t.index, dtype=object)).fillna("")
    t["managing_unit"] = t.get("managing_unit", pd.Series(index=t.index, dtype=object)).fillna("")
    t["_total"] = t["group_dh_points"] + t["group_qt_points"]
    t = t.sort_values(["level", "_total", "school_code"], ascending=[False, False, True]).reset_index(drop=True)
    t["rank_province"] = t["_total"].rank(method="min", ascending=False).astype(int)
    return t


def write_thi_dua(path: Path, table: pd.DataFrame, year: str) -> Path:
    return write_sheets(path, {f"Thi đua {year}": (table, HEADERS)})
