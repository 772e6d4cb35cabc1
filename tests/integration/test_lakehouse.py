"""The lakehouse (issue 22): a province's school year published from a real warehouse (the sample inbox
run through the pipeline) replaces its partition of the Iceberg tables, read back through the catalog;
a publication that fails half-way leaves readers on the previous version; the national marts equal the
same marts over the union of the provinces' own tables.

The default run uses the embedded SQLite catalog (no server); the same checks, plus concurrent
publications of several provinces, run against a real PostgreSQL catalog server started on 127.0.0.1
(`-m slow`; `.ci/run` installs PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from lakehouse.catalog import TABLES, LakeSettings, open_catalog
from lakehouse.national import national_marts, national_sql
from lakehouse.publish import extract, latest_publications, publish, read_published
from tests.integration.truth_compare import run_years
from tests.pg_server import postgres_server

pytestmark = pytest.mark.integration
INBOX = Path(__file__).resolve().parents[2] / "sample_exports" / "inbox"
YEAR = "2024-2025"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real pipeline run of the sample inbox (its exports stage publishes to the embedded lakehouse
    next to the warehouse): (warehouse, output folder)."""
    return run_years(INBOX, tmp_path_factory.mktemp("lake_wh"), [YEAR])


@pytest.fixture(scope="module")
def province_tables(sample_run: tuple[Path, Path]) -> dict[str, pa.Table]:
    """The published tables of the sample province (code 08, from its registry)."""
    con = duckdb.connect(str(sample_run[0]), read_only=True)
    try:
        return extract(con, "08", YEAR)
    finally:
        con.close()


def as_province(
    tables: dict[str, pa.Table], code: str, drop_school: str | None = None
) -> dict[str, pa.Table]:
    """The same tables under another province code (optionally without one school): a second province."""
    out = {}
    for name, t in tables.items():
        frame = t.to_pandas()
        frame["province_code"] = code
        if drop_school and "school_code" in frame:
            frame = frame[frame["school_code"] != drop_school]
        out[name] = pa.Table.from_pandas(frame, schema=TABLES[name], preserve_index=False)
    return out


def rows(t: pa.Table) -> pd.DataFrame:
    frame = t.to_pandas()
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def check_catalog(settings: LakeSettings, tables: dict[str, pa.Table]) -> None:
    catalog = open_catalog(settings)
    publish(catalog, tables, "08", YEAR)
    for name in TABLES:  # what was published is what is read back
        pd.testing.assert_frame_equal(rows(read_published(catalog, name, YEAR)), rows(tables[name]))

    # a second province; then the first one again without one school: only its partition changes
    second = as_province(tables, "14")
    publish(catalog, second, "14", YEAR)
    smaller = as_province(tables, "08", drop_school="08000005")
    publish(catalog, smaller, "08", YEAR)
    for name in TABLES:
        got = read_published(catalog, name, YEAR).to_pandas()
        want = pa.concat_tables([smaller[name], second[name]])
        pd.testing.assert_frame_equal(rows(pa.Table.from_pandas(got, schema=TABLES[name])), rows(want))
    assert "08000005" not in set(
        read_published(catalog, "school_scores", YEAR)["school_code"].to_pylist()[:10]
    )

    # a publication that fails half-way (a value that cannot be stored in the third table): readers
    # keep the previous version of every table, including the two already replaced
    broken = dict(tables)
    frame = tables["school_scores"].to_pandas()
    frame["level"] = frame["level"].astype(str)
    frame.loc[0, "level"] = "Mức ba"
    broken["school_scores"] = pa.Table.from_pandas(frame, preserve_index=False)
    with pytest.raises((pa.ArrowInvalid, ValueError)):
        publish(catalog, broken, "08", YEAR)
    for name in TABLES:
        got = read_published(catalog, name, YEAR)
        pd.testing.assert_frame_equal(rows(got), rows(pa.concat_tables([smaller[name], second[name]])))

    # the national marts, read through the catalog, equal the same SQL over the union of the provinces
    marts = national_marts(catalog, YEAR)
    con = duckdb.connect()
    for name in TABLES:
        con.register(f"lake_{name}", pa.concat_tables([smaller[name], second[name]]))
    for name, sql in national_sql().items():
        pd.testing.assert_frame_equal(marts[name], con.execute(sql).df())
    levels = marts["nat_province_levels"]
    final = levels[(levels["side"] == "final") & (levels["province_code"] == "14")]
    want = second["school_scores"].to_pandas().query("side == 'final'")["level"].value_counts()
    assert dict(zip(final["level"], final["n_schools"], strict=True)) == want.to_dict()
    summary = marts["nat_thi_dua_summary"].set_index("province_code")
    assert summary.loc["08", "n_schools"] == summary.loc["14", "n_schools"] - 1


