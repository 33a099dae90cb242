"""Every end-to-end test runs twice: on the SQLite default and on a real PostgreSQL server."""

from __future__ import annotations

import pytest

from tests.e2e.world import World


@pytest.fixture(autouse=True)
def service_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(World, "database_url", database_url)
    return database_url
