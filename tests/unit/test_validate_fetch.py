"""Unit tests of `quality.validate.fetch_frame`: through Arrow, the same frame as DuckDB's `.df()`."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from connectors import raw_store
from connectors.entities import load_entities
from quality.validate import fetch_frame

pytestmark = pytest.mark.unit

MIXED = """
SELECT * FROM (VALUES
  ('a', NULL::VARCHAR, 1::BIGINT, NULL::BIGINT, 7::INTEGER, 1.5::DOUBLE, DATE '2024-09-05', true,
   TIMESTAMP '2024-09-05 10:00:00', 'x'),
  (NULL, NULL, 2, 5, NULL, NULL, NULL, NULL, NULL, 'y'),
  ('Đ', NULL, 3, NULL, 9, 2.25, DATE '2025-05-31', false, NULL, NULL)
) t(s, s_null, i, i_null, i32_null, d, dt, b, ts, s2)
"""


@pytest.mark.parametrize("where", ["", "WHERE i = 1", "WHERE i > 9"])
def test_same_frame_as_df_on_every_type(where: str) -> None:
    con = duckdb.connect()
    sql = f"SELECT * FROM ({MIXED}) {where}"
    pd.testing.assert_frame_equal(fetch_frame(con, sql), con.execute(sql).df())


def test_same_frame_as_df_on_every_raw_table() -> None:
    con = duckdb.connect()
    raw_store.ensure_schema(con)
    for ent in load_entities().values():
        con.execute(f"INSERT INTO {ent.table} (school_code, source_row) VALUES ('08000123', 2), (NULL, 3)")
        sql = f"SELECT * FROM {ent.table}"
        pd.testing.assert_frame_equal(fetch_frame(con, sql), con.execute(sql).df(), obj=ent.table)
