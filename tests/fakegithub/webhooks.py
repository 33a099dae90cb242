"""Webhook deliveries as GitHub sends them: signed bodies, GitHub's headers, payloads from the fake's state.

Payloads start from GitHub's published examples (`webhooks/*.json`, from @octokit/webhooks-examples)
so they keep GitHub's shape; the repository, pull request, sender and installation are then
filled from the fake's state with the same renderers the REST API uses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .render import Renderer
from .state import IssueComment, PullRequest, State, User

EXAMPLES = Path(__file__).parents[1] / "data" / "webhooks"  # GitHub's examples, shared with the event tests


@dataclass(frozen=True)
class Delivery:
    url: str
    event: str
    delivery_id: str
    status: int | None
    at: datetime


def example(event: str, action: str) -> dict:
    """GitHub's example payload for an event/action (the richest one, with an installation if any)."""
    candidates = sorted(EXAMPLES.glob(f"{event}.{action}.*.json"))
    if not candidates:
        candidates = sorted(EXAMPLES.glob(f"{event}.opened.*.json")) or sorted(EXAMPLES.glob(f"{event}.*.json"))
    if not candidates:
        raise LookupError(f"no example payload for {event}.{action}")
    loaded = [json.loads(p.read_text()) for p in candidates]
    with_installation = [p for p in loaded if "installation" in p]
    return (with_installation or loaded)[-1]


def shaped_like(template: Any, ours: Any) -> Any:
    """`ours`, with keys ordered like GitHub's example and any key the example has but we lack set to None."""
    if isinstance(template, dict) and isinstance(ours, dict):
        out = {}
        for key, value in template.items():
            out[key] = shaped_like(value, ours[key]) if key in ours else None
        for key, value in ours.items():
            if key not in out:
                out[key] = value
        return out
    return ours


def missing_keys(template: Any, ours: Any, prefix: str = "") -> list[str]:
    """Keys GitHub's example has that ours does not (the test-suite keeps this empty)."""
    found: list[str] = []
    if isinstance(template, dict) and isinstance(ours, dict):
        for key, value in template.items():
            if key not in ours:
                found.append(prefix + key)
            elif isinstance(value, dict) and isinstance(ours[key], dict):
                found += missing_keys(value, ours[key], f"{prefix}{key}.")
    return found


def installation_stub(installation_id: int) -> dict:
    from .render import node_id

    return {"id": installation_id, "node_id": node_id("Installation", installation_id)}


def pull_request_payload(
    state: State,
    render: Renderer,
    pull: PullRequest,
    action: str,
    installation_id: int,
    sender: User | None = None,
    before: str | None = None,
    after: str | None = None,
    label: str | None = None,
) -> dict:
    template = example("pull_request", action)
    with state.lock:
        state.sync_pull(pull)
        ours: dict[str, Any] = {
            "action": action,
            "number": pull.number,
            "pull_request": render.pull(pull),
            "repository": render.repository(pull.repo, full=True),
            "installation": installation_stub(installation_id),
            "sender": render.user(sender or pull.user),
        }
        if pull.repo.owner.type == "Organization":
            ours["organization"] = render.user(pull.repo.owner)
        if action == "synchronize":
            ours["before"] = before or (pull.head_history[-1] if pull.head_history else pull.head_sha)
            ours["after"] = after or pull.head_sha
        if action in ("labeled", "unlabeled"):
            match = next((lb for lb in pull.repo.labels.values() if lb.name == label), None)
            ours["label"] = render.label(match, pull.repo) if match else {"name": label}
        if action == "edited":
            ours["changes"] = {}
    for key in ("before", "after", "label", "changes"):
        if key in template and key not in ours:
            template = {k: v for k, v in template.items() if k != key}
    if "organization" not in ours:
        template = {k: v for k, v in template.items() if k != "organization"}
    return shaped_like(template, ours)


def issue_comment_payload(
    state: State,
    render: Renderer,
    comment: IssueComment,
    action: str,
    installation_id: int,
) -> dict:
    template = example("issue_comment", action)
    with state.lock:
        issue = comment.repo.issues[comment.issue_number]
        ours: dict[str, Any] = {
            "action": action,
            "issue": render.issue(issue),
            "comment": render.comment(comment),
            "repository": render.repository(comment.repo, full=True),
            "installation": installation_stub(installation_id),
            "sender": render.user(comment.user),
        }
        if action == "edited":
            ours["changes"] = {"body": {"from": comment.body}}
        if comment.repo.owner.type == "Organization":
            ours["organization"] = render.user(comment.repo.owner)
    template = {k: v for k, v in template.items() if k in ours}
    return shaped_like(template, ours)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(
    app_url: str,
    event: str,
    payload: dict,
    secret: str,
    delivery_id: str | None = None,
    *,
    hook_id: int = 123456789,
    app_id: int | None = None,
    timeout: float = 30.0,
) -> tuple[httpx.Response, Delivery]:
    """POST one webhook signed with `secret` exactly the way GitHub's Hookshot does."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    delivery_id = delivery_id or str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc123",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-GitHub-Hook-ID": str(hook_id),
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": sign(secret, body),
    }
    if app_id is not None:
        headers["X-GitHub-Hook-Installation-Target-Type"] = "integration"
        headers["X-GitHub-Hook-Installation-Target-ID"] = str(app_id)
    response = httpx.post(app_url, content=body, headers=headers, timeout=timeout)
    return response, Delivery(app_url, event, delivery_id, response.status_code, datetime.now(UTC))
