"""The durable job queue: coalescing, superseding, leases, retries with backoff, dead letters.

Rules a maintainer can rely on:

* one review per PR head: enqueuing a review of a head that is already queued
  or running returns that job (twenty `synchronize` deliveries make one job per
  head, and each newer head supersedes the older ones);
* a newer head supersedes older reviews of the same PR: queued ones are marked
  `superseded`, a running one gets `cancel_requested` (its worker kills the
  sandbox and publishes nothing); the newer job inherits the replaced ones'
  re-review requesters and focus notes (`reviewbot.review.rereview_requests`),
  so everyone who asked is still answered;
* a claimed job holds a lease; a worker that dies stops renewing it, and the
  job is claimed again once the lease runs out;
* a failed job is retried with exponential backoff; after `max_attempts` it is
  `dead` and the worker publishes an infrastructure-failure note on the PR.

Claiming is a conditional UPDATE (state and lease checked in the WHERE clause),
so two workers never both win a job on SQLite or PostgreSQL; PostgreSQL also
skips rows another worker has locked (`FOR UPDATE SKIP LOCKED`). SQLite has one
writer at a time; on PostgreSQL, where service instances write concurrently,
a transaction-scoped advisory lock per PR serialises the coalescing decision,
and the delivery id's primary key turns a racing replay into a duplicate.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, Row, Table, bindparam, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reviewbot.model import Verdict
from reviewbot.names import valid_full_name
from reviewbot.review.outcome import OutcomeKind
from reviewbot.review.rereview_requests import carry_over
from reviewbot.store.db import DeliveryRow, JobRow, PublishedReviewRow
from reviewbot.store.jobs import Action, Cancel, Enqueue, JobKind, JobSpec
from reviewbot.store.prepared import Statements

Clock = Callable[[], datetime]
# Declarative classes type `__table__` as any FromClause; these two are plain tables.
JOBS = cast(Table, JobRow.__table__)
DELIVERIES = cast(Table, DeliveryRow.__table__)
REREVIEW = "re-review"  # JobSpec.reason of a review a maintainer asked for
BACKOFF_BASE_S = 15
BACKOFF_CAP_S = 600
CLAIM_CANDIDATES = 8

Accepted = tuple[bool, list[int], int, list[str]]  # duplicate, job ids, cancelled count, ignored reasons


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"  # the PR closed, or a running review was superseded
    SUPERSEDED = "superseded"  # a queued review whose head is no longer the PR's head
    DEAD = "dead"  # failed on every attempt


ACTIVE = (JobState.QUEUED, JobState.RUNNING)

# Built once: the webhook path runs these for every delivery, and building statements costs more than SQLite.
# On SQLite they run prepared (`store.prepared`): SQLAlchemy's per-call bookkeeping cost more than SQLite itself.
_SEEN_DELIVERY = select(DELIVERIES.c.job_ids).where(DELIVERIES.c.delivery_id == bindparam("delivery_id"))
_INSERT_DELIVERY = insert(DELIVERIES)
_ACTIVE_JOBS = (
    select(JOBS.c.id, JOBS.c.head_sha, JOBS.c.state, JOBS.c.reason, JOBS.c.payload)
    .where(
        JOBS.c.repo == bindparam("repo"),
        JOBS.c.pr_number == bindparam("pr"),
        JOBS.c.kind == bindparam("kind"),
        or_(*(JOBS.c.state == state.value for state in ACTIVE)),  # not IN: a plain statement runs prepared
        JOBS.c.cancel_requested.is_(False),
    )
    .order_by(JOBS.c.id.desc())
)
_INSERT_JOB = insert(JOBS)
_SUPERSEDE = (
    update(JOBS)
    .where(JOBS.c.id == bindparam("job_id"))
    .values(
        state=JobState.SUPERSEDED.value,
        finished_at=bindparam("now"),
        updated_at=bindparam("now"),
        last_error=bindparam("note"),
    )
)
_ASK_TO_STOP = (
    update(JOBS)
    .where(JOBS.c.id == bindparam("job_id"))
    .values(cancel_requested=True, updated_at=bindparam("now"), last_error=bindparam("note"))
)
_OF_PR = (JOBS.c.repo == bindparam("of_repo"), JOBS.c.pr_number == bindparam("of_pr"))  # not a column's name
_CANCEL_QUEUED = (
    update(JOBS)
    .where(*_OF_PR, JOBS.c.state == JobState.QUEUED.value)
    .values(
        state=JobState.CANCELLED.value,
        finished_at=bindparam("now"),
        updated_at=bindparam("now"),
        last_error=bindparam("note"),
    )
)
_STOP_RUNNING = (
    update(JOBS)
    .where(*_OF_PR, JOBS.c.state == JobState.RUNNING.value)
    .values(cancel_requested=True, updated_at=bindparam("now"), last_error=bindparam("note"))
)
_LOCK_PR = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


class Control(StrEnum):
    """What a running job's heartbeat learns."""

    CONTINUE = "continue"
    CANCEL = "cancel"  # stop now, publish nothing
    LOST = "lost"  # the lease went to another worker


