"""Fault injection: the ways GitHub misbehaves, on demand and reproducibly.

A bot that talks to GitHub must survive 502s, both kinds of rate limit, 429s, slow answers
and dropped connections — and the worst one for exactly-once writes: a request GitHub
applies whose answer is then lost (`applied_5xx`: the write happens, the client gets a
502; `applied_drop`: the write happens, the connection closes). Tests add rules; the server consults them before routing each
request. A rule fires on requests whose method and path match, at most `times` times
(None: forever), and — when `probability` is set — only when its own seeded random
generator says so, so a run is deterministic for a given seed.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from dataclasses import dataclass, field

KINDS = ("5xx", "secondary_rate_limit", "rate_limit", "429", "slow", "drop", "applied_5xx", "applied_drop")
APPLIED = ("applied_5xx", "applied_drop")  # the request is routed and applied; only its answer is lost
DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID 0000:FAKE:0000000:0000000:00000000."
)


@dataclass
class FaultRule:
    kind: str
    path_glob: str = "*"
    method: str = "*"
    times: int | None = 1
    probability: float | None = None
    seed: int = 0
    status: int = 502
    retry_after: int | None = None
    reset_in: int = 60
    seconds: float = 1.0
    fired: int = 0
    seen: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {KINDS}")
        self._rng = random.Random(self.seed)

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path_glob)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def response(self) -> tuple[int, dict[str, str], dict | None]:
        """(status, headers, JSON body) of the injected answer; `slow`, `drop` and `applied_drop` have none."""
        if self.kind in ("5xx", "applied_5xx"):
            return self.status, {}, {"message": "Server Error", "documentation_url": DOCS, "status": str(self.status)}
        if self.kind == "secondary_rate_limit":
            headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
            body = {
                "message": SECONDARY_MESSAGE,
                "documentation_url": f"{RATE_DOCS}#about-secondary-rate-limits",
                "status": "403",
            }
            return 403, headers, body
        if self.kind == "rate_limit":
            reset = int(time.time()) + self.reset_in
            headers = {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Used": "5000",
                "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Resource": "core",
            }
            body = {
                "message": "API rate limit exceeded for installation. If you reach out to GitHub Support for help, "
                "please include the request ID 0000:FAKE:0000000:0000000:00000000.",
                "documentation_url": f"{RATE_DOCS}#about-the-primary-rate-limit",
                "status": "403",
            }
            return 403, headers, body
        if self.kind == "429":
            headers = {"Retry-After": str(self.retry_after if self.retry_after is not None else 1)}
            return 429, headers, {"message": "Too Many Requests", "documentation_url": DOCS, "status": "429"}
        raise ValueError(f"{self.kind} has no response")


class Faults:
    """The rule list the server consults per request (first matching rule that fires wins)."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self,
        kind: str,
        *,
        path_glob: str = "*",
        method: str = "*",
        times: int | None = 1,
        probability: float | None = None,
        seed: int = 0,
        status: int = 502,
        retry_after: int | None = None,
        reset_in: int = 60,
        seconds: float = 1.0,
    ) -> FaultRule:
        """Add a rule. `status` is for 5xx and applied_5xx, `retry_after` for secondary_rate_limit/429,
        `reset_in` (seconds until X-RateLimit-Reset) for rate_limit, `seconds` for slow."""
        rule = FaultRule(
            kind=kind,
            path_glob=path_glob,
            method=method,
            times=times,
            probability=probability,
            seed=seed,
            status=status,
            retry_after=retry_after,
            reset_in=reset_in,
            seconds=seconds,
        )
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            if rule in self.rules:
                self.rules.remove(rule)

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (counts it as fired)."""
        with self._lock:
            for rule in self.rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.probability is not None and rule._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None
