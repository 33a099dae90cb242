"""Reconcile over the in-memory GitHub port: unreviewed heads get a review, armed automerges a step."""

from __future__ import annotations

from reviewbot.bot.reconcile import reconcile
from reviewbot.store.jobs import JobKind, JobSpec
from tests.behaviours import Store
from tests.fake_port import FakeGitHub

REPO = "acme/locky"


def known(store: Store, repo: str, installation_id: int = 1) -> None:
    """A delivery once named this repository (and its job finished)."""
    store.queue.enqueue(
        JobSpec(
            kind=JobKind.COMMAND, repo=repo, pr_number=1, installation_id=installation_id, payload={"comment_id": 1}
        )
    )


def test_only_heads_without_their_review_are_queued(store: Store) -> None:
    github = FakeGitHub()
    reviewed = github.open_pr(REPO, 7, head_sha="a" * 40)
    github.open_pr(REPO, 8, head_sha="b" * 40)  # its webhook was lost
    github.open_pr(REPO, 9, head_sha="c" * 40)
    store.published.record(REPO, 7, reviewed.head_sha, 1, "proven", "passed", "B")
    store.published.record(REPO, 9, "0" * 40, 2, "proven", "passed", "B")  # an older head of 9 was reviewed
    github.open_pr(REPO, 10, head_sha="d" * 40, state="closed")
    known(store, REPO)
    created = reconcile(github, store.queue, store.published, store.states)
    reviews = store.queued(JobKind.REVIEW)
    assert sorted((spec.pr_number, spec.head_sha, spec.reason) for spec in reviews) == [
        (8, "b" * 40, "reconcile"),
        (9, "c" * 40, "reconcile"),
    ]
    assert len(created) == 2
    assert reconcile(github, store.queue, store.published, store.states) == []  # already queued: nothing new


def test_armed_automerges_get_a_step_and_an_unreachable_repository_is_skipped(store: Store) -> None:
    github = FakeGitHub()
    github.open_pr(REPO, 7)
    store.states.update(REPO, 7, automerge="armed", armed_by="mona")
    store.published.record(REPO, 7, "a" * 40, 1, "proven", "passed", "B")
    github.unreachable.add("acme/gone")
    known(store, "acme/gone")  # listing its PRs fails: the other repositories still reconcile
    known(store, REPO)
    reconcile(github, store.queue, store.published, store.states)
    [step] = store.queued(JobKind.AUTOMERGE)
    assert (step.repo, step.pr_number, step.reason) == (REPO, 7, "reconcile")
    github.open_pr(REPO, 8)
    reconcile(github, store.queue, store.published, store.states)
    assert [spec.pr_number for spec in store.queued(JobKind.REVIEW)] == [8]
