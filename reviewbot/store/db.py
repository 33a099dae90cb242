"""The service's tables, through SQLAlchemy 2: SQLite (WAL) by default, PostgreSQL with the same code.

What is kept: which deliveries were seen (a replay is a no-op), the job queue,
what was last published per PR (so a reconcile can tell which open PRs still
lack a review of their current head), what maintainers set on a PR, the commands
already carried out, and the proof pages with their logs. The schema changes
through Alembic revisions (`reviewbot/migrations/`), never `create_all`.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Engine,
    Enum,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    inspect,
    make_url,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from reviewbot.extras import MissingExtra, install_hint
from reviewbot.model import Verdict
from reviewbot.review.outcome import OutcomeKind
from reviewbot.review.pr_state import AutomergeState


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


def stored_enum(kind: type[StrEnum], constraint: str, length: int) -> Enum:
    """A StrEnum column holding its values, the same strings the JSON uses; a CHECK refuses any other.

    Not a native (PostgreSQL) enum type: the column stays a VARCHAR, so a new member is a new CHECK, not a
    type migration, and SQLite and PostgreSQL hold the same thing.
    """
    return Enum(
        kind,
        name=constraint,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class DeliveryRow(Base):
    __tablename__ = "deliveries"

    delivery_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    event: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(String(300), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    job_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "state", "run_after"),
        Index("ix_jobs_pr", "repo", "pr_number", "kind", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    repo: Mapped[str] = mapped_column(String(200))
    pr_number: Mapped[int] = mapped_column(Integer)
    head_sha: Mapped[str] = mapped_column(String(64), default="")
    installation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(60), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=4)
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PublishedReviewRow(Base):
    """The review last published on a PR: its head, and where the comment is."""

    __tablename__ = "published_reviews"

    repo: Mapped[str] = mapped_column(String(200), primary_key=True)
    pr_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    head_sha: Mapped[str] = mapped_column(String(64))
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # GitHub's ids pass 2**31
    verdict: Mapped[Verdict] = mapped_column(stored_enum(Verdict, "ck_published_reviews_verdict", 20))
    outcome: Mapped[OutcomeKind] = mapped_column(stored_enum(OutcomeKind, "ck_published_reviews_outcome", 40))
    rank: Mapped[str] = mapped_column(String(8), default="")
    next_step: Mapped[str] = mapped_column(Text, default="")  # the review's `Outcome.next_step`, for `status`
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PullStateRow(Base):
    """What maintainers set on a PR with commands: paused or not, automerge, the bot's status comments."""

    __tablename__ = "pull_states"

    repo: Mapped[str] = mapped_column(String(200), primary_key=True)
    pr_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    paused: Mapped[bool] = mapped_column(default=False)
    paused_by: Mapped[str] = mapped_column(String(100), default="")
    automerge: Mapped[AutomergeState] = mapped_column(
        stored_enum(AutomergeState, "ck_pull_states_automerge", 20), default=AutomergeState.OFF
    )
    armed_by: Mapped[str] = mapped_column(String(100), default="")
    armed_head: Mapped[str] = mapped_column(String(64), default="")
    fixed_head: Mapped[str] = mapped_column(String(64), default="")  # the head the `fix:` commands last ran on
    automerge_log: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [time, step, head, outcome] rows
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ProcessedCommandRow(Base):
    """A comment command that was carried out: the same comment and body never runs twice."""

    __tablename__ = "processed_commands"

    comment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    command: Mapped[str] = mapped_column(String(40))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def make_engine(url: str) -> Engine:
    """An engine on a database migrated to the newest schema; SQLite gets WAL and a busy timeout so workers share it."""
    is_sqlite = url.startswith("sqlite")
    try:
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False} if is_sqlite else {},
            pool_pre_ping=not is_sqlite,
        )
    except ModuleNotFoundError as exc:  # the URL's database driver is not installed
        raise MissingExtra(
            f"the database {make_url(url).drivername}:// needs the `{exc.name}` driver, which is not "
            f"installed: for PostgreSQL, {install_hint('postgres')} and a postgresql+psycopg:// "
            "URL",
            name=exc.name,
        ) from exc
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return engine


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BASELINE = "0001"  # the schema `create_all` made before there were migrations


def migrate(engine: Engine) -> None:
    """Upgrade to the newest revision, one process at a time (serve and workers may start together).

    SQLite's write lock (BEGIN IMMEDIATE) or PostgreSQL's advisory lock serialises migrators; the
    second finds the schema current and does nothing. A database made by `create_all` before
    migrations existed is stamped at the baseline first.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7372617)")
        tables = set(inspect(connection).get_table_names())
        config.attributes["connection"] = connection
        if "jobs" in tables and "alembic_version" not in tables:
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's transactions decide when to BEGIN; take the write lock at BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _switch_to_wal(cursor)
    # WAL with synchronous=NORMAL: a commit is written to the WAL file before COMMIT returns, only the fsync
    # waits for checkpoints. A killed process (kill -9, OOM) therefore loses nothing that committed, so a
    # delivery answered 2xx survives it; only an OS crash or power loss can drop the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any, patience_s: float = 30) -> None:
    """WAL is a property of the file, set once; processes opening a new file together may find it locked.

    Switching needs an exclusive lock that SQLite's busy handler does not wait for, so wait here.
    """
    deadline = time.monotonic() + patience_s
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(connection: Any) -> None:
    """SQLite: every transaction takes the write lock up front, so two workers never both claim a job."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class ProofPageRow(Base):
    """The full proof of one reviewed head, as its page shows it (`/proofs/...`), kept per the pages retention.

    `data` is the review's documented JSON (`Review.to_json_dict()`, redacted) plus one entry per
    sandbox run; the logs live in `proof_logs`, so pruning them keeps the page's summary.
    """

    __tablename__ = "proof_pages"
    __table_args__ = (
        Index("ux_proof_pages_head", "repo", "pr_number", "head_sha", unique=True),
        Index("ix_proof_pages_published", "published_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    repo: Mapped[str] = mapped_column(String(200))
    pr_number: Mapped[int] = mapped_column(Integer)
    head_sha: Mapped[str] = mapped_column(String(64))
    public: Mapped[bool] = mapped_column(default=False)  # the repository is public (pages may be too)
    title: Mapped[str] = mapped_column(String(300), default="")
    author: Mapped[str] = mapped_column(String(100), default="")
    pr_url: Mapped[str] = mapped_column(String(500), default="")
    comment_url: Mapped[str] = mapped_column(String(500), default="")
    verdict: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(String(40), default="")
    rank: Mapped[str] = mapped_column(String(8), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    logs_pruned: Mapped[bool] = mapped_column(default=False)  # retention dropped the full logs
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProofLogRow(Base):
    """One sandbox run's full log (capped, redacted) for a proof page."""

    __tablename__ = "proof_logs"
    __table_args__ = (Index("ux_proof_logs_page", "page_id", "position", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    page_id: Mapped[int] = mapped_column(Integer)  # proof_pages.id; deleted with it by the store
    position: Mapped[int] = mapped_column(Integer)  # the run's index in the page's `data["runs"]`
    text: Mapped[str] = mapped_column(Text, default="")
    lines: Mapped[int] = mapped_column(Integer, default=0)
    original_bytes: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[bool] = mapped_column(default=False)
