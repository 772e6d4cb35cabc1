"""The lakehouse: the published tables of every province × school year in Apache Iceberg tables behind a
real catalog, and the national marts built by reading through that catalog.

What belongs here: the catalog settings and table definitions (`catalog`), reading a province
warehouse's published tables and replacing its partition in the lake (`publish`), and the national marts
(`national`). The SQL of both lives in `dbt_like_sql/publish/` and `dbt_like_sql/national/`. No Dagster
code: assets call these functions.

Why Iceberg through pyiceberg: it installs from PyPI as pure Python on top of pyarrow (no DuckDB
extension download, which this deployment cannot do, and no version lock to the DuckDB release), and
its SQL catalog runs on PostgreSQL (production, and the tests) or on an embedded SQLite file (the
default, no server).
"""
