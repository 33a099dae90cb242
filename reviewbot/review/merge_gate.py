"""Automerge's decision: a snapshot of live PR state in, one next step out. Pure, tested by tables.

Every gate is re-read from GitHub right before merging (the snapshot is taken
just then), and the merge pins the head SHA the gates were checked on, so a
push in between can never be merged unreviewed.

Gates, in order: the PR is open; automerge is armed; not a draft (a draft waits:
its branch is never fixed, updated or merged until it is marked ready); not paused;
a review of this exact head that passed (proof `proven`, no P0/P1 finding: outcome
`passed`, or `needs maintainer review` — the maintainer who armed it is that
review); every required check on the head green (branch protection's and the
rulesets' list; every other check when that list cannot be read; pending waits,
it never counts as failed; the bot's own check does not count); no conflicts; up
to date with the base when GitHub says it must be (`behind`: update the branch first).

The decision is the step of `pr_state.pull_request_state`, the same state `status` and
the automerge comment render, so what the bot does and what it says cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.review.pr_state import (  # noqa: F401 - re-exported: automerge's vocabulary lives here
    MERGEABLE_OUTCOMES,
    AutomergeState,
    MergeSnapshot,
    Step,
    pull_request_state,
)


@dataclass(frozen=True)
class Decision:
    step: Step
    reason: str  # markdown: file and check names in code spans


def decide_merge(s: MergeSnapshot) -> Decision:
    state = pull_request_state(s)
    return Decision(state.step, state.reason)


def merge_message(
    title: str,
    number: int,
    summary: str,
    head_sha: str,
    authors: list[tuple[str, str]],
    armed_by: str,
    armed_by_email: str,
) -> tuple[str, str]:
    """(commit title, message): the summary, the reviewed head, and trailers crediting every author."""
    trailers = []
    for name, email in authors:
        line = f"Co-authored-by: {name} <{email}>"
        if line not in trailers:
            trailers.append(line)
    trailers.append(f"Approved-by: {armed_by} <{armed_by_email}>")
    body = f"{summary.strip()}\n\nReviewed head: {head_sha}\n\n" + "\n".join(trailers)
    return f"{title} (#{number})", body
