"""What a webhook asks of the worker: the shared vocabulary of the service.

The webhook endpoint turns a delivery into `Action`s (pure, in `events.py`);
the queue stores `JobSpec`s; the worker runs one behaviour per job kind.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class JobKind(StrEnum):
    REVIEW = "review"  # prove and review a PR head, publish the comment, check run and labels
    COMMAND = "command"  # a maintainer command in a PR comment
    AUTOMERGE = "automerge"  # advance an armed PR's automerge: re-check every gate, then wait, update or merge


class Cancelled(Exception):
    """Raised by a behaviour that noticed its cancel event: the job ends as cancelled, not failed."""


class JobSpec(BaseModel):
    """One unit of work. Reviews are keyed by (repo, pr_number, kind, head_sha)."""

    kind: JobKind
    repo: str  # "owner/name"
    pr_number: int
    head_sha: str = ""  # "" when the event does not say (the worker reads the live head)
    installation_id: int | None = None  # GitHub App installation that delivered it
    reason: str = ""  # "opened", "synchronize", "edited", "reconcile", "comment", ...
    payload: dict[str, Any] = Field(default_factory=dict)  # what the behaviour needs beyond the key


class Enqueue(BaseModel):
    action: Literal["enqueue"] = "enqueue"
    job: JobSpec


class Cancel(BaseModel):
    """Stop queued and running work for a PR (closed): nothing is published for it."""

    action: Literal["cancel"] = "cancel"
    repo: str
    pr_number: int
    reason: str


class Ignore(BaseModel):
    """Acknowledged, nothing to do; the reason is returned to GitHub and logged."""

    action: Literal["ignore"] = "ignore"
    reason: str


Action = Enqueue | Cancel | Ignore
