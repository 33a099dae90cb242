"""Wiring: settings in, a running service out (`reviewbot serve`, `reviewbot worker`).

`serve` runs the webhook app, embedded worker threads and the periodic
reconcile in one process: the single-machine default. `worker` runs queue
workers as separate processes, for a host that only works the queue.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from fastapi import FastAPI

from reviewbot.bot.automerge import AutomergeJob
from reviewbot.bot.automerge_progress import AutomergeProgress
from reviewbot.bot.base_facts import MirrorFacts
from reviewbot.bot.commands import CommandJob
from reviewbot.bot.reconcile import reconcile
from reviewbot.bot.replacement import MirrorBranches, Replacements
from reviewbot.bot.review import ReviewJob
from reviewbot.data_dir import prepare_data_dir
from reviewbot.github.adapter import EdgePorts
from reviewbot.github.breaker import CircuitBreaker, GitHubUnavailable
from reviewbot.github.client import CALLS, GitHubEdge
from reviewbot.github.permissions import PermissionCache
from reviewbot.github.port import GitHubPorts
from reviewbot.llm.assist import ModelReviewer
from reviewbot.proof.engine import ProofEngine
from reviewbot.service.app import create_app
from reviewbot.service.bot_login import BotLogin
from reviewbot.service.logs import configure_logging
from reviewbot.service.pages import proof_links_for, proof_store_for, router_for
from reviewbot.service.worker import Worker
from reviewbot.settings import Settings
from reviewbot.store.db import make_engine
from reviewbot.store.jobs import JobKind
from reviewbot.store.metrics import Metrics
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import PublishedReviews, Queue

log = logging.getLogger("reviewbot.service")


@dataclass
class Service:
    settings: Settings
    queue: Queue
    metrics: Metrics
    edge: GitHubEdge
    github: GitHubPorts
    review_job: ReviewJob
    command_job: CommandJob
    automerge_job: AutomergeJob
    published: PublishedReviews
    states: PullStates
    threads: list[threading.Thread] = field(default_factory=list)
    login: BotLogin | None = None

    def __post_init__(self) -> None:
        if self.login is None:
            self.login = BotLogin(
                self.edge.bot_login,
                peek=lambda: self.edge.cached_bot_login,
                fallback=self.settings.bot_login or f"{self.settings.command_handle}[bot]",
            )

    @property
    def handlers(self) -> dict:
        return {
            JobKind.REVIEW: self.review_job,
            JobKind.COMMAND: self.command_job,
            JobKind.AUTOMERGE: self.automerge_job,
        }

    def app(self) -> FastAPI:
        """The webhook app; while it is served, its lifespan resolves the bot's login in the background."""
        secrets = [secret.get_secret_value() for secret in self.settings.webhook_secrets]
        app = create_app(
            self.queue.engine,
            secrets,
            max_body_bytes=self.settings.max_body_bytes,
            bot_login=self.login.current,
            queue=self.queue,
            metrics=self.metrics,  # type: ignore[union-attr]
            handled=set(self.handlers),
            command_handle=self.settings.command_handle,
            pages=router_for(self.settings, self.review_job.proof_store, self.queue.engine),
            require_installation=self.edge.is_app,
            github_status=self.github_status,
        )
        app.router.lifespan_context = self._resolving_login
        return app

    @contextlib.asynccontextmanager
    async def _resolving_login(self, _app: FastAPI) -> AsyncIterator[None]:
        """The login thread lives as long as the server: a stopped server leaves no thread asking GitHub."""
        stop = threading.Event()
        self.login.start(stop)  # type: ignore[union-attr]  # never blocks; a no-op once started
        try:
            yield
        finally:
            stop.set()

    def github_status(self) -> dict:
        """GitHub as the breaker sees it, and whether the bot's login is known yet (for /readyz)."""
        wait = self.edge.breaker.retry_in()
        breaker = self.edge.breaker
        state = (
            "unreachable"
            if wait is not None
            else "probing"
            if breaker.is_open
            else "failing"
            if breaker.failures
            else "ok"
        )
        status: dict = {
            "host": self.edge.breaker.host,
            "state": state,
            "bot_login": "resolved" if self.login.resolved else "pending",
        }  # type: ignore[union-attr]
        if wait is not None:
            status["retry_in_s"] = round(wait, 1)
        return status

    def worker(self, name: str | None = None) -> Worker:
        return Worker(
            self.queue,
            self.handlers,
            name=name,
            lease_s=self.settings.lease_s,
            on_dead=self.review_job.dead_letter,
            metrics=self.metrics,
            github=self.edge.breaker,
        )

    def start_background(self, stop: threading.Event, workers: int | None = None, reconcile_loop: bool = True) -> None:
        self.login.start(stop)  # type: ignore[union-attr]
        for index in range(self.settings.workers if workers is None else workers):
            self._thread(f"worker-{index}", self.worker().run, stop)
        if reconcile_loop:
            self._thread("reconcile", self._reconcile_loop, stop)

    def _thread(self, name: str, target, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
        thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _reconcile_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.settings.reconcile_interval_s):
            self.reconcile_round()

    def reconcile_round(self) -> list[int] | None:
        """One round; None when it was skipped because GitHub is not answering (the next round tries again)."""
        breaker = self.edge.breaker
        if breaker.retry_in() is not None:
            return self._skip_reconcile(f"GitHub at {breaker.host} is not answering")
        try:
            created = reconcile(self.github, _UntilGitHubFails(self.queue, breaker), self.published, self.states)
        except GitHubUnavailable as exc:
            return self._skip_reconcile(str(exc))
        except Exception:
            log.exception("reconcile failed")
            return []
        if breaker.retry_in() is not None:
            return self._skip_reconcile(f"GitHub at {breaker.host} stopped answering during the round")
        if created:
            log.info("reconcile: enqueued %d review(s) for unreviewed heads", len(created))
        return created

    def _skip_reconcile(self, why: str) -> None:
        self.metrics.reconcile_skipped.inc()
        log.warning("reconcile: round skipped: %s", why, extra={"fields": {"outcome": "skipped"}})
        return None


