"""The registry's school names as the province-wide files look them up (R8): case, spacing and
diacritics do not matter, and a name two schools share once normalised matches neither."""

from __future__ import annotations

import pytest

from connectors import raw_store
from connectors.filedrop import school_names
from connectors.text import norm

pytestmark = pytest.mark.unit


def test_names_match_loosely_and_a_shared_name_matches_no_school() -> None:
    con = raw_store.connect(":memory:")
    raw_store.ensure_schema(con)
    rows = [
        ("08000001", "Trường Tiểu học Tân Hòa"),
        ("08000002", "Trường THCS Tân An"),
        ("08000003", "Trường THCS Tấn An"),
        ("08000001", "TRƯỜNG TIỂU HỌC TÂN HÒA"),
    ]
    for code, name in rows:
        con.execute(
            "INSERT INTO raw_school (school_code, school_year, name) VALUES (?, '2024-2025', ?)", [code, name]
        )
    names = school_names(con)
    assert names[norm("trường tiểu học tân hoà")] == "08000001"  # the other tone placement, lower case
    assert norm("Trường THCS Tân An") not in names  # Tân An and Tấn An meet once accents go: neither