@dataclass(frozen=True)
class Job:
    id: int
    spec: JobSpec
    attempts: int
    max_attempts: int

    @property
    def last_attempt(self) -> bool:
        return self.attempts >= self.max_attempts


@dataclass(frozen=True)
class Failure:
    job: Job
    state: JobState  # QUEUED (will retry), DEAD, or CANCELLED (it was asked to stop)
    retry_at: datetime | None


def backoff(attempt: int) -> timedelta:
    """15 s, 60 s, 4 min, then 10 min."""
    return timedelta(seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * 4 ** max(0, attempt - 1)))


def _now() -> datetime:
    return datetime.now(UTC)


class Queue:
    def __init__(self, engine: Engine, clock: Clock = _now, max_attempts: int = 4):
        self.engine = engine
        self.clock = clock
        self.max_attempts = max_attempts
        # SQLite has one writer: threads of this process take turns here instead of in SQLite's busy handler,
        # whose sleeps would add tens of milliseconds to a webhook answer.
        self._turn = threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        self._sql = Statements(engine.dialect)
        self._held: Any = None  # SQLite: the webhook's own connection (`_intake`)

    @contextlib.contextmanager
    def _intake(self) -> Iterator[Any]:
        """The webhook's transaction: committed when the block ends, rolled back if it raises.

        SQLite: on a connection of the queue's own, held open and begun and committed on the driver directly.
        Checking a connection out of the pool, SQLAlchemy's transaction events and the return-to-pool reset
        cost more than the delivery's statements (`store.prepared`) and its commit together. PostgreSQL: an
        ordinary `engine.begin()`; concurrent serve processes are ordered by the PR lock and the primary key.
        """
        if not self._sql.raw:
            with self.engine.begin() as connection:
                yield connection
            return
        with self._turn:
            if self._held is None:
                self._held = self.engine.raw_connection()
            raw = self._held.driver_connection
            raw.execute("BEGIN IMMEDIATE")  # the write lock up front, as every transaction here takes it
            try:
                yield raw
                raw.commit()
            except BaseException:
                self._drop_held()
                raise

    def _drop_held(self) -> None:
        """Roll back and let go of the held connection (a fresh one is opened for the next delivery)."""
        held, self._held = self._held, None
        with contextlib.suppress(Exception):
            held.driver_connection.rollback()
        with contextlib.suppress(Exception):
            held.invalidate()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._turn, Session(self.engine) as session, session.begin():
            yield session

    # -- producers ------------------------------------------------------------------------

    def enqueue(self, spec: JobSpec) -> tuple[int, bool]:
        """(job id, created). An identical active job is returned instead of a new one."""
        with self._transaction() as session:
            return self._enqueue(session.connection(), spec)

    def accept_delivery(self, delivery_id: str, event: str, summary: str, actions: list[Action]) -> Accepted:
        """One transaction for a webhook: (duplicate, job ids, cancelled count, ignored reasons).

        The jobs and the delivery id are stored together, so an accepted delivery is never lost
        and a replay (even one racing this one) changes nothing.
        """
        try:
            with self._intake() as connection:
                return self._accept(connection, delivery_id, event, summary, actions)
        except (IntegrityError, sqlite3.IntegrityError):  # the latter from the driver, under `_intake`
            # Another service instance stored this delivery first; this transaction's work was rolled back.
            return True, self.delivery_jobs(delivery_id) or [], 0, []

    def _accept(self, connection: Any, delivery_id: str, event: str, summary: str, actions: list[Action]) -> Accepted:
        seen = self._sql.rows(connection, _SEEN_DELIVERY, {"delivery_id": delivery_id})
        if seen:
            return True, list(seen[0].job_ids or []), 0, []
        job_ids, cancelled, ignored = [], 0, []
        for action in actions:
            if isinstance(action, Enqueue):
                job_ids.append(self._enqueue(connection, action.job)[0])
            elif isinstance(action, Cancel):
                cancelled += self._cancel_pr(connection, action.repo, action.pr_number, action.reason)
            else:
                ignored.append(action.reason)
        self._sql.execute(
            connection,
            _INSERT_DELIVERY,
            {
                "delivery_id": delivery_id,
                "event": event,
                "summary": summary[:300],
                "job_ids": job_ids,
                "received_at": self.clock(),
            },
        )
        return False, job_ids, cancelled, ignored

    def _enqueue(self, connection: Any, spec: JobSpec) -> tuple[int, bool]:
        """One read of the PR's active jobs of this kind decides: reuse one, or supersede older heads and insert."""
        self._lock_pr(connection, spec.repo, spec.pr_number)
        active = self._sql.rows(
            connection, _ACTIVE_JOBS, {"repo": spec.repo, "pr": spec.pr_number, "kind": spec.kind.value}
        )
        same = _same_request(spec, active)
        if same is not None:
            return same, False
        now = self.clock()
        payload = spec.payload
        if spec.kind == JobKind.REVIEW and spec.head_sha:
            note = f"superseded by head {spec.head_sha[:12]}"
            asked = spec.reason == REREVIEW  # a maintainer's request replaces every review still waiting
            queued = [
                row for row in active if (asked or row.head_sha != spec.head_sha) and row.state == JobState.QUEUED
            ]
            running = [row for row in active if row.head_sha != spec.head_sha and row.state == JobState.RUNNING]
            for row in queued:  # prebuilt statements: building one costs more than SQLite takes to run it
                self._sql.execute(connection, _SUPERSEDE, {"job_id": row.id, "now": now, "note": note})
            for row in running:
                self._sql.execute(connection, _ASK_TO_STOP, {"job_id": row.id, "now": now, "note": note})
            # whoever asked for the replaced reviews is still owed one: the newer job carries their requests
            replaced = sorted((*queued, *running), key=lambda row: row.id)
            payload = carry_over(
                spec.payload,
                [row.payload or {} for row in replaced],
                [row.payload or {} for row in replaced if row.state == JobState.QUEUED],
            )
        return self._sql.insert(
            connection,
            _INSERT_JOB,
            {
                "kind": spec.kind.value,
                "repo": spec.repo,
                "pr_number": spec.pr_number,
                "head_sha": spec.head_sha,
                "installation_id": spec.installation_id,
                "reason": spec.reason,
                "payload": payload,
                "state": JobState.QUEUED.value,
                "cancel_requested": False,
                "attempts": 0,
                "max_attempts": self.max_attempts,
                "run_after": now,
                "last_error": "",
                "created_at": now,
                "updated_at": now,
            },
        ), True

    def cancel_pr(self, repo: str, pr_number: int, reason: str) -> int:
        """Cancel a PR's queued jobs and ask its running ones to stop; returns how many."""
        with self._transaction() as session:
            return self._cancel_pr(session.connection(), repo, pr_number, reason)

    def _cancel_pr(self, connection: Any, repo: str, pr_number: int, reason: str) -> int:
        now = self.clock()
        self._lock_pr(connection, repo, pr_number)
        values = {"of_repo": repo, "of_pr": pr_number, "now": now, "note": reason}
        return self._sql.execute(connection, _CANCEL_QUEUED, values) + self._sql.execute(
            connection, _STOP_RUNNING, values
        )

    def _lock_pr(self, connection: Any, repo: str, pr_number: int) -> None:
        """PostgreSQL: concurrent writers decide about one PR at a time (SQLite has a single writer already)."""
        if self.engine.dialect.name == "postgresql":
            connection.execute(_LOCK_PR, {"key": f"{repo}#{pr_number}"})

    # -- workers --------------------------------------------------------------------------

    def claim(self, worker_id: str, lease_s: float) -> Job | None:
        """The oldest runnable job (queued and due, or running with an expired lease), leased to `worker_id`."""
        now = self.clock()
        runnable = ((JobRow.state == JobState.QUEUED.value) & (JobRow.run_after <= now)) | (
            (JobRow.state == JobState.RUNNING.value) & (JobRow.lease_expires < now)
        )
        with self._transaction() as session:
            query = select(JobRow.id).where(runnable).order_by(JobRow.run_after, JobRow.id).limit(CLAIM_CANDIDATES)
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for job_id in session.scalars(query).all():
                won = _rowcount(
                    session.execute(
                        update(JobRow)
                        .where(JobRow.id == job_id, runnable)
                        .values(
                            state=JobState.RUNNING.value,
                            lease_owner=worker_id,
                            lease_expires=now + timedelta(seconds=lease_s),
                            attempts=JobRow.attempts + 1,
                            updated_at=now,
                        )
                    )
                )
                if won:
                    row = session.get(JobRow, job_id)
                    assert row is not None  # this transaction just updated it
                    session.refresh(row)
                    return _job(row)
        return None

    def heartbeat(self, job_id: int, worker_id: str, lease_s: float) -> Control:
        """Renew the lease; says whether to go on, stop (cancelled or superseded), or give up (lease lost)."""
        now = self.clock()
        with self._transaction() as session:
            row = session.get(JobRow, job_id)
            if row is None or row.state != JobState.RUNNING.value or row.lease_owner != worker_id:
                return Control.LOST
            if row.cancel_requested:
                return Control.CANCEL
            row.lease_expires = now + timedelta(seconds=lease_s)
            row.updated_at = now
            return Control.CONTINUE

    def complete(self, job_id: int, worker_id: str) -> bool:
        return self._finish(job_id, worker_id, JobState.DONE, "")

    def cancelled(self, job_id: int, worker_id: str) -> bool:
        return self._finish(job_id, worker_id, JobState.CANCELLED, "")

    def fail(self, job_id: int, worker_id: str, error: str) -> Failure | None:
        """Retry later with backoff, or dead-letter after the last attempt. None if the lease was lost."""
        now = self.clock()
        with self._transaction() as session:
            row = session.get(JobRow, job_id)
            if row is None or row.state != JobState.RUNNING.value or row.lease_owner != worker_id:
                return None
            row.last_error = error[-4000:]
            row.lease_owner, row.lease_expires, row.updated_at = None, None, now
            if row.cancel_requested:
                row.state, row.finished_at = JobState.CANCELLED.value, now
                return Failure(_job(row), JobState.CANCELLED, None)
            if row.attempts >= row.max_attempts:
                row.state, row.finished_at = JobState.DEAD.value, now
                return Failure(_job(row), JobState.DEAD, None)
            row.state = JobState.QUEUED.value
            row.run_after = now + backoff(row.attempts)
            return Failure(_job(row), JobState.QUEUED, row.run_after)

    def defer(self, job_id: int, worker_id: str, delay_s: float, reason: str) -> bool:
        """Put a claimed job back for later without spending its attempt (GitHub is down, not the job)."""
        now = self.clock()
        with self._transaction() as session:
            row = session.get(JobRow, job_id)
            if row is None or row.state != JobState.RUNNING.value or row.lease_owner != worker_id:
                return False
            row.lease_owner, row.lease_expires, row.updated_at, row.last_error = None, None, now, reason[-4000:]
            if row.cancel_requested:
                row.state, row.finished_at = JobState.CANCELLED.value, now
                return True
            row.state, row.attempts = JobState.QUEUED.value, max(0, row.attempts - 1)
            row.run_after = now + timedelta(seconds=max(1.0, delay_s))
            return True

    def _finish(self, job_id: int, worker_id: str, state: JobState, error: str) -> bool:
        now = self.clock()
        with self._transaction() as session:
            done = _rowcount(
                session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.state == JobState.RUNNING.value, JobRow.lease_owner == worker_id)
                    .values(
                        state=state.value,
                        finished_at=now,
                        updated_at=now,
                        lease_owner=None,
                        lease_expires=None,
                        last_error=error,
                    )
                )
            )
            return bool(done)

    def retry_dead(self, repo: str, pr_number: int) -> int:
        """Give a PR's dead-lettered jobs a fresh set of attempts (a maintainer's re-review)."""
        now = self.clock()
        with self._transaction() as session:
            return _rowcount(
                session.execute(
                    update(JobRow)
                    .where(JobRow.repo == repo, JobRow.pr_number == pr_number, JobRow.state == JobState.DEAD.value)
                    .values(state=JobState.QUEUED.value, attempts=0, run_after=now, updated_at=now, finished_at=None)
                )
            )

    # -- views ----------------------------------------------------------------------------

    def delivery_jobs(self, delivery_id: str) -> list[int] | None:
        """The jobs a delivery made, or None when it was never accepted."""
        with Session(self.engine) as session:
            row = session.get(DeliveryRow, delivery_id)
            return list(row.job_ids or []) if row else None

    def known_repositories(self) -> list[tuple[str, int | None]]:
        """(repo, installation id) of every repository a delivery ever named: what a reconcile walks.

        Names GitHub would not allow are left out: rows stored before deliveries were validated
        may hold them, and each would become a URL and a log line.
        """
        with Session(self.engine) as session:
            rows = session.execute(select(JobRow.repo, func.max(JobRow.installation_id)).group_by(JobRow.repo)).all()
        return [(repo, installation) for repo, installation in rows if valid_full_name(repo)]

    def reviewed_or_dead(self, repo: str, pr_number: int, head_sha: str) -> bool:
        """Whether this head already has an active review, or one that died (a reconcile must not loop on it)."""
        with Session(self.engine) as session:
            found = session.scalars(
                select(JobRow.id).where(
                    JobRow.repo == repo,
                    JobRow.pr_number == pr_number,
                    JobRow.kind == JobKind.REVIEW.value,
                    JobRow.head_sha == head_sha,
                    JobRow.state.in_([JobState.QUEUED.value, JobState.RUNNING.value, JobState.DEAD.value]),
                )
            ).first()
        return found is not None

    def payload(self, job_id: int) -> dict[str, Any]:
        """A job's payload as stored (after coalescing merged earlier requests into it)."""
        with Session(self.engine) as session:
            row = session.get(JobRow, job_id)
            return dict(row.payload or {}) if row else {}

    def review_of_head(self, repo: str, pr_number: int, head_sha: str) -> JobState | None:
        """RUNNING or QUEUED when a review of this head (or of the PR's live head: "") is under way, else None.

        What `status` and the automerge comment say about a head not reviewed yet: queued, running,
        or nothing at all (a draft, a pause, a lost webhook), never a guess."""
        with Session(self.engine) as session:
            states = set(
                session.scalars(
                    select(JobRow.state).where(
                        JobRow.repo == repo,
                        JobRow.pr_number == pr_number,
                        JobRow.kind == JobKind.REVIEW.value,
                        JobRow.head_sha.in_([head_sha, ""]),
                        JobRow.cancel_requested.is_(False),
                        JobRow.state.in_([state.value for state in ACTIVE]),
                    )
                ).all()
            )
        for state in ACTIVE[::-1]:  # running first: it is the more advanced of the two
            if state.value in states:
                return state
        return None

    def state_of(self, job_id: int) -> JobState | None:
        with Session(self.engine) as session:
            row = session.get(JobRow, job_id)
            return JobState(row.state) if row else None

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all()
        return {state.value: 0 for state in JobState} | {state: count for state, count in rows}

    def jobs(self, *states: JobState) -> list[JobRow]:
        with Session(self.engine, expire_on_commit=False) as session:
            query = select(JobRow).order_by(JobRow.id)
            if states:
                query = query.where(JobRow.state.in_([s.value for s in states]))
            return list(session.scalars(query))