class _UntilGitHubFails:
    """The queue as reconcile sees it: its walk over the repositories ends once the breaker opens,
    so an outage costs the round one failed call, not one per repository."""

    def __init__(self, queue: Queue, breaker: CircuitBreaker):
        self._queue, self._breaker = queue, breaker

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._queue, name)

    def known_repositories(self) -> Iterator[tuple[str, int | None]]:
        for repository in self._queue.known_repositories():
            if self._breaker.retry_in() is not None:
                return
            yield repository


def build_service(settings: Settings, edge: GitHubEdge | None = None) -> Service:
    prepare_data_dir(settings.data_dir)  # the SQLite database, proof pages and logs live there
    engine = make_engine(settings.resolved_database_url)
    queue = Queue(engine)
    metrics = Metrics(queue.counts)
    edge = edge or GitHubEdge.from_settings(settings)
    CALLS.listeners.append(
        lambda account, method: metrics.github_calls.labels(installation=account, method=method).inc()
    )
    published = PublishedReviews(engine)
    states = PullStates(engine)
    proof_engine = ProofEngine(settings.data_dir)
    github = EdgePorts(edge, PermissionCache())
    base = MirrorFacts(proof_engine.workspace)
    progress = AutomergeProgress(states, base)
    automerge_job = AutomergeJob(
        github,
        states,
        published,
        progress,
        base,
        replacements=Replacements(MirrorBranches(proof_engine.workspace), queue, progress),
        workspace=proof_engine.workspace,
        sandbox=proof_engine.sandbox,
        queue=queue,
    )
    review_job = ReviewJob(
        github,
        proof_engine,
        published,
        states,
        queue=queue,
        automerge=automerge_job,
        public_url=settings.public_url,
        metrics=metrics,
        model=ModelReviewer.from_settings(settings),
        proof_store=proof_store_for(settings, engine),
        proof_links=proof_links_for(settings),
    )
    command_job = CommandJob(
        github,
        queue,
        states,
        published,
        automerge_job,
        handle=settings.command_handle,
        allowed_bots=frozenset(settings.allowed_bots),
    )
    return Service(
        settings=settings,
        queue=queue,
        metrics=metrics,
        edge=edge,
        github=github,
        review_job=review_job,
        command_job=command_job,
        automerge_job=automerge_job,
        published=published,
        states=states,
    )


def serve(settings: Settings, host: str, port: int, listener: socket.socket | None = None) -> None:
    """Serve on `listener` when the entry point already bound it (connections queued meanwhile are answered)."""
    import uvicorn

    service = build_service(settings)
    stop = threading.Event()
    service.start_background(stop)
    try:
        # log_config=None keeps the handler `reviewbot.service.logs` installed; each delivery has its own line.
        config = uvicorn.Config(service.app(), host=host, port=port, log_config=None, access_log=False)
        uvicorn.Server(config).run(sockets=[listener] if listener is not None else None)
    finally:
        stop.set()


def run_workers(settings: Settings, processes: int) -> None:
    """Queue workers as separate processes; SIGTERM/SIGINT stop them after their current job."""
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_worker_process, args=(settings,), name=f"reviewbot-worker-{i}")
        for i in range(processes)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join()


def _worker_process(settings: Settings) -> None:
    configure_logging(settings.log_format, settings.log_level)  # a spawned process starts unconfigured
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    service = build_service(settings)
    service.worker().run(stop)
