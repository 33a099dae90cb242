"""Automerge: advance an armed PR one step, from live GitHub state, and say so in one comment.

Events move it (a published review, a check or status completing, a push, an
approve) and so does the periodic reconcile, so a lost webhook only delays it.
Each run takes a fresh snapshot, asks `merge_gate.decide_merge` for the next
step, and does it: wait, update the branch, pause, or merge with the head
pinned. Every step that changes the picture becomes a row of the comment's
"Automerge progress" table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reviewbot.bot.replacement import Replacements
from reviewbot.github.client import Connection, GitHubEdge, calls_as
from reviewbot.github.comments import upsert_status_comment
from reviewbot.github.merging import checks_on, commit_authors, merge, update_branch
from reviewbot.github.permissions import PermissionCache
from reviewbot.github.pulls import PullRequestInfo, get_pull_request
from reviewbot.model import Permission
from reviewbot.names import AUTOMERGE_LABEL, noreply_email
from reviewbot.proof.branches import Identity, push
from reviewbot.proof.fixes import apply_fixes
from reviewbot.proof.sandbox import Sandbox
from reviewbot.proof.workspace import Workspace, WorkspaceError
from reviewbot.repo_config import CONFIG_PATH, ConfigError, RepoConfig, parse_config
from reviewbot.review import status_comments
from reviewbot.review.markdown import code_span, escape_inline
from reviewbot.review.merge_gate import AutomergeState, MergeSnapshot, Step, decide_merge, merge_message
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.pull_state import PullState, PullStates
from reviewbot.store.queue import Job, PublishedReviews, Queue

ADVANCING = frozenset({AutomergeState.ARMED, AutomergeState.REPLACED})  # automerge states an event should move along


def queue_step(queue: Queue, states: PullStates, repo: str, number: int, installation_id: int | None,
               reason: str) -> int | None:
    """Queue one automerge step for a PR whose automerge is under way; the job id, or None when it is not."""
    if states.get(repo, number).automerge not in ADVANCING:
        return None
    job_id, new = queue.enqueue(JobSpec(kind=JobKind.AUTOMERGE, repo=repo, pr_number=number,
                                        installation_id=installation_id, reason=reason))
    return job_id if new else None


@dataclass
class AutomergeJob:
    edge: GitHubEdge
    states: PullStates
    published: PublishedReviews
    permissions: PermissionCache
    workspace: Workspace
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    replacements: Replacements | None = None  # where the work goes when the PR branch cannot be updated
    sandbox: Sandbox | None = None  # runs the repository's `fix:` commands
    _configs: dict[tuple[str, str], RepoConfig | ConfigError] = field(default_factory=dict, repr=False)

    def __call__(self, job: Job, cancel: threading.Event) -> None:
        spec = job.spec
        connection = self.edge.connection(spec.installation_id)
        numbers = [spec.pr_number] if spec.pr_number else self.states.armed(spec.repo)  # a status names no PR
        for number in numbers:
            self.advance(connection, spec.repo, number)

    def check_push(self, connection: Connection, pr: PullRequestInfo, pushed_by: str) -> None:
        """A new head pushed by someone without write access pauses an armed automerge until it is re-armed."""
        state = self.states.get(pr.repo, pr.number)
        if pushed_by.lower() == self.edge.bot_login().lower():
            return  # the bot's own update-branch
        if state.automerge is AutomergeState.ARMED and pr.head_sha != state.armed_head \
                and not self._may_write(connection, pr.repo, pushed_by):
            self._record(connection, pr, state, "push", f"pushed by {escape_inline('@' + pushed_by)}, who cannot "
                                                        "write here: paused until a maintainer re-arms it",
                         automerge=AutomergeState.PAUSED)

    def advance(self, connection: Connection, repo: str, number: int) -> None:
        state = self.states.get(repo, number)
        if state.automerge is AutomergeState.REPLACED and self.replacements is not None:
            pr = get_pull_request(connection, repo, number)
            if pr.open:  # the source moved on: its new commits go to the replacement (never a force-push)
                self.replacements.replace(connection, pr, state.armed_by)
            return
        if state.automerge is not AutomergeState.ARMED:
            return
        pr = get_pull_request(connection, repo, number)
        if pr.open and (invalid := self._config_error(connection, pr)) is not None:
            # its merge method and fix commands are what the maintainers asked for: never merge on defaults
            self._record(connection, pr, state, "config", _config_problem(invalid))
            return
        decision = decide_merge(self._snapshot(connection, pr, state))
        if decision.step is Step.MERGE:
            self._merge(connection, pr, state)
        elif decision.step is Step.FIX:
            self._fix(connection, pr, state)
        elif decision.step is Step.UPDATE_BRANCH:
            writable = pr.head_repo == pr.repo or pr.maintainer_can_modify  # else GitHub would refuse anyway
            if writable and update_branch(connection, repo, number, pr.head_sha):
                self._record(connection, pr, state, "update branch", "merged the base into the PR; the new head "
                                                                      "gets its own review")
            else:
                self._replace(connection, pr, state)
        elif decision.step is Step.DONE:
            self._record(connection, pr, state, "done", decision.reason,
                         automerge=AutomergeState.MERGED if pr.merged else AutomergeState.OFF)
        else:
            self._record(connection, pr, state, decision.step.value, decision.reason)

    def _replace(self, connection: Connection, pr: PullRequestInfo, state: PullState, start: str | None = None) -> None:
        refused = "GitHub refused to update the branch (no push rights to it)"
        result = self.replacements.replace(connection, pr, state.armed_by, start) if self.replacements else \
            "replacement PRs are not enabled"
        if isinstance(result, str):
            self._record(connection, pr, state, "update branch", f"{refused}, and {escape_inline(result)}; paused",
                         automerge=AutomergeState.PAUSED)
        else:
            self._record(connection, pr, state, "replacement", f"{refused}: the work continues in #{result.number}, "
                                                               "armed the same way", automerge=AutomergeState.REPLACED)

    def arm_number(self, connection: Connection, repo: str, number: int, by: str) -> None:
        self.arm(connection, get_pull_request(connection, repo, number), by)

    def arm(self, connection: Connection, pr: PullRequestInfo, by: str) -> None:
        state = self.states.update(pr.repo, pr.number, automerge=AutomergeState.ARMED, armed_by=by, armed_head=pr.head_sha)
        with calls_as(connection.account):
            connection.github.get_repo(pr.repo).get_issue(pr.number).add_to_labels(AUTOMERGE_LABEL)
        self._record(connection, pr, state, "armed", f"by {escape_inline('@' + by)}", force=True)

    def _snapshot(self, connection: Connection, pr: PullRequestInfo, state: PullState) -> MergeSnapshot:
        review = self.published.get(pr.repo, pr.number)
        conflicts = self._conflicts(connection, pr) if pr.mergeable is False or pr.mergeable_state == "dirty" else []
        return MergeSnapshot(
            open=pr.open, merged=pr.merged, draft=pr.draft, head_sha=pr.head_sha, armed=True, paused=state.paused,
            reviewed_head=review.head_sha if review else "", review_verdict=review.verdict if review else None,
            review_outcome=review.outcome if review else None,
            checks=checks_on(connection, pr.repo, pr.head_sha) if pr.open else [],
            mergeable=pr.mergeable, mergeable_state=pr.mergeable_state, conflicts=conflicts,
            behind_base=self._behind(connection, pr) if pr.draft and pr.open else False,
            fixes_pending=pr.open and self.sandbox is not None and state.fixed_head != pr.head_sha
            and bool(self._config(connection, pr).fix))

    def _merge(self, connection: Connection, pr: PullRequestInfo, state: PullState) -> None:
        review = self.published.get(pr.repo, pr.number)
        summary = f"{pr.title}\n\nreviewbot: proof {review.verdict if review else '?'}, rank {review.rank if review else '?'}"
        title, message = merge_message(pr.title, pr.number, summary, pr.head_sha, commit_authors(connection, pr.repo,
                                       pr.number), state.armed_by, noreply_email(state.armed_by))
        merged, answer = merge(connection, pr.repo, pr.number, pr.head_sha, self._config(connection, pr).automerge.method, title, message)
        if merged:
            self._record(connection, pr, state, "merge", f"merged with `{self._config(connection, pr).automerge.method}`", automerge=AutomergeState.MERGED)
            source = self.replacements.after_merge(connection, pr, close=self._config(connection, pr).automerge.close_replaced) \
                if self.replacements is not None else None
            if source is not None:  # the source's work is merged: nothing more to carry over
                self.states.update(pr.repo, source, automerge=AutomergeState.MERGED)
        else:
            self._record(connection, pr, state, "merge", f"GitHub did not merge: {escape_inline(answer)}")

    def _config(self, connection: Connection, pr: PullRequestInfo) -> RepoConfig:
        """The base branch's `.github/reviewbot.yml` (defaults only when there is none), read once per base.

        An invalid one raises ConfigError; it never turns into defaults (`advance` stops at it first).
        """
        key = (pr.repo, pr.base_sha)
        if key not in self._configs:
            if len(self._configs) > 256:
                self._configs.clear()
            self._configs[key] = self._read_config(connection, pr)
        config = self._configs[key]
        if isinstance(config, ConfigError):
            raise ConfigError(config.source, config.problems)
        return config

    def _config_error(self, connection: Connection, pr: PullRequestInfo) -> ConfigError | None:
        try:
            self._config(connection, pr)
        except ConfigError as error:
            return error
        return None

    def _read_config(self, connection: Connection, pr: PullRequestInfo) -> RepoConfig | ConfigError:
        mirror = self.workspace.mirror(pr.clone_url, pr.repo)
        try:
            mirror.resolve(pr.base_sha)
        except WorkspaceError:  # a base the mirror has not seen yet
            mirror.fetch(wanted=(pr.base_sha,), auth_header=connection.git_auth_header())
        raw = mirror.read_file(pr.base_sha, CONFIG_PATH)
        try:
            return parse_config(raw.decode("utf-8", errors="replace")) if raw is not None else RepoConfig()
        except ConfigError as error:
            return error

    def _fix(self, connection: Connection, pr: PullRequestInfo, state: PullState) -> None:
        """Run the `fix:` commands on this head; push their commit to the PR branch, or to a replacement."""
        mirror = self.workspace.mirror(pr.clone_url, pr.repo)
        mirror.fetch(wanted=(pr.head_sha, pr.base_sha), auth_header=connection.git_auth_header())
        bot = self.edge.bot_login()
        # a run folder named with this process's pid: a worker killed mid-fix leaves nothing recovery cannot remove
        with self.workspace.run_dir(f"fix-{pr.number}") as scratch:
            result = apply_fixes(self.sandbox, mirror, pr.head_sha, self._config(connection, pr).fix,  # type: ignore[arg-type]
                                 scratch, Identity(bot, noreply_email(bot)),
                                 f"Apply the repository's fix commands (reviewbot)\n\nFor #{pr.number}, "
                                 f"head {pr.head_sha}.\n")
        if result.failed:
            self._record(connection, pr, state, "fix", f"{escape_inline(result.failed)}; paused",
                         automerge=AutomergeState.PAUSED, fixed_head=pr.head_sha)
            return
        if result.sha is None:
            self._record(connection, pr, state, "fix", "nothing to change", fixed_head=pr.head_sha)
            self.advance(connection, pr.repo, pr.number)
            return
        files = f"{len(result.changed)} file(s)"
        head_url = pr.clone_url.replace(pr.repo, pr.head_repo) if pr.head_repo else pr.clone_url
        writable = pr.head_repo == pr.repo or pr.maintainer_can_modify
        if writable and push(mirror, head_url, result.sha, pr.head_ref, connection.git_auth_header()):
            self._record(connection, pr, state, "fix", f"committed the fix commands' changes to {files}; the new "
                                                       "head gets its own review", fixed_head=result.sha)
        else:
            self.states.update(pr.repo, pr.number, fixed_head=result.sha)
            self._replace(connection, pr, state, start=result.sha)

    def _behind(self, connection: Connection, pr: PullRequestInfo) -> bool:
        try:
            mirror = self.workspace.mirror(pr.clone_url, pr.repo)
            mirror.fetch(wanted=(pr.base_sha, pr.head_sha), auth_header=connection.git_auth_header())
            return not mirror.contains(pr.head_sha, pr.base_sha)
        except WorkspaceError:
            return False

    def _conflicts(self, connection: Connection, pr: PullRequestInfo) -> list[str]:
        try:
            mirror = self.workspace.mirror(pr.clone_url, pr.repo)
            mirror.fetch(wanted=(pr.base_sha, pr.head_sha), auth_header=connection.git_auth_header())
            return mirror.conflicts(pr.base_sha, pr.head_sha)
        except WorkspaceError:
            return []

    def _may_write(self, connection: Connection, repo: str, login: str) -> bool:
        return self.permissions.permission(connection, repo, login).at_least(Permission.WRITE)

    def _record(self, connection: Connection, pr: PullRequestInfo, state: PullState, step: str, outcome: str,
                force: bool = False, **changes: object) -> None:
        """A progress row when something changed, the new state, and the comment re-rendered."""
        if changes:
            state = self.states.update(pr.repo, pr.number, **changes)
        last = state.automerge_log[-1] if state.automerge_log else None
        if force or last is None or (last[1], last[2], last[3]) != (step, pr.head_sha, outcome):
            state = self.states.log_automerge(pr.repo, pr.number, (self.now().strftime("%Y-%m-%d %H:%M UTC"), step,
                                                                   pr.head_sha, outcome))
        elif not changes:
            return  # nothing new to say: no edit, no API call
        invalid = self._config_error(connection, pr)
        method = None if invalid is not None else self._config(connection, pr).automerge.method
        body = status_comments.automerge(state.armed_by, method, state.automerge,
                                         [tuple(row) for row in state.automerge_log])
        upsert_status_comment(connection, pr.repo, pr.number, self.edge.bot_login(),
                              status_comments.status_marker("automerge"), body)


def _config_problem(error: ConfigError) -> str:
    """The progress row for an invalid config: each problem as the config check words it, in code spans."""
    problems = "; ".join(code_span(problem) for problem in error.problems)
    return (f"{code_span(error.source)} on the base branch is invalid ({problems}); automerge waits "
            "until a push to the base fixes it")
