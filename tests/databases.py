"""The databases the service's tests run on: SQLite always, PostgreSQL when scripts/postgres.sh started one.

Each test gets a database of its own (a file, or a fresh PostgreSQL database that is
dropped afterwards), migrated by the service itself. Under CI a missing PostgreSQL is a
failure, not a skip: the suite promises to cover both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "REVIEWBOT_TEST_POSTGRES_URL"
KINDS = ("sqlite", "postgresql")


def postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV, "")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} is not set: run the suite with scripts/test.sh, which starts PostgreSQL")
    pytest.skip(f"no PostgreSQL: set {POSTGRES_ENV} (scripts/postgres.sh prints it)")
    return None


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of this kind, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    admin_url = make_url(postgres_admin_url())
    name = f"rb_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin_url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
