"""Values computed once per run and shared by the run's steps.

The school-year job runs every step in one process (in-process executor), so a value several steps
need — the SQL audits' results (their asset checks and the data-quality report), the coverage frames
(the report and the GX raw-input suite), the frames the three reviewer exports read — is computed by
the first step that asks for it and handed to the others. A value is only shared between steps of one
run (the key holds the run id; a new run forgets the previous run's values), and only for inputs that
no later step of the run changes: every consumer runs after the assets the value is computed from
(see the deps of the steps that use it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_state: dict[str, Any] = {"run_id": None, "values": {}}


def once(run_id: str | None, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` the first time `key` is asked for in run `run_id`, the stored value after that.
    Without a run id (outside a run) nothing is stored."""
    if not run_id:
        return compute()
    with _lock:
        if _state["run_id"] != run_id:
            _state["run_id"], _state["values"] = run_id, {}
        values = _state["values"]
        if key in values:
            return values[key]
    value = compute()
    with _lock:
        if _state["run_id"] == run_id:
            _state["values"][key] = value
    return value


def forget() -> None:
    """Drop every stored value (tests; the end of a run)."""
    with _lock:
        _state["run_id"], _state["values"] = None, {}