class PublishedReviews:
    """The last review published on each PR (head, comment, verdict, outcome, rank), recorded as it is published.

    The one source of truth for later steps: `status`, automerge and reconcile read it here,
    never the comment's marker (which carries the review history for the next review)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def record(
        self,
        repo: str,
        pr_number: int,
        head_sha: str,
        comment_id: int | None,
        verdict: Verdict,
        outcome: OutcomeKind,
        rank: str,
        next_step: str = "",
    ) -> None:
        try:
            self._record(repo, pr_number, head_sha, comment_id, verdict, outcome, rank, next_step)
        except IntegrityError:  # another worker inserted this PR's row first: update it instead
            self._record(repo, pr_number, head_sha, comment_id, verdict, outcome, rank, next_step)

    def _record(
        self,
        repo: str,
        pr_number: int,
        head_sha: str,
        comment_id: int | None,
        verdict: Verdict,
        outcome: OutcomeKind,
        rank: str,
        next_step: str,
    ) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(PublishedReviewRow, (repo, pr_number))
            if row is None:
                row = PublishedReviewRow(repo=repo, pr_number=pr_number, head_sha=head_sha)
                session.add(row)
            row.head_sha, row.comment_id, row.verdict, row.outcome = head_sha, comment_id, verdict, outcome
            row.rank, row.next_step = rank, next_step

    def get(self, repo: str, pr_number: int) -> PublishedReviewRow | None:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(PublishedReviewRow, (repo, pr_number))

    def head_of(self, repo: str, pr_number: int) -> str | None:
        with Session(self.engine) as session:
            row = session.get(PublishedReviewRow, (repo, pr_number))
            return row.head_sha if row else None


def _rowcount(result: Result[Any]) -> int:
    """The rows a DML statement matched: `Session.execute` types its result as Result, but DML gets a CursorResult."""
    return cast(CursorResult[Any], result).rowcount


def _same_request(spec: JobSpec, active: Sequence[Row[*tuple[Any, ...]]] | Sequence[Any]) -> int | None:
    """The active job that already does what `spec` asks (newest first), if any."""
    if spec.kind == JobKind.REVIEW:
        if spec.reason == REREVIEW:
            return None  # asked for by a person: always a fresh review, with its own progress comment
        wanted = {spec.head_sha, ""} if spec.head_sha else None
        return next((row.id for row in active if wanted is None or row.head_sha in wanted), None)
    key = command_key(spec.payload)
    return next((row.id for row in active if command_key(row.payload or {}) == key), None)


def command_key(payload: Mapping[str, Any]) -> str:
    """A comment command is the same request while its comment id and body are unchanged."""
    body = str(payload.get("comment_body", ""))
    return f"{payload.get('comment_id')}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


def _job(row: JobRow) -> Job:
    spec = JobSpec(
        kind=JobKind(row.kind),
        repo=row.repo,
        pr_number=row.pr_number,
        head_sha=row.head_sha,
        installation_id=row.installation_id,
        reason=row.reason,
        payload=row.payload or {},
    )
    return Job(id=row.id, spec=spec, attempts=row.attempts, max_attempts=row.max_attempts)
