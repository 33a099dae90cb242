"""`reviewbot replay`: a webhook payload saved from GitHub, routed into the queue as if it had arrived.

For a delivery the service never got: it was down longer than GitHub waits, or the webhook
was misconfigured, and GitHub's "Recent deliveries" page still shows the payload. The same
checks (`service.intake`: event name, delivery id, depth, text), routing and one-transaction
accept as `/webhook`, without a signature: whoever runs this holds the database, which is more
than a signature proves. Given GitHub's delivery id, replaying a delivery the service did get
is a duplicate and changes nothing; a dry run looks the id up too, so it says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from reviewbot.review.commands import handles_for
from reviewbot.service.events import PayloadError, delivery_summary, route
from reviewbot.service.intake import IntakeError, check_delivery_id, check_event, parse_payload
from reviewbot.store.jobs import Cancel, Enqueue, Ignore
from reviewbot.store.queue import Queue


@dataclass(frozen=True)
class Replayed:
    delivery_id: str
    actions: list[str]  # what the routing asked for, in words
    stored: bool  # False for a dry run or a duplicate
    duplicate: bool = False
    job_ids: list[int] = field(default_factory=list)


def read_payload(raw: bytes) -> dict:
    """The saved body, checked as `/webhook` checks it; PayloadError says what is wrong with it."""
    try:
        return parse_payload(raw)
    except IntakeError as exc:
        raise PayloadError(str(exc)) from None


def replay(
    queue: Queue,
    event: str,
    raw: bytes,
    *,
    delivery_id: str = "",
    bot_login: str,
    command_handle: str,
    dry_run: bool = False,
) -> Replayed:
    """Route one saved delivery and store its jobs; a dry run stores nothing but still finds duplicates."""
    try:
        event = check_event(event)
        delivery_id = check_delivery_id(delivery_id) if delivery_id else ""
    except IntakeError as exc:
        raise PayloadError(str(exc).replace(" header", "")) from None
    payload = read_payload(raw)
    actions = route(event, payload, bot_login=bot_login, command_prefixes=handles_for(command_handle))
    delivery_id = delivery_id or f"replay-{hashlib.sha256(event.encode() + b':' + raw).hexdigest()[:32]}"
    described = [_describe(action) for action in actions]
    if dry_run:
        seen = queue.delivery_jobs(delivery_id)
        return Replayed(delivery_id, described, stored=False, duplicate=seen is not None, job_ids=seen or [])
    duplicate, job_ids, _, _ = queue.accept_delivery(delivery_id, event, delivery_summary(event, payload), actions)
    return Replayed(delivery_id, described, stored=not duplicate, duplicate=duplicate, job_ids=job_ids)


def _describe(action: Enqueue | Cancel | Ignore) -> str:
    if isinstance(action, Enqueue):
        job = action.job
        head = f" at {job.head_sha[:12]}" if job.head_sha else ""
        return f"queue a {job.kind.value} of {job.repo}#{job.pr_number}{head} ({job.reason})"
    if isinstance(action, Cancel):
        return f"cancel the work on {action.repo}#{action.pr_number} ({action.reason})"
    return f"ignore: {action.reason}"
