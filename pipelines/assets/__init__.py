"""Thin Dagster assets, one module per stage; each module's name is its asset group."""
