"""Automerge: advance an armed PR one step, from live GitHub state, and say so in one comment.

Events move it (a published review, a check or status completing, a push, an
approve) and so does the periodic reconcile, so a lost webhook only delays it.
Each run takes a fresh snapshot (`pr_snapshot.PullRequestFacts`, the same reader
`status` uses), computes the PR's state from it (`pr_state.pull_request_state`),
and takes its step: wait, update the branch, pause, or merge with the head
pinned. Every step that changes the picture becomes a row of the comment's
"Automerge progress" table, and the comment's header renders from that state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from reviewbot.bot.automerge_progress import AutomergeProgress
from reviewbot.bot.base_facts import BaseFacts
from reviewbot.bot.pr_snapshot import PullRequestFacts, config_problem
from reviewbot.bot.replacement import Replacements, source_of
from reviewbot.github.port import GitHubPort, GitHubPorts
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.model import Permission
from reviewbot.names import noreply_email
from reviewbot.proof.branches import Identity, push
from reviewbot.proof.fixes import apply_fixes
from reviewbot.proof.sandbox import Sandbox
from reviewbot.proof.workspace import Workspace
from reviewbot.repo_config import ConfigError, RepoConfig
from reviewbot.review.markdown import escape_inline
from reviewbot.review.merge_gate import Step, merge_message
from reviewbot.review.pr_state import AutomergeState
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.pull_state import PullState, PullStates
from reviewbot.store.queue import Job, PublishedReviews, Queue

ADVANCING = frozenset({AutomergeState.ARMED, AutomergeState.REPLACED})  # automerge states an event should move along


def queue_step(
    queue: Queue, states: PullStates, repo: str, number: int, installation_id: int | None, reason: str
) -> int | None:
    """Queue one automerge step for a PR whose automerge is under way; the job id, or None when it is not."""
    if states.get(repo, number).automerge not in ADVANCING:
        return None
    job_id, new = queue.enqueue(
        JobSpec(kind=JobKind.AUTOMERGE, repo=repo, pr_number=number, installation_id=installation_id, reason=reason)
    )
    return job_id if new else None


@dataclass
class AutomergeJob:
    github: GitHubPorts
    states: PullStates
    published: PublishedReviews
    progress: AutomergeProgress  # arming, and the comment's progress rows
    base: BaseFacts  # the base's config, conflicts, being behind
    replacements: Replacements | None = None  # where the work goes when the PR branch cannot be updated
    workspace: Workspace | None = None  # with `sandbox`: runs the repository's `fix:` commands
    sandbox: Sandbox | None = None
    queue: Queue | None = None  # what is queued or running for a head: the state says so instead of guessing

    @property
    def facts(self) -> PullRequestFacts:
        return PullRequestFacts(self.published, self.states, self.base, self.queue)

    def __call__(self, job: Job, cancel: threading.Event) -> None:
        spec = job.spec
        github = self.github.port(spec.installation_id)
        numbers = [spec.pr_number] if spec.pr_number else self.states.armed(spec.repo)  # a status names no PR
        for number in numbers:
            self.advance(github, spec.repo, number)

    def check_push(self, github: GitHubPort, pr: PullRequestInfo, pushed_by: str) -> None:
        """A new head pushed by someone without write access pauses an armed automerge until it is re-armed."""
        state = self.states.get(pr.repo, pr.number)
        if pushed_by.lower() == github.bot_login().lower():
            return  # the bot's own update-branch
        if (
            state.automerge is AutomergeState.ARMED
            and pr.head_sha != state.armed_head
            and not github.permission(pr.repo, pushed_by).at_least(Permission.WRITE)
        ):
            self.progress.record(
                github,
                pr,
                state,
                "push",
                f"pushed by {escape_inline('@' + pushed_by)}, who "
                "cannot write here: paused until a maintainer re-arms it",
                automerge=AutomergeState.PAUSED,
            )

    def advance(self, github: GitHubPort, repo: str, number: int) -> None:
        state = self.states.get(repo, number)
        if state.automerge is AutomergeState.REPLACED and self.replacements is not None:
            pr = github.pull_request(repo, number)
            if pr.open:  # the source moved on: its new commits go to the replacement (never a force-push)
                self.replacements.replace(github, pr, state.armed_by)
            return
        if state.automerge is not AutomergeState.ARMED:
            return
        pr = github.pull_request(repo, number)
        config = self.base.config(pr, github.git_auth_header)
        view = self.facts.state(github, pr, state, fixes_pending=self._fixes_pending(pr, state, config))
        if pr.open and isinstance(config, ConfigError):
            # its merge method and fix commands are what the maintainers asked for: never merge on defaults
            self.progress.record(github, pr, state, "config", config_problem(config), view=view)
            return
        if view.step is Step.MERGE:
            self._merge(github, pr, state)
        elif view.step is Step.FIX:
            self._fix(github, pr, state)
        elif view.step is Step.UPDATE_BRANCH:  # never on a draft: `pull_request_state` waits for it to be ready
            writable = pr.head_repo == pr.repo or pr.maintainer_can_modify  # else GitHub would refuse anyway
            if writable and github.update_branch(repo, number, pr.head_sha):
                # GitHub's push event queues the new head's review (the bot's own push is reviewed like any
                # other); until it is published, the next step waits for it
                self.progress.record(
                    github,
                    pr,
                    state,
                    "update branch",
                    "asked GitHub to merge the base into the PR branch; automerge waits for the review of the new head",
                )
            else:
                self._replace(github, pr, state)
        elif view.step is Step.DONE:
            self.progress.record(
                github,
                pr,
                state,
                "done",
                view.reason,
                view=view,
                automerge=AutomergeState.MERGED if pr.merged else AutomergeState.OFF,
            )
            if pr.merged and self.replacements is not None and source_of(pr.body) is not None:
                # a replacement merged by hand: its source is done too (the base's config is read only then)
                config = self.base.config(pr, github.git_auth_header)
                close = config.automerge.close_replaced if not isinstance(config, ConfigError) else False
                self.replacements.after_merge(github, pr, close=close)
        else:
            self.progress.record(github, pr, state, view.step.value, view.reason, view=view)

    def _replace(self, github: GitHubPort, pr: PullRequestInfo, state: PullState, start: str | None = None) -> None:
        refused = "GitHub refused to update the branch (no push rights to it)"
        result = (
            self.replacements.replace(github, pr, state.armed_by, start)
            if self.replacements
            else "replacement PRs are not enabled"
        )
        if isinstance(result, str):
            self.progress.record(
                github,
                pr,
                state,
                "update branch",
                f"{refused}, and {escape_inline(result)}; paused",
                automerge=AutomergeState.PAUSED,
            )
        else:
            self.progress.record(
                github,
                pr,
                state,
                "replacement",
                f"{refused}: the work continues in #{result.number}, armed the same way",
                automerge=AutomergeState.REPLACED,
            )

    def arm(self, github: GitHubPort, pr: PullRequestInfo, by: str) -> None:
        self.progress.arm(github, pr, by)

    def _fixes_pending(self, pr: PullRequestInfo, state: PullState, config: RepoConfig | ConfigError) -> bool:
        """`fix:` commands are configured and have not run on this head (and there is a sandbox to run them)."""
        return (
            pr.open
            and self.sandbox is not None
            and self.workspace is not None
            and state.fixed_head != pr.head_sha
            and isinstance(config, RepoConfig)
            and bool(config.fix)
        )

    def _config(self, github: GitHubPort, pr: PullRequestInfo) -> RepoConfig:
        """The base's config; `advance` has already stopped at an invalid one, so this one is valid."""
        config = self.base.config(pr, github.git_auth_header)
        if isinstance(config, ConfigError):
            raise config
        return config

    def _merge(self, github: GitHubPort, pr: PullRequestInfo, state: PullState) -> None:
        review = self.published.get(pr.repo, pr.number)
        summary = (
            f"{pr.title}\n\nreviewbot: proof {review.verdict if review else '?'}, rank {review.rank if review else '?'}"
        )
        title, message = merge_message(
            pr.title,
            pr.number,
            summary,
            pr.head_sha,
            github.commit_authors(pr.repo, pr.number),
            state.armed_by,
            noreply_email(state.armed_by),
        )
        config = self._config(github, pr).automerge
        merged, answer = github.merge(pr.repo, pr.number, pr.head_sha, config.method, title, message)
        if merged:
            self.progress.record(
                github, pr, state, "merge", f"merged with `{config.method}`", automerge=AutomergeState.MERGED
            )
            if self.replacements is not None:  # a replacement's source is done too: nothing more to carry over
                self.replacements.after_merge(github, pr, close=config.close_replaced)
        else:
            self.progress.record(github, pr, state, "merge", f"GitHub did not merge: {escape_inline(answer)}")

    def _fix(self, github: GitHubPort, pr: PullRequestInfo, state: PullState) -> None:
        """Run the `fix:` commands on this head; push their commit to the PR branch, or to a replacement."""
        assert self.workspace is not None and self.sandbox is not None  # `fixes_pending` says so
        mirror = self.workspace.mirror(pr.clone_url, pr.repo)
        mirror.fetch(wanted=(pr.head_sha, pr.base_sha), auth_header=github.git_auth_header())
        bot = github.bot_login()
        # a run folder named with this process's pid: a worker killed mid-fix leaves nothing recovery cannot remove
        with self.workspace.run_dir(f"fix-{pr.number}") as scratch:
            result = apply_fixes(
                self.sandbox,
                mirror,
                pr.head_sha,
                self._config(github, pr).fix,
                scratch,
                Identity(bot, noreply_email(bot)),
                f"Apply the repository's fix commands (reviewbot)\n\nFor #{pr.number}, head {pr.head_sha}.\n",
            )
        if result.failed:
            self.progress.record(
                github,
                pr,
                state,
                "fix",
                f"{escape_inline(result.failed)}; paused",
                automerge=AutomergeState.PAUSED,
                fixed_head=pr.head_sha,
            )
            return
        if result.sha is None:
            self.progress.record(github, pr, state, "fix", "nothing to change", fixed_head=pr.head_sha)
            self.advance(github, pr.repo, pr.number)
            return
        files = f"{len(result.changed)} file(s)"
        head_url = pr.clone_url.replace(pr.repo, pr.head_repo) if pr.head_repo else pr.clone_url
        writable = pr.head_repo == pr.repo or pr.maintainer_can_modify
        if writable and push(mirror, head_url, result.sha, pr.head_ref, github.git_auth_header()):
            self.progress.record(
                github,
                pr,
                state,
                "fix",
                f"committed the fix commands' changes to {files}; automerge waits for the review of the new head",
                fixed_head=result.sha,
            )
        else:
            self.states.update(pr.repo, pr.number, fixed_head=result.sha)
            self._replace(github, pr, state, start=result.sha)
