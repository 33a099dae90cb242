"""Gather a PR's live facts for `pr_state.pull_request_state`: GitHub through the port, the stores, the base.

The one reader behind automerge's step, `@reviewbot status` and the automerge comment's header,
so all three see the same facts: the PR, the published review of its head, what the queue
holds for that head, the pause and automerge state, the checks and which of them branch
protection requires, and (for an armed automerge) the base's config.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.bot.base_facts import BaseFacts
from reviewbot.github.port import GitHubPort
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.repo_config import ConfigError
from reviewbot.review.markdown import code_span
from reviewbot.review.pr_state import AutomergeState, MergeSnapshot, PullRequestState, ReviewWork, pull_request_state
from reviewbot.store.pull_state import PullState, PullStates
from reviewbot.store.queue import JobState, PublishedReviews, Queue

_WORK = {JobState.QUEUED: ReviewWork.QUEUED, JobState.RUNNING: ReviewWork.RUNNING}


def config_problem(error: ConfigError) -> str:
    """An invalid base config, each problem as the config check words it, in code spans."""
    problems = "; ".join(code_span(problem) for problem in error.problems)
    return (
        f"{code_span(error.source)} on the base branch is invalid ({problems}); automerge waits "
        "until a push to the base fixes it"
    )


@dataclass
class PullRequestFacts:
    published: PublishedReviews
    states: PullStates
    base: BaseFacts  # the base's config and conflicts (git)
    queue: Queue | None = None  # what is queued or running for the head; None: nothing is known to be

    def snapshot(
        self,
        github: GitHubPort,
        pr: PullRequestInfo,
        state: PullState | None = None,
        *,
        conflict_files: bool = True,
        fixes_pending: bool = False,
    ) -> MergeSnapshot:
        """`conflict_files`: name the conflicting files (a git merge on the mirror) when GitHub says there are
        conflicts; `fixes_pending`: the caller's own knowledge that `fix:` commands have not run on this head."""
        state = state or self.states.get(pr.repo, pr.number)
        review = self.published.get(pr.repo, pr.number)
        current = review is not None and review.head_sha == pr.head_sha
        work = None
        if pr.open and not current and self.queue is not None:
            work = self.queue.review_of_head(pr.repo, pr.number, pr.head_sha)
        problem = ""
        if pr.open and state.automerge is AutomergeState.ARMED:
            config = self.base.config(pr, github.git_auth_header)
            problem = config_problem(config) if isinstance(config, ConfigError) else ""
        conflicted = pr.mergeable is False or pr.mergeable_state == "dirty"
        return MergeSnapshot(
            open=pr.open,
            merged=pr.merged,
            draft=pr.draft,
            head_sha=pr.head_sha,
            automerge=state.automerge,
            paused=state.paused,
            reviewed_head=review.head_sha if review else "",
            review_verdict=review.verdict if review else None,
            review_outcome=review.outcome if review else None,
            review_rank=review.rank if current and review else "",
            review_next_step=(review.next_step or "") if current and review else "",
            checks=github.checks(pr.repo, pr.head_sha) if pr.open else [],
            required_checks=_required(github, pr),
            mergeable=pr.mergeable,
            mergeable_state=pr.mergeable_state,
            conflicts=self.base.conflicts(pr, github.git_auth_header) if conflict_files and conflicted else [],
            fixes_pending=fixes_pending and not problem,
            review_work=_WORK[work] if work else ReviewWork.NONE,
            config_problem=problem,
        )

    def state(
        self,
        github: GitHubPort,
        pr: PullRequestInfo,
        state: PullState | None = None,
        *,
        conflict_files: bool = True,
        fixes_pending: bool = False,
    ) -> PullRequestState:
        return pull_request_state(
            self.snapshot(github, pr, state, conflict_files=conflict_files, fixes_pending=fixes_pending)
        )


def _required(github: GitHubPort, pr: PullRequestInfo) -> tuple[str, ...] | None:
    if not pr.open:
        return None
    names = github.required_checks(pr.repo, pr.base_ref)
    return tuple(names) if names is not None else None
