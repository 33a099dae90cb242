"""Alembic migrations: the newest revision is exactly the models, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from reviewbot.model import Verdict
from reviewbot.review.outcome import OutcomeKind
from reviewbot.review.pr_state import AutomergeState
from reviewbot.store.db import BASELINE, MIGRATIONS, Base, make_engine
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import PublishedReviews, Queue


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


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
    with old.begin() as connection:  # the baseline schema as it was, not as the models are now
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))
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


def test_enum_columns_hold_their_members_and_refuse_anything_else(database_url: str) -> None:
    """The JSON strings go in and come back as members; a string no member has is refused by the database itself."""
    engine = make_engine(database_url)
    PublishedReviews(engine).record(
        "o/r",
        1,
        "a" * 40,
        7,
        Verdict.PROVEN,
        OutcomeKind.NEEDS_MAINTAINER,
        "S",
        "A maintainer reads the changes listed under Security.",
    )
    states = PullStates(engine)
    assert states.update("o/r", 1, automerge=AutomergeState.REPLACED).automerge is AutomergeState.REPLACED
    row = PublishedReviews(engine).get("o/r", 1)
    assert (row.verdict, row.outcome) == (Verdict.PROVEN, OutcomeKind.NEEDS_MAINTAINER)
    assert row.next_step == "A maintainer reads the changes listed under Security."
    with engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT p.verdict, p.outcome, s.automerge FROM published_reviews p "
                "JOIN pull_states s USING (repo, pr_number)"
            )
        ).one()
        assert tuple(stored) == ("proven", "needs maintainer review", "replaced")  # the same strings as the JSON
    members = [
        ("pull_states", "automerge", AutomergeState),
        ("published_reviews", "verdict", Verdict),
        ("published_reviews", "outcome", OutcomeKind),
    ]
    with engine.begin() as connection:  # a member added without a migration widening its CHECK fails here
        for table, column, kind in members:
            for member in kind:
                connection.execute(text(f"UPDATE {table} SET {column} = :value"), {"value": member.value})
    for statement in (
        "UPDATE pull_states SET automerge = 'armd'",
        "UPDATE published_reviews SET verdict = 'passed'",
        "UPDATE published_reviews SET outcome = 'proven'",
    ):
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(statement))
    engine.dispose()
