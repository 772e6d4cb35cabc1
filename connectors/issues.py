"""The one type of a row issue: a reject (the source row is not loaded) or a warning (the row is kept).

Every issue names the file, the sheet, the row and, where it concerns a cell, the column (the
platform's header text and the Excel column letter) and the value; its Vietnamese message is always
built from the reason table (`connectors.messages`), never written by hand. The value of a column that
`entities.yaml` flags as personal (`pii: true`: names, birth dates, phones, citizen ids…) is stored
masked, in the issue and in its message, so that `dq_quarantine_rows` never holds it in clear.

What belongs here: the issue type, its constructors and the masking rule. Where issues are raised is
the parser's business; where they are stored, the file-drop connector's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from connectors.entities import load_entities
from connectors.messages import column_letter, row_message

MAX_VALUE_CHARS = 200


def mask(value: str) -> str:
    """A personal value as it may be shown: every character but the last two replaced by `*` (all of
    them for a value of four characters or fewer), so a school can find the cell without the value
    being stored."""
    keep = 2 if len(value) > 4 else 0
    return "*" * (len(value) - keep) + value[len(value) - keep :]


@cache
def personal_columns(entity: str) -> frozenset[str]:
    """The canonical columns of an entity that `entities.yaml` flags as personal data."""
    ent = load_entities().get(entity)
    return frozenset(ent.pii_columns) if ent is not None else frozenset()


def shown_value(value: object, entity: str, canonical: str) -> str | None:
    """A cell value as an issue stores it: text of at most MAX_VALUE_CHARS, masked when personal."""
    if value is None or value is _NA or (isinstance(value, float) and value != value):  # NaN: a blank cell
        return None
    text = str(value)[:MAX_VALUE_CHARS]
    return mask(text) if canonical in personal_columns(entity) else text


def _na() -> object:
    import pandas as pd

    return pd.NA


_NA = _na()


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One reject or warning of one source row. Build it with `RowIssue.reject` or `RowIssue.warning`."""

    kind: Literal["reject", "warning"]
    file: str
    sheet: str
    row: int
    reason_code: str
    column: str = ""  # Excel column letter
    header: str = ""  # the platform's header text of that column
    canonical: str = ""  # the canonical column it maps to
    value: str | None = None  # as stored: masked when personal
    expected: str = ""  # what the cell should hold (rejects)
    detail: str = ""  # what was found (warnings)
    message: str = field(default="", compare=False)

    @classmethod
    def reject(
        cls,
        file: str,
        sheet: str,
        row: int,
        reason_code: str,
        *,
        entity: str,
        canonical: str = "",
        column: int | None = None,
        header: str = "",
        value: object = None,
        expected: str = "",
    ) -> RowIssue:
        """A rejected row: `column` is the 0-based sheet column of the cell (None: the whole row)."""
        letter = column_letter(column) if column is not None else ""
        shown = shown_value(value, entity, canonical)
        message = row_message(file, sheet, row, letter, header, shown, reason_code, expected)
        return cls(
            "reject",
            file,
            sheet,
            int(row),
            reason_code,
            letter,
            header,
            canonical,
            shown,
            expected,
            "",
            message,
        )

    @classmethod
    def warning(cls, file: str, sheet: str, row: int, reason_code: str, detail: str = "") -> RowIssue:
        """A kept row with a warning; `detail` says what was found (no personal value)."""
        message = row_message(file, sheet, row, "", "", None, reason_code, detail)
        return cls("warning", file, sheet, int(row), reason_code, detail=detail, message=message)