def test_the_run_publishes_and_builds_the_national_marts(
    sample_run: tuple[Path, Path], province_tables: dict[str, pa.Table]
) -> None:
    """`cds run` published the year to the embedded lakehouse beside the warehouse (province from the
    registry) and wrote the national marts read back through its catalog."""
    warehouse, out = sample_run
    catalog = open_catalog(LakeSettings.embedded(warehouse.parent / "lake"))
    pubs = latest_publications(catalog, YEAR)
    assert set(pubs["province_code"]) == {"08"} and set(pubs["table_name"]) == set(TABLES)
    for name in TABLES:
        pd.testing.assert_frame_equal(rows(read_published(catalog, name, YEAR)), rows(province_tables[name]))
    summary = pd.read_csv(out / "national" / YEAR / "nat_thi_dua_summary.csv", dtype={"province_code": str})
    assert summary["province_code"].tolist() == ["08"]
    assert summary["n_schools"].tolist() == [province_tables["school_scores"].num_rows // 2]


def test_embedded_catalog(tmp_path: Path, province_tables: dict[str, pa.Table]) -> None:
    check_catalog(LakeSettings.embedded(tmp_path / "lake"), province_tables)


@pytest.fixture(scope="module")
def pg_uri() -> Iterator[str]:
    with postgres_server() as uri:
        yield uri


@pytest.mark.slow  # starts a PostgreSQL server
def test_postgres_catalog(tmp_path: Path, pg_uri: str, province_tables: dict[str, pa.Table]) -> None:
    check_catalog(LakeSettings(catalog_uri=pg_uri, warehouse=(tmp_path / "files").as_uri()), province_tables)


@pytest.mark.slow  # starts a PostgreSQL server
def test_concurrent_publications(tmp_path: Path, pg_uri: str, province_tables: dict[str, pa.Table]) -> None:
    """Six provinces publish at the same time into the same tables: every commit lands (a conflict is
    retried on the new table state), and each province reads back exactly its own rows."""
    settings = LakeSettings(catalog_uri=pg_uri, warehouse=(tmp_path / "files").as_uri(), namespace="sim")
    open_catalog(settings)  # namespace and tables exist before the race
    codes = [f"{k:02d}" for k in (1, 4, 8, 11, 14, 15)]
    errors: list[BaseException] = []

    def one(code: str) -> None:
        try:
            publish(open_catalog(settings), as_province(province_tables, code), code, YEAR, namespace="sim")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(c,)) for c in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    catalog = open_catalog(settings)
    assert sorted(latest_publications(catalog, YEAR, "sim")["province_code"].unique()) == codes
    scores = read_published(catalog, "school_scores", YEAR, "sim").to_pandas()
    assert scores.groupby("province_code").size().to_dict() == {
        c: province_tables["school_scores"].num_rows for c in codes
    }


def test_lake_sql_states_purpose_and_grain() -> None:
    sql_root = Path(__file__).resolve().parents[2] / "dbt_like_sql"
    files = sorted((sql_root / "publish").glob("*.sql")) + sorted((sql_root / "national").glob("*.sql"))
    assert len(files) == len(TABLES) + len(national_sql())  # a query per table but one, and the province
    for path in files:
        head = path.read_text(encoding="utf-8").splitlines()[:2]
        assert head[0].startswith("-- purpose: ") and head[1].startswith("-- grain: "), path.name
