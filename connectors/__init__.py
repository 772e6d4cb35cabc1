"""Connectors: read platform exports (file drop, HTTP API) into canonical raw tables with provenance.

Holds the layout definitions (header synonyms as data), the normalisers and the raw store; no Dagster
code and no SQL models.
"""
