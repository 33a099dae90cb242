"""The worker loop: claim a job, keep its lease alive, run its behaviour, record how it ended.

One job at a time per worker. A heartbeat thread renews the lease and learns
whether the job was cancelled (PR closed) or superseded (a newer head); it then
sets the job's cancel event, which kills the sandbox, and the behaviour
publishes nothing. An exception is an infrastructure failure: the job is retried
with backoff and, after its last attempt, handed to `on_dead` so the PR says so.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping

from reviewbot.github.breaker import CallCancelled, CircuitBreaker, GitHubUnavailable, cancel_on
from reviewbot.store.jobs import Cancelled, JobKind
from reviewbot.store.metrics import Metrics
from reviewbot.store.queue import Control, Job, JobState, Queue

log = logging.getLogger("reviewbot.worker")

Handler = Callable[[Job, threading.Event], None]
DeadLetter = Callable[[Job, str], None]


def job_fields(job: Job) -> dict:
    """The facts every log line about a job carries (see `service.logs`)."""
    return {
        "job": job.id,
        "kind": job.spec.kind.value,
        "repo": job.spec.repo,
        "pr": job.spec.pr_number,
        "head": job.spec.head_sha or None,
        "attempt": job.attempts,
    }


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        queue: Queue,
        handlers: Mapping[JobKind, Handler],
        *,
        name: str | None = None,
        lease_s: float = 120.0,
        on_dead: DeadLetter | None = None,
        metrics: Metrics | None = None,
        github: CircuitBreaker | None = None,
    ):
        """`github`: the breaker of the GitHub host the handlers talk to; while it is open, jobs wait."""
        self.github = github
        self.queue = queue
        self.handlers = handlers
        self.name = name or worker_id()
        self.lease_s = lease_s
        self.on_dead = on_dead
        self.metrics = metrics

    def run(self, stop: threading.Event, idle_s: float = 0.5) -> None:
        """Recover what dead workers left, then work until `stop` is set; sleep `idle_s` when the queue is empty."""
        self.recover()
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("worker %s: queue error", self.name)
                worked = False
            if not worked:
                stop.wait(idle_s)

    def recover(self) -> None:
        """Let each behaviour that keeps state on disk (`recover()`) clean up after killed workers.

        A killed worker's job needs nothing here: its lease runs out and another worker claims it.
        """
        for handler in {id(h): h for h in self.handlers.values()}.values():
            recover = getattr(handler, "recover", None)
            if recover is None:
                continue
            try:
                recover()
            except Exception:
                log.exception("worker %s: recovery in %s failed", self.name, type(handler).__name__)

    def run_once(self) -> bool:
        """Claim and run one job; False when there was nothing to do."""
        job = self.queue.claim(self.name, self.lease_s)
        if job is None:
            return False
        started = time.monotonic()
        fields = job_fields(job)
        wait = self.github.retry_in() if self.github is not None else None
        if wait is not None:
            self._defer(job, fields, wait, f"GitHub at {self.github.host} is not answering")  # type: ignore[union-attr]
            return True
        log.info(
            "job %s %s %s#%s: started (attempt %s)",
            job.id,
            job.spec.kind.value,
            job.spec.repo,
            job.spec.pr_number,
            job.attempts,
            extra={"fields": {**fields, "outcome": "started"}},
        )
        cancel = threading.Event()
        done = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(job, cancel, done), daemon=True, name=f"heartbeat-{job.id}"
        )
        beat.start()
        result = "done"
        try:
            handler = self.handlers[job.spec.kind]
            with cancel_on(cancel):
                handler(job, cancel)
            if cancel.is_set():
                raise Cancelled
        except (Cancelled, CallCancelled):
            result = "cancelled"
            self.queue.cancelled(job.id, self.name)
        except GitHubUnavailable as exc:
            result = "deferred"
            self._defer(job, fields, exc.retry_in_s, str(exc))
        except Exception as exc:  # noqa: BLE001 - every failure is retried, then dead-lettered
            result = "failed"
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
            log.warning(
                "job %s (%s %s#%s) failed on attempt %s: %s",
                job.id,
                job.spec.kind.value,
                job.spec.repo,
                job.spec.pr_number,
                job.attempts,
                exc,
                extra={"fields": {**fields, "error": str(exc)[:300]}},
            )
            failure = self.queue.fail(job.id, self.name, error)
            if failure is not None and failure.state == JobState.DEAD and self.on_dead is not None:
                result = "dead"
                self._dead_letter(job, f"{type(exc).__name__}: {exc}")
        else:
            self.queue.complete(job.id, self.name)
        finally:
            done.set()
            beat.join()
            log.info(
                "job %s %s %s#%s: %s",
                job.id,
                job.spec.kind.value,
                job.spec.repo,
                job.spec.pr_number,
                result,
                extra={"fields": {**fields, "outcome": result, "seconds": round(time.monotonic() - started, 3)}},
            )
            if self.metrics is not None:
                self.metrics.job_seconds.labels(kind=job.spec.kind.value, result=result).observe(
                    time.monotonic() - started
                )
        return True

    def _defer(self, job: Job, fields: dict, wait_s: float, reason: str) -> None:
        """Back in the queue after `wait_s`, its attempt given back: an outage is not the job's failure."""
        self.queue.defer(job.id, self.name, wait_s, reason)
        if self.metrics is not None:
            self.metrics.deferred.labels(kind=job.spec.kind.value).inc()
        log.warning(
            "job %s %s %s#%s: deferred %.0f s: %s",
            job.id,
            job.spec.kind.value,
            job.spec.repo,
            job.spec.pr_number,
            wait_s,
            reason,
            extra={"fields": {**fields, "outcome": "deferred", "retry_in_s": round(wait_s, 1)}},
        )

    def _heartbeat(self, job: Job, cancel: threading.Event, done: threading.Event) -> None:
        interval = max(0.2, min(2.0, self.lease_s / 4))
        while not done.wait(interval):
            try:
                control = self.queue.heartbeat(job.id, self.name, self.lease_s)
            except Exception:
                log.exception("heartbeat for job %s failed", job.id)
                continue
            if control is not Control.CONTINUE:
                log.info(
                    "job %s: %s", job.id, control.value, extra={"fields": {**job_fields(job), "outcome": control.value}}
                )
                cancel.set()
                return

    def _dead_letter(self, job: Job, error: str) -> None:
        try:
            self.on_dead(job, error)  # type: ignore[misc]
        except Exception:
            log.exception("could not report dead job %s on %s#%s", job.id, job.spec.repo, job.spec.pr_number)
