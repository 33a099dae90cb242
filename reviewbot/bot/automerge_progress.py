"""Automerge's state and its one comment: arming, and a progress row for every step that changed something.

Shared by the automerge behaviour and the replacement behaviour (a replacement PR is
armed the same way as its source), so neither has to call back into the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from reviewbot.bot.base_facts import BaseFacts
from reviewbot.github.port import GitHubPort, upsert_status_comment
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.names import AUTOMERGE_LABEL
from reviewbot.repo_config import ConfigError
from reviewbot.review import status_comments
from reviewbot.review.markdown import escape_inline
from reviewbot.review.pr_state import AutomergeState, PullRequestState
from reviewbot.store.pull_state import PullState, PullStates


class AutomergeProgress:
    def __init__(self, states: PullStates, base: BaseFacts, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.states, self.base, self.now = states, base, now

    def arm_number(self, github: GitHubPort, repo: str, number: int, by: str) -> None:
        self.arm(github, github.pull_request(repo, number), by)

    def arm(self, github: GitHubPort, pr: PullRequestInfo, by: str) -> None:
        state = self.states.update(
            pr.repo, pr.number, automerge=AutomergeState.ARMED, armed_by=by, armed_head=pr.head_sha
        )
        github.add_labels(pr.repo, pr.number, [AUTOMERGE_LABEL])
        self.record(github, pr, state, "armed", f"by {escape_inline('@' + by)}", force=True)

    def record(
        self,
        github: GitHubPort,
        pr: PullRequestInfo,
        state: PullState,
        step: str,
        outcome: str,
        force: bool = False,
        view: PullRequestState | None = None,
        **changes: object,
    ) -> None:
        """A progress row when something changed, the new state, and the comment re-rendered.

        `view`: the PR's state this step was decided on; the header renders from it (without one, from the
        stored automerge state alone)."""
        if changes:
            state = self.states.update(pr.repo, pr.number, **changes)
        last = state.automerge_log[-1] if state.automerge_log else None
        if force or last is None or (last[1], last[2], last[3]) != (step, pr.head_sha, outcome):
            state = self.states.log_automerge(
                pr.repo, pr.number, (self.now().strftime("%Y-%m-%d %H:%M UTC"), step, pr.head_sha, outcome)
            )
        elif not changes:
            return  # nothing new to say: no edit, no API call
        config = self.base.config(pr, github.git_auth_header)
        method = None if isinstance(config, ConfigError) else config.automerge.method
        body = status_comments.automerge(
            state.armed_by,
            method,
            state.automerge,
            [tuple(row) for row in state.automerge_log],
            view if view is not None and view.head_sha == pr.head_sha else None,
        )
        upsert_status_comment(github, pr.repo, pr.number, status_comments.status_marker("automerge"), body)
