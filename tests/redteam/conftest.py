"""Fixtures shared by the red-team tests: the clean run of the generated province, made once per
session (the hostile run of test_redteam.py and the API runs of test_redteam_api.py start from it)."""

from __future__ import annotations

import pytest

from tests.redteam import province as rt


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> rt.Clean:
    return rt.run_clean(tmp_path_factory.mktemp("redteam"))
