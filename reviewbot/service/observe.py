"""Every `/webhook` answer counted and logged, whatever produced it: an ASGI middleware.

The handler cannot count its own 500s (it never returns), so counting happens around it:
the status is taken from the response as it is sent, and an exception that escapes the
app is counted as the 500 the server will answer. The handler leaves what it learnt about
the delivery (id, repo, PR, head, jobs, outcome) in `scope["state"]["delivery"]`; the one
log line per delivery is written here, after the answer, with those fields.

A client that hangs up before the answer is not an error of ours: it is logged as one
line ("client disconnected"), never as a stack trace.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviewbot.store.metrics import Metrics

log = logging.getLogger("reviewbot.webhook")

# Event labels are bounded: a sender chooses the header, and every new value would be a new time series.
KNOWN_EVENTS = frozenset(
    {
        "ping",
        "pull_request",
        "issue_comment",
        "check_suite",
        "check_run",
        "status",
        "installation",
        "installation_repositories",
        "push",
        "pull_request_review",
        "pull_request_review_comment",
        "issues",
        "create",
        "delete",
        "workflow_run",
        "workflow_job",
        "github_app_authorization",
        "repository",
    }
)


def event_label(raw: bytes | None) -> str:
    if not raw:
        return "none"
    event = raw.decode("latin-1").strip()
    return event if event in KNOWN_EVENTS else "other"


class DeliveryObserver:
    """Counts `/webhook` answers by event and status, times them, and logs one line each."""

    def __init__(self, app: ASGIApp, metrics: Metrics, path: str = "/webhook"):
        self.app, self.metrics, self.path = app, metrics, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        event = event_label(headers.get(b"x-github-event"))
        status = 500
        scope.setdefault("state", {})
        disconnected = False

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def listen() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        try:
            await self.app(scope, listen, watch)
        except OSError as exc:  # the socket went away while answering
            disconnected = True
            self._record(event, 499, started, scope, headers, f"client disconnected ({type(exc).__name__})")
            return
        except BaseException as exc:
            if disconnected:
                self._record(event, 499, started, scope, headers, "client disconnected")
                return
            self._record(event, 500, started, scope, headers, f"error: {type(exc).__name__}")
            raise
        self._record(event, status, started, scope, headers, None)

    def _record(self, event: str, status: int, started: float, scope: Scope, headers: dict, note: str | None) -> None:
        self.metrics.webhook_seconds.observe(time.perf_counter() - started)
        self.metrics.deliveries.labels(event=event, result=str(status)).inc()
        fields: dict[str, Any] = dict(scope["state"].get("delivery") or {})
        fields.setdefault("delivery", headers.get(b"x-github-delivery", b"").decode("latin-1")[:80] or "-")
        fields.setdefault("event", event)
        fields["status"] = status
        if note:
            fields["outcome"] = note
        outcome = fields.get("outcome", "")
        level = logging.ERROR if status >= 500 else logging.WARNING if status == 401 else logging.INFO
        log.log(
            level,
            "delivery %s %s: %s %s",
            fields["delivery"],
            fields.get("summary", fields["event"]),
            status,
            outcome,
            extra={"fields": fields},
        )
