"""Plain DuckDB SQL models (staging, intermediate, marts, audits) and the lakehouse's publish and
national queries; this file only marks the folder.

Conventions, machine-checked: each file starts with `-- purpose:` and `-- grain:` header lines (the
grain of a model as a key list, see `warehouse.sql_models`); a mart or publish query describes every
column it returns, `-- column: name (type): description` (tests/sql/test_column_docs.py); the SQL passes
`make sqllint` (sqlfluff, DuckDB dialect, rules in `.sqlfluff`; `sqlfluff fix dbt_like_sql` does the
layout).
"""
