"""Maintainer commands from PR comments: re-review, stop, approve, status, help (automerge: see below).

One job per (comment, body): the worker runs it once. The bot acknowledges with
👀 at once (and never reads reactions back), checks who may run the command
against GitHub's collaborator permission (cached), and answers the person in a
new comment that mentions them (an edit notifies nobody). The answer's hidden
marker names the command's comment, so a job run again after a crash (before it
was marked processed) finds its answer instead of posting a second one. Only the
trackers are edited in place: re-review progress (one per head) and automerge.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from reviewbot.bot.automerge import AutomergeJob, queue_step
from reviewbot.bot.permissions import Actor, Decision, Permission, decide, is_bot, table_markdown
from reviewbot.github.comments import comment_url
from reviewbot.github.port import GitHubPort, GitHubPorts, post_answer_once
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.names import HUMAN_REVIEW_LABEL, STATUS_MARKER_TAG
from reviewbot.review import answers, status_comments
from reviewbot.review.commands import ALIASES, Command, CommandName, handles_for, parse_command
from reviewbot.review.rereview_requests import RereviewRequests
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import REREVIEW, Job, PublishedReviews, Queue

NEEDS_PERMISSION = {CommandName.REREVIEW, CommandName.AUTOMERGE, CommandName.STOP, CommandName.RESUME}


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
            self._answer(github, pr, comment_id, author, status_comments.refusal(command.word, decision.reason))
        else:
            self._run(github, spec, pr, command, author, comment_id)
        self.states.mark_processed(comment_id, body, spec.repo, command.word)

    def _decide(
        self, github: GitHubPort, repo: str, command: Command, actor: Actor, pr: PullRequestInfo, bot_login: str
    ) -> Decision:
        authors_rereview = command.name is CommandName.REREVIEW and actor.login.lower() == pr.author.lower()
        needs_lookup = command.name in NEEDS_PERMISSION and not authors_rereview and not is_bot(actor)
        permission = github.permission(repo, actor.login) if needs_lookup else None
        return decide(
            command.name.value if command.name else None,
            actor,
            pr.author,
            permission,
            self.allowed_bots,
            self_login=bot_login,
        )

    def _run(
        self, github: GitHubPort, spec: JobSpec, pr: PullRequestInfo, command: Command, author: str, comment_id: int
    ) -> None:
        def answer(body: str) -> None:
            self._answer(github, pr, comment_id, author, body)

        if command.name is CommandName.REREVIEW:
            self._rereview(github, spec, pr, command, author, comment_id)
        elif command.name is CommandName.STOP:
            self.states.update(pr.repo, pr.number, paused=True, paused_by=author)
            github.add_labels(pr.repo, pr.number, [HUMAN_REVIEW_LABEL])
            answer(status_comments.paused(author))
        elif command.name is CommandName.RESUME and not self.states.get(pr.repo, pr.number).paused:
            answer(status_comments.nothing_to_resume(pr.head_sha))  # `approve` resumes; there is nothing to resume
        elif command.name is CommandName.RESUME:
            self.states.update(pr.repo, pr.number, paused=False, paused_by="")
            answer(status_comments.resumed(author, pr.head_sha))
            queue_step(self.queue, self.states, pr.repo, pr.number, spec.installation_id, "resume")
        elif command.name is CommandName.STATUS:
            answer(self._status(github, pr))
        elif command.name is CommandName.AUTOMERGE:
            self.automerge.arm(github, pr, author)
            queue_step(self.queue, self.states, pr.repo, pr.number, spec.installation_id, "armed")
        else:
            answer(
                status_comments.help_text(
                    table_markdown(),
                    {alias: name.value for alias, name in ALIASES.items()},
                    unknown_word=command.word if command.name is None else "",
                )
            )

    def _rereview(
        self, github: GitHubPort, spec: JobSpec, pr: PullRequestInfo, command: Command, author: str, comment_id: int
    ) -> None:
        """One progress tracker per head, showing every requester; older heads' unfinished ones point to it.

        The first request of a head gets the new tracker; a later one (joining a queued request, or
        asking again) gets a short answer that links to it. All of them are mentioned when it is done.
        """
        known = github.bot_comments(pr.repo, pr.number, f"<!-- {STATUS_MARKER_TAG} re-review")
        # focus is for maintainers only; anyone else allowed to ask here is the PR author, so check them
        maintainer = author.lower() != pr.author.lower() or github.permission(pr.repo, author).at_least(
            Permission.WRITE
        )
        focus = command.focus if maintainer else ""
        asked = RereviewRequests((author,), ((author, focus),) if focus.strip() else ())
        marker = status_comments.status_marker("re-review", pr.head_sha)
        existing = [c for c in known if marker in c.body]
        body = status_comments.rereview(author, pr.head_sha, ["queued"], focus=focus)
        status_id = existing[-1].id if existing else github.create_comment(pr.repo, pr.number, body, marker)
        progress_url = comment_url(pr.html_url, status_id)
        for older in known:
            if pr.head_sha[:12] not in older.body and "- [ ] review comment updated" in older.body:
                github.edit_comment(
                    pr.repo,
                    pr.number,
                    older.id,
                    status_comments.rereview(
                        author,
                        _head_of(older.body),
                        [],
                        superseded=True,
                        continued_in=f"the re-review of head `{pr.head_sha[:12]}`: {progress_url}",
                    ),
                )
        job_id, _ = self.queue.enqueue(
            JobSpec(
                kind=JobKind.REVIEW,
                repo=pr.repo,
                pr_number=pr.number,
                head_sha=pr.head_sha,
                installation_id=spec.installation_id,
                reason=REREVIEW,
                payload={"status_comment_id": status_id, **asked.to_payload()},
            )
        )
        merged = RereviewRequests.from_payload(self.queue.payload(job_id))  # with the requests it replaced
        if existing or merged != asked:
            github.edit_comment(
                pr.repo,
                pr.number,
                status_id,
                status_comments.rereview(
                    merged.requested_by or (author,), pr.head_sha, ["queued"], focus=merged.focus_text()
                ),
            )
        if existing:
            self._answer(github, pr, comment_id, author, answers.rereview_queued(pr.head_sha, progress_url))

    def _status(self, github: GitHubPort, pr: PullRequestInfo) -> str:
        """Rendered from the PR's state as automerge computes it (same reader, same function): they agree."""
        view = self.automerge.facts.state(github, pr)
        row = self.published.get(pr.repo, pr.number)
        link = (
            comment_url(pr.html_url, row.comment_id) if row and row.head_sha == pr.head_sha and row.comment_id else ""
        )
        return status_comments.status(view, link)

    def _answer(self, github: GitHubPort, pr: PullRequestInfo, comment_id: int, login: str, body: str) -> int:
        """A new comment mentioning `login`, posted once for their command comment `comment_id`."""
        return post_answer_once(
            github, pr.repo, pr.number, answers.answer_marker(comment_id), answers.addressed([login], body, comment_id)
        )


def _head_of(tracker: str) -> str:
    """The head a re-review tracker is for, from its marker (`<!-- reviewbot:status re-review <head> -->`)."""
    tail = tracker.rsplit(f"<!-- {STATUS_MARKER_TAG} re-review", 1)[-1]
    return tail.split("-->", 1)[0].strip()
