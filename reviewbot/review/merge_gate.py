"""Automerge's decision: a snapshot of live PR state in, one next step out. Pure, tested by tables.

Every gate is re-read from GitHub right before merging (the snapshot is taken
just then), and the merge pins the head SHA the gates were checked on, so a
push in between can never be merged unreviewed.

Gates, in order: the PR is open; automerge is armed and not paused; not a
draft (drafts are fix-only: brought up to date, never merged); a review of this exact head that
passed (proof `proven`, no P0/P1 finding: outcome `passed`, or `needs
maintainer review` — the maintainer who armed it is that review); every other
check on the head green (pending waits, it never counts as failed; the bot's
own check does not count); no conflicts; up to date with the base when GitHub
says it must be (`behind`: update the branch first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from reviewbot.model import Check, Verdict
from reviewbot.names import CHECK_NAME
from reviewbot.review.markdown import code_span
from reviewbot.review.outcome import OutcomeKind

# `needs maintainer review`: the maintainer who armed automerge is that review
MERGEABLE_OUTCOMES = frozenset({OutcomeKind.PASSED, OutcomeKind.NEEDS_MAINTAINER})


class AutomergeState(StrEnum):
    """Where a PR's automerge stands. Stored as these strings (`pull_states.automerge`, a CHECK keeps them)."""

    OFF = "off"  # never armed, or disarmed because the PR closed
    ARMED = "armed"  # advancing: every event and the reconcile take the next step
    PAUSED = "paused"  # a person must act (conflicts, a failed fix, an unvetted push); re-arming resumes it
    REPLACED = "replaced"  # the work moved to a replacement PR; new commits here are carried over to it
    MERGED = "merged"


class Step(StrEnum):
    MERGE = "merge"
    FIX = "fix"  # run the repository's `fix:` commands on this head and commit what they change
    WAIT = "wait"  # nothing to do until an event (a review, a check, a push) changes the picture
    UPDATE_BRANCH = "update branch"
    PAUSE = "pause"  # a person must act (conflicts, an unvetted push); automerge stays armed but paused
    DONE = "done"  # merged, closed, or disarmed: nothing more to do


@dataclass(frozen=True)
class MergeSnapshot:
    open: bool
    merged: bool
    draft: bool
    head_sha: str
    armed: bool
    paused: bool
    reviewed_head: str  # the head the last published review is about ("" when none)
    review_verdict: Verdict | None  # None when no review was published
    review_outcome: OutcomeKind | None
    checks: list[Check] = field(default_factory=list)
    mergeable: bool | None = None  # None: GitHub is still computing it
    mergeable_state: str = "unknown"  # clean | behind | dirty | blocked | unstable | unknown | draft
    conflicts: list[str] = field(default_factory=list)  # files in conflict with the base, when known
    fixes_pending: bool = False  # `fix:` commands are configured and have not run on this head
    behind_base: bool = False  # the base tip is not in the head's history (read for drafts, which GitHub
    #                           reports as "draft" whatever else holds)


@dataclass(frozen=True)
class Decision:
    step: Step
    reason: str  # markdown: file names in code spans


def decide_merge(s: MergeSnapshot) -> Decision:
    if s.merged:
        return Decision(Step.DONE, "merged")
    if not s.open:
        return Decision(Step.DONE, "the PR was closed without merging")
    if not s.armed:
        return Decision(Step.DONE, "automerge is not armed")
    if s.paused:
        return Decision(Step.WAIT, "paused: a maintainer comments `@reviewbot approve` to resume")
    if s.fixes_pending:
        return Decision(Step.FIX, "running the repository's fix commands on this head")
    if s.draft:  # fix-only: the bot may bring it up to date, never merge it
        if s.behind_base:
            return Decision(Step.UPDATE_BRANCH, "draft PR (fix-only): bringing it up to date with the base")
        return Decision(Step.WAIT, "draft PR: fix-only until GitHub marks it ready for review")
    if s.reviewed_head != s.head_sha:
        return Decision(Step.WAIT, f"waiting for the review of head {s.head_sha[:12]}")
    if s.review_verdict is not Verdict.PROVEN or s.review_outcome not in MERGEABLE_OUTCOMES:
        return Decision(Step.WAIT, f"the review of this head says {s.review_outcome or 'nothing yet'} "
                                   f"(proof {s.review_verdict or 'none'}); it must pass before a merge")
    others = [check for check in s.checks if check.name != CHECK_NAME]
    failed = sorted(check.name for check in others if check.state == "failure")
    if failed:
        return Decision(Step.WAIT, f"required check {', '.join(failed)} failed; a new push re-runs it")
    pending = sorted(check.name for check in others if check.state == "pending")
    if pending:
        return Decision(Step.WAIT, f"waiting for {', '.join(pending)}")
    if s.mergeable_state == "dirty" or s.mergeable is False:
        files = ", ".join(code_span(path) for path in s.conflicts[:10]) or "files GitHub did not name"
        return Decision(Step.PAUSE, f"conflicts with the base in {files}; resolve them and push")
    if s.mergeable is None:
        return Decision(Step.WAIT, "GitHub is still computing whether it can merge")
    if s.mergeable_state == "behind":
        return Decision(Step.UPDATE_BRANCH, "the base moved on and branch protection wants the PR up to date")
    return Decision(Step.MERGE, f"every gate passed for head {s.head_sha[:12]}")


def merge_message(title: str, number: int, summary: str, head_sha: str, authors: list[tuple[str, str]],
                  armed_by: str, armed_by_email: str) -> tuple[str, str]:
    """(commit title, message): the summary, the reviewed head, and trailers crediting every author."""
    trailers = []
    for name, email in authors:
        line = f"Co-authored-by: {name} <{email}>"
        if line not in trailers:
            trailers.append(line)
    trailers.append(f"Approved-by: {armed_by} <{armed_by_email}>")
    body = f"{summary.strip()}\n\nReviewed head: {head_sha}\n\n" + "\n".join(trailers)
    return f"{title} (#{number})", body
