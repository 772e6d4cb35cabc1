"""The warehouse layer, below every other package: how the DuckDB warehouse is opened
(`warehouse.connection`, the only module that calls `duckdb.connect`) and the SQL-project engine that
discovers, orders, fingerprints and materialises the models in `dbt_like_sql/` (`warehouse.sql_models`).

What belongs here: code that every layer above (connectors, quality, reports, lakehouse, pipelines) may
call and that imports none of them. Nothing is imported at package level, so opening a connection
loads DuckDB alone (the runner's pre-flight check must not load pandas).
"""
