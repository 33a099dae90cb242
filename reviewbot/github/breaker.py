"""A circuit breaker per GitHub host, and a way for a cancelled job to stop waiting on GitHub.

When GitHub (or a GHES host) is down, every call used to retry for about a minute: a job
burnt its attempts one minute at a time, a cancelled job kept waiting, and a reconcile
round cost a minute per repository. The breaker counts consecutive failures per host
(5xx answers, connection errors, timeouts; rate limits are GitHub answering and do not
count). Past `threshold` it opens for a cool-down that doubles on each failed probe
(15 s up to 5 min): retries stop at once with `GitHubUnavailable`, the worker defers its
jobs without spending an attempt, and reconcile skips its round. After the cool-down one
call goes through (half open); a success closes the breaker, and everything resumes.

The decisions (`CircuitBreaker`) are pure apart from the clock they are given.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

log = logging.getLogger("reviewbot.github")


class GitHubUnavailable(Exception):
    """GitHub at this host failed repeatedly; try again after `retry_in_s`."""

    def __init__(self, host: str, retry_in_s: float):
        super().__init__(f"GitHub at {host} is not answering; trying again in {retry_in_s:.0f} s")
        self.host, self.retry_in_s = host, retry_in_s


class CallCancelled(Exception):
    """The job a GitHub call belongs to was cancelled while the call waited to retry."""


class CircuitBreaker:
    def __init__(
        self,
        host: str,
        *,
        threshold: int = 5,
        cooldown_s: float = 15.0,
        max_cooldown_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.host, self.threshold = host, threshold
        self.base_cooldown_s, self.max_cooldown_s = cooldown_s, max_cooldown_s
        self.clock = clock
        self.failures = 0
        self.cooldown_s = cooldown_s
        self.opened_at: float | None = None
        self.opened_count = 0  # how many times it opened (a metric)
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def retry_in(self) -> float | None:
        """Seconds until a call may go out again; None when calls may go out now (closed or half open)."""
        with self._lock:
            if self.opened_at is None:
                return None
            left = self.opened_at + self.cooldown_s - self.clock()
            return left if left > 0 else None

    def success(self) -> None:
        with self._lock:
            was_open = self.opened_at is not None
            self.failures, self.opened_at, self.cooldown_s = 0, None, self.base_cooldown_s
        if was_open:
            log.warning(
                "GitHub at %s answers again: circuit closed, deferred work resumes",
                self.host,
                extra={"fields": {"host": self.host, "circuit": "closed"}},
            )

    def failure(self) -> bool:
        """Count a failure; True when the breaker is (now) open."""
        with self._lock:
            self.failures += 1
            if self.opened_at is not None:  # a half-open probe failed: wait longer
                self.cooldown_s = min(self.max_cooldown_s, self.cooldown_s * 2)
                self.opened_at = self.clock()
                return True
            if self.failures < self.threshold:
                return False
            self.opened_at, self.opened_count = self.clock(), self.opened_count + 1
            cooldown = self.cooldown_s
        log.warning(
            "GitHub at %s failed %d times in a row: circuit open, jobs deferred for %.0f s",
            self.host,
            self.threshold,
            cooldown,
            extra={"fields": {"host": self.host, "circuit": "open"}},
        )
        return True

    def unavailable(self) -> GitHubUnavailable:
        return GitHubUnavailable(self.host, self.retry_in() or self.cooldown_s)


_BREAKERS: dict[str, CircuitBreaker] = {}
_BREAKERS_LOCK = threading.Lock()


def host_of(api_url: str) -> str:
    return urlsplit(api_url).netloc or api_url


def breaker_for(api_url: str) -> CircuitBreaker:
    """The process-wide breaker of this API URL's host (all edges to one host share it)."""
    host = host_of(api_url)
    with _BREAKERS_LOCK:
        if host not in _BREAKERS:
            _BREAKERS[host] = CircuitBreaker(host)
        return _BREAKERS[host]


def breakers() -> list[CircuitBreaker]:
    with _BREAKERS_LOCK:
        return list(_BREAKERS.values())


def reset_breakers() -> None:
    """Forget every breaker (tests)."""
    with _BREAKERS_LOCK:
        _BREAKERS.clear()


# --- cancellation of waits --------------------------------------------------------------------------

_cancel: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("reviewbot_cancel", default=None)


@contextlib.contextmanager
def cancel_on(event: threading.Event) -> Iterator[None]:
    """GitHub calls made inside stop waiting to retry (`CallCancelled`) once `event` is set."""
    token = _cancel.set(event)
    try:
        yield
    finally:
        _cancel.reset(token)


def wait_or_cancel(seconds: float) -> None:
    """Sleep before a retry, unless the current job is cancelled first."""
    event = _cancel.get()
    if event is None:
        if seconds > 0:
            time.sleep(seconds)
        return
    if event.is_set() or event.wait(max(0.0, seconds)):
        raise CallCancelled("the job was cancelled while a GitHub call waited to retry")
