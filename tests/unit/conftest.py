"""Fixtures of the fast behaviour tests: one migrated SQLite store per session, emptied for each test."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from reviewbot.store.db import make_engine
from tests.behaviours import Store


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return make_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('store')) / 'bot.db'}")


@pytest.fixture
def store(migrated_store: Engine) -> Store:
    return Store.emptied(migrated_store)
