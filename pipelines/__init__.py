"""Orchestration: Dagster definitions, resources, schedules, sensors, settings and the `cds` CLI.

Nothing in this package holds business rules; it wires connectors, SQL models and the indicator set.
"""
