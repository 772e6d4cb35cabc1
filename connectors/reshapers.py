"""Reshapers for layouts that are not plain tables (grade books, TT27 3-tier headers, wide
self-assessments): each takes the located header and returns canonical long rows.

A layout names its reshaper in `shape:`; `get()` finds it. Plain tables never come here.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.sheet_parser import Grid, HeaderMatch, ParseContext, SheetResult

Reshaper = Callable[[Grid, HeaderMatch, ParseContext], SheetResult]
REGISTRY: dict[str, Reshaper] = {}


def register(name: str) -> Callable[[Reshaper], Reshaper]:
    def deco(fn: Reshaper) -> Reshaper:
        REGISTRY[name] = fn
        return fn

    return deco


def get(name: str) -> Reshaper:
    if name not in REGISTRY:
        raise KeyError(f"no reshaper named {name!r}")
    return REGISTRY[name]
