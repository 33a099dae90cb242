"""Level-triggered safety net: every open PR whose current head has no review gets one.

GitHub never redelivers a webhook it gave up on, and a service can be down when
one arrives. Periodically, for every repository the service has heard of, the
open PRs are listed and compared with the head of the last published review
(the `published_reviews` table); a missing or older review is enqueued (the
queue coalesces it with any review already waiting for that head).
"""

from __future__ import annotations

import logging

from reviewbot.bot.automerge import queue_step
from reviewbot.github.port import GitHubPorts
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import PublishedReviews, Queue

log = logging.getLogger("reviewbot.reconcile")


def reconcile(
    github: GitHubPorts, queue: Queue, published: PublishedReviews, states: PullStates | None = None
) -> list[int]:
    """Enqueue reviews for unreviewed heads, and a step for every armed automerge; returns the new job ids."""
    created = []
    for repo, installation_id in queue.known_repositories():
        for number in states.armed(repo) if states is not None else []:
            step = queue_step(queue, states, repo, number, installation_id, "reconcile")
            if step is not None:
                created.append(step)
        try:
            pulls = github.port(installation_id).open_pull_requests(repo)
        except Exception as exc:  # noqa: BLE001 - one unreachable repository must not stop the others
            log.warning("reconcile: cannot list open PRs of %s: %s", repo, exc)
            continue
        for pull in pulls:
            number, head_sha = pull.number, pull.head_sha
            if published.head_of(repo, number) == head_sha or queue.reviewed_or_dead(repo, number, head_sha):
                continue
            job_id, new = queue.enqueue(
                JobSpec(
                    kind=JobKind.REVIEW,
                    repo=repo,
                    pr_number=number,
                    head_sha=head_sha,
                    installation_id=installation_id,
                    reason="reconcile",
                )
            )
            if new:
                created.append(job_id)
    return created
