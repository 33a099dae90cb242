"""Alembic migrations: the newest revision is exactly the models, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from reviewbot.store.db import MIGRATIONS, Base, make_engine
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import Queue


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_a_migrated_database_matches_the_models(database_url: str) -> None:
    """Fails when a table or column is added to db.py without a migration (autogenerate makes one)."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == _head()
    engine.dispose()


def test_a_database_from_before_migrations_is_adopted_and_keeps_its_rows(database_url: str) -> None:
    """Installs that ran the bot before migrations existed have the baseline tables and no version table."""
    old = create_engine(database_url)
    baseline_tables = ["deliveries", "jobs", "published_reviews", "pull_states", "processed_commands"]
    Base.metadata.create_all(old, tables=[Base.metadata.tables[name] for name in baseline_tables])
    Queue(old).enqueue(JobSpec(kind=JobKind.REVIEW, repo="o/r", pr_number=1, head_sha="a" * 40))
    old.dispose()

    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == _head()
        assert connection.execute(text("SELECT count(*) FROM jobs")).scalar() == 1
    assert {"proof_pages", "proof_logs"} <= set(inspect(engine).get_table_names())  # upgraded past the baseline
    engine.dispose()


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    """`reviewbot serve` and its workers start at the same moment on an empty database."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            make_engine(database_url).dispose()
        except BaseException as error:  # noqa: BLE001 - the test reports every failure
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()
