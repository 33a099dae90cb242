"""Maintainer commands from PR comments: re-review, stop, approve, status, help (automerge: see below).

One job per (comment, body): the worker runs it once. The bot acknowledges with
👀 at once (and never reads reactions back), checks who may run the command
against GitHub's collaborator permission (cached), and answers in a status
comment it edits in place: one per PR and intent (and head, for re-reviews).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from reviewbot.bot.automerge import AutomergeJob, queue_step
from reviewbot.bot.permissions import Actor, Decision, Permission, decide, is_bot, table_markdown
from reviewbot.github.comments import comment_url
from reviewbot.github.port import GitHubPort, GitHubPorts, upsert_status_comment
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.names import HUMAN_REVIEW_LABEL, STATUS_MARKER_TAG
from reviewbot.review import status_comments
from reviewbot.review.commands import ALIASES, Command, CommandName, handles_for, parse_command
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import REREVIEW, Job, PublishedReviews, Queue

NEEDS_PERMISSION = {CommandName.REREVIEW, CommandName.AUTOMERGE, CommandName.STOP, CommandName.APPROVE}


@dataclass
class CommandJob:
    github: GitHubPorts
    queue: Queue
    states: PullStates
    published: PublishedReviews
    automerge: AutomergeJob
    handle: str = "reviewbot"
    allowed_bots: frozenset[str] = frozenset()

    def __call__(self, job: Job, cancel: threading.Event) -> None:
        spec, payload = job.spec, job.spec.payload
        body, comment_id = str(payload.get("comment_body", "")), int(payload["comment_id"])
        bot_login = self.github.bot_login()
        command = parse_command(body, (*handles_for(self.handle), f"@{bot_login}"))
        if command is None or self.states.processed(comment_id, body):
            return  # edited into a comment without a command, or already carried out
        github = self.github.port(spec.installation_id)
        github.acknowledge(spec.repo, comment_id)
        pr = github.pull_request(spec.repo, spec.pr_number)
        author = str(payload.get("author", ""))
        actor = Actor(author, str(payload.get("author_type", "User")))
        decision = self._decide(github, spec.repo, command, actor, pr, bot_login)
        if not decision.allowed and is_bot(actor):
            pass  # other bots get no answer: two bots must never talk to each other in a loop
        elif not decision.allowed:
            self._answer(github, pr, "refusal", status_comments.refusal(command.word, decision.reason))
        else:
            self._run(github, spec, pr, command, author)
        self.states.mark_processed(comment_id, body, spec.repo, command.word)

    def _decide(self, github: GitHubPort, repo: str, command: Command, actor: Actor, pr: PullRequestInfo,
                bot_login: str) -> Decision:
        authors_rereview = command.name is CommandName.REREVIEW and actor.login.lower() == pr.author.lower()
        needs_lookup = command.name in NEEDS_PERMISSION and not authors_rereview and not is_bot(actor)
        permission = github.permission(repo, actor.login) if needs_lookup else None
        return decide(command.name.value if command.name else None, actor, pr.author, permission,
                      self.allowed_bots, self_login=bot_login)

    def _run(self, github: GitHubPort, spec: JobSpec, pr: PullRequestInfo, command: Command, author: str) -> None:
        if command.name is CommandName.REREVIEW:
            self._rereview(github, spec, pr, command, author)
        elif command.name is CommandName.STOP:
            self.states.update(pr.repo, pr.number, paused=True, paused_by=author)
            github.add_labels(pr.repo, pr.number, [HUMAN_REVIEW_LABEL])
            self._answer(github, pr, "pause", status_comments.paused(author))
        elif command.name is CommandName.APPROVE:
            self.states.update(pr.repo, pr.number, paused=False, paused_by="")
            self._answer(github, pr, "pause", status_comments.resumed(author, pr.head_sha))
            queue_step(self.queue, self.states, pr.repo, pr.number, spec.installation_id, "approve")
        elif command.name is CommandName.STATUS:
            self._answer(github, pr, "status", self._status(github, pr))
        elif command.name is CommandName.AUTOMERGE:
            self.automerge.arm(github, pr, author)
            queue_step(self.queue, self.states, pr.repo, pr.number, spec.installation_id, "armed")
        else:
            self._answer(github, pr, "help", status_comments.help_text(
                table_markdown(), {alias: name.value for alias, name in ALIASES.items()},
                unknown_word=command.word if command.name is None else ""))

    def _rereview(self, github: GitHubPort, spec: JobSpec, pr: PullRequestInfo, command: Command,
                  author: str) -> None:
        """One progress comment per head; older heads' unfinished ones say they were superseded."""
        known = github.bot_comments(pr.repo, pr.number, f"<!-- {STATUS_MARKER_TAG} re-review")
        for older in known:
            if pr.head_sha[:12] not in older.body and "- [ ] review comment updated" in older.body:
                github.edit_comment(pr.repo, pr.number, older.id,
                                    status_comments.rereview(author, pr.head_sha, [], superseded=True))
        # focus is for maintainers only; anyone else allowed to ask here is the PR author, so check them
        maintainer = author.lower() != pr.author.lower() or github.permission(pr.repo, author).at_least(
            Permission.WRITE)
        focus = command.focus if maintainer else ""
        body = status_comments.rereview(author, pr.head_sha, ["queued"], focus=focus)
        status_id = upsert_status_comment(github, pr.repo, pr.number,
                                          status_comments.status_marker("re-review", pr.head_sha), body, known)
        self.queue.enqueue(JobSpec(kind=JobKind.REVIEW, repo=pr.repo, pr_number=pr.number, head_sha=pr.head_sha,
                                   installation_id=spec.installation_id, reason=REREVIEW,
                                   payload={"status_comment_id": status_id, "requested_by": author, "focus": focus}))

    def _status(self, github: GitHubPort, pr: PullRequestInfo) -> str:
        """Rendered from the PR's state as automerge computes it (same reader, same function): they agree."""
        view = self.automerge.facts.state(github, pr)
        row = self.published.get(pr.repo, pr.number)
        link = comment_url(pr.html_url, row.comment_id) if row and row.head_sha == pr.head_sha and row.comment_id \
            else ""
        return status_comments.status(view, link)

    def _answer(self, github: GitHubPort, pr: PullRequestInfo, intent: str, body: str) -> int:
        return upsert_status_comment(github, pr.repo, pr.number, status_comments.status_marker(intent), body)
