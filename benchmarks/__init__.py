"""Benchmarks of the CĐS pipeline (`cds-bench`); not part of the default test run.

Modules: `core` (pure helpers: growth exponent, sampling, tables, targets), `datasets` (cached
generated inboxes, the 5% change), `child` (one pipeline run in a child process with per-step peak
RSS), `readers` (reader-throughput ratios and the one-scan baseline), `cli` (the `bench` command).
"""
