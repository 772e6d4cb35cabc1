"""Indicator sets: the YAML files, their pydantic model/loader, and the generic scoring rules."""
