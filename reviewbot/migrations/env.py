"""Alembic's entry point: runs on the connection the service hands over, or on a URL when run by hand."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from reviewbot.store.db import Base

config = context.config


def run(connection) -> None:  # type: ignore[no-untyped-def]
    # render_as_batch: SQLite cannot ALTER most things, so column changes are emitted as table copies there.
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = os.environ.get("REVIEWBOT_DATABASE_URL", "sqlite:///migrations-scratch.db")
    with create_engine(url).begin() as own:
        run(own)
