"""Header and cell text normal forms (docs/exports.md §1.3): `norm` for matching words, `nfc` for cleaning
one value, and the three forms a header is matched in. Plain functions of one string, cached: header
and vocabulary texts repeat. Vectorised value parsing is in `connectors.normalize`."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
PARENS = re.compile(r"\([^)]*\)")


def norm(text: object) -> str:
    """`norm` of docs/exports.md §1.3: strip accents, đ→d, casefold, keep [a-z0-9], collapse spaces."""
    if text is None:
        return ""
    return _norm_str(text if type(text) is str else str(text))


@lru_cache(maxsize=1 << 17)
def _norm_str(text: str) -> str:
    s = unicodedata.normalize("NFD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("đ", "d").replace("Đ", "D").casefold()
    return _NON_ALNUM.sub(" ", s).strip()


def header_forms(text: object) -> list[str]:
    """The three forms a header is matched in: full, without `(…)`, first line only."""
    return list(header_forms_t("" if text is None else str(text)))


@lru_cache(maxsize=1 << 16)
def header_forms_t(raw: str) -> tuple[str, ...]:
    """`header_forms` of a string as a (cached, shared) tuple."""
    forms = [norm(raw), norm(PARENS.sub(" ", raw)), norm(raw.splitlines()[0] if raw else "")]
    seen: list[str] = []
    for f in forms:
        if f and f not in seen:
            seen.append(f)
    return tuple(seen)


def nfc(text: object) -> str:
    """Clean one text value: NFC, NBSP→space, trim, drop a leading apostrophe."""
    if text is None:
        return ""
    return _nfc_str(text if type(text) is str else str(text))


@lru_cache(maxsize=1 << 16)
def _nfc_str(text: str) -> str:
    s = unicodedata.normalize("NFC", text).replace("\u00a0", " ").strip()
    if s.startswith("'"):
        s = s[1:].strip()
    return s
