"""A PR's state from its live facts: review line, blockers and who acts, automerge phase, next step.

One table over the cases that used to disagree: `status` said "nothing blocks a merge" on a draft
and while a required check had failed, said a review was "queued or running" with nothing queued,
and the automerge comment kept saying "armed" (or ✅) whatever held.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from reviewbot.model import Check, Verdict
from reviewbot.names import CHECK_NAME
from reviewbot.review.outcome import OutcomeKind
from reviewbot.review.pr_state import (
    AutomergeState,
    MergeSnapshot,
    Phase,
    ReviewWork,
    Step,
    pull_request_state,
)

HEAD, OLD = "a" * 40, "0" * 40
ARMED = AutomergeState.ARMED
# armed, reviewed and passing, every check green, mergeable: it merges
READY = MergeSnapshot(
    open=True,
    merged=False,
    draft=False,
    head_sha=HEAD,
    automerge=ARMED,
    paused=False,
    reviewed_head=HEAD,
    review_verdict=Verdict.PROVEN,
    review_outcome=OutcomeKind.PASSED,
    review_rank="B",
    checks=[Check("ci/build", "success"), Check(CHECK_NAME, "success")],
    mergeable=True,
    mergeable_state="clean",
    required_checks=("ci/build",),
)
UNREVIEWED = {"reviewed_head": OLD, "review_rank": ""}
DRAFT = "draft — the author or a maintainer: mark it ready for review"
PAUSED = "paused — a maintainer: comment `@reviewbot resume`"
NO_REVIEW = (
    "no review of head `aaaaaaaaaaaa` is queued or running — the author or a maintainer: comment `@reviewbot re-review`"
)
FAILED = "required check `ci/build` failed — the contributor: push a fix (a new push re-runs it)"


@pytest.mark.parametrize(
    ("changes", "phase", "blockers", "next_step", "step"),
    [
        pytest.param({}, Phase.WAITING, [], "reviewbot merges it: every gate passed", Step.MERGE, id="ready"),
        pytest.param(
            {"automerge": AutomergeState.OFF},
            Phase.OFF,
            [],
            "nothing blocks a merge: a maintainer can merge or comment `@reviewbot automerge`",
            Step.DONE,
            id="not-armed-nothing-blocks",
        ),
        pytest.param({"draft": True}, Phase.BLOCKED, [DRAFT], DRAFT, Step.WAIT, id="draft"),
        pytest.param(
            {"draft": True, "automerge": AutomergeState.OFF, **UNREVIEWED},
            Phase.OFF,
            [DRAFT, NO_REVIEW],
            DRAFT,
            Step.DONE,
            id="draft-unarmed-nothing-queued",
        ),
        pytest.param(
            {"draft": True, "mergeable_state": "behind"},
            Phase.BLOCKED,
            [DRAFT],
            DRAFT,
            Step.WAIT,
            id="draft-behind-is-not-updated",
        ),
        pytest.param(
            {"paused": True, **UNREVIEWED},
            Phase.PAUSED,
            [PAUSED, NO_REVIEW],
            PAUSED,
            Step.WAIT,
            id="paused-nothing-queued",
        ),
        pytest.param(
            {"checks": [Check("ci/build", "failure")]},
            Phase.BLOCKED,
            [FAILED],
            FAILED,
            Step.WAIT,
            id="failing-required-check",
        ),
        pytest.param(
            {"checks": [Check("ci/build", "success"), Check("ci/lint", "failure")]},
            Phase.WAITING,
            [],
            "reviewbot merges it: every gate passed",
            Step.MERGE,
            id="failing-optional-check",
        ),
        pytest.param(
            {"checks": [Check("ci/lint", "failure")], "required_checks": None},
            Phase.BLOCKED,
            [
                "failing check `ci/lint` (required checks unknown: every other check counts) — the "
                "contributor: push a fix (a new push re-runs it)"
            ],
            "failing check `ci/lint`",
            Step.WAIT,
            id="required-unknown",
        ),
        pytest.param(
            {"checks": [Check("ci/lint", "failure")], "required_checks": ()},
            Phase.BLOCKED,
            [
                "failing check `ci/lint` (no required checks configured: every other check counts) — the "
                "contributor: push a fix (a new push re-runs it)"
            ],
            "failing check `ci/lint`",
            Step.WAIT,
            id="none-required-every-check-counts",
        ),
        pytest.param(
            {"checks": [Check("ci/build", "pending")]},
            Phase.WAITING,
            ["waiting for `ci/build` (pending)"],
            "waiting for `ci/build` (pending)",
            Step.WAIT,
            id="pending-required-check",
        ),
        pytest.param(
            {"checks": []},
            Phase.WAITING,
            ["waiting for required check `ci/build` (not reported on this head yet)"],
            "waiting for required",
            Step.WAIT,
            id="required-check-not-reported",
        ),
        pytest.param(
            {**UNREVIEWED, "review_work": ReviewWork.RUNNING},
            Phase.WAITING,
            ["waiting for the review of head `aaaaaaaaaaaa` (running)"],
            "waiting for the review",
            Step.WAIT,
            id="review-running",
        ),
        pytest.param(
            {**UNREVIEWED, "checks": [Check("ci/build", "failure")], "review_work": ReviewWork.QUEUED},
            Phase.BLOCKED,
            ["waiting for the review of head `aaaaaaaaaaaa` (queued)", FAILED],
            FAILED,
            Step.WAIT,
            id="a-person-s-step-comes-before-a-wait",
        ),
        pytest.param(
            {
                "review_verdict": Verdict.FAILS,
                "review_outcome": OutcomeKind.NEEDS_CHANGES,
                "review_next_step": "Make the failing suite pass on head.",
            },
            Phase.BLOCKED,
            [
                "the review of this head says needs changes (proof `fails`); it must pass before a merge — the "
                "contributor: make the failing suite pass on head."
            ],
            "the review of this head",
            Step.WAIT,
            id="review-needs-changes-in-its-own-words",
        ),
        pytest.param(
            {"review_outcome": OutcomeKind.NEEDS_MAINTAINER, "automerge": AutomergeState.OFF},
            Phase.OFF,
            [
                "the review of this head says needs maintainer review (proof `proven`) — a maintainer: decide; "
                "`@reviewbot automerge` is that decision"
            ],
            "the review of this head says needs maintainer",
            Step.DONE,
            id="needs-maintainer-unarmed",
        ),
        pytest.param(
            {"mergeable": False, "mergeable_state": "dirty", "conflicts": ["lock.py"]},
            Phase.BLOCKED,
            ["conflicts with the base in `lock.py` — the contributor: resolve them and push"],
            "conflicts",
            Step.PAUSE,
            id="conflicts",
        ),
        pytest.param(
            {"mergeable_state": "behind"},
            Phase.WAITING,
            ["waiting for reviewbot to update the branch (behind the base, which branch protection wants up to date)"],
            "waiting for reviewbot",
            Step.UPDATE_BRANCH,
            id="behind",
        ),
        pytest.param(
            {"automerge": AutomergeState.PAUSED},
            Phase.PAUSED,
            [],
            "a maintainer re-arms automerge with `@reviewbot automerge`",
            Step.DONE,
            id="automerge-paused",
        ),
        pytest.param(
            {"automerge": AutomergeState.PAUSED, "checks": [Check("ci/build", "failure")]},
            Phase.PAUSED,
            [FAILED],
            f"{FAILED}; then a maintainer re-arms",
            Step.DONE,
            id="automerge-paused-and-blocked",
        ),
        pytest.param(
            {"merged": True, "open": False, "automerge": AutomergeState.MERGED},
            Phase.MERGED,
            [],
            "nothing: it is merged",
            Step.DONE,
            id="merged",
        ),
        pytest.param(
            {"merged": True, "open": False},
            Phase.MERGED,
            [],
            "nothing: it is merged",
            Step.DONE,
            id="merged-by-hand-while-armed",
        ),
        pytest.param(
            {"open": False, "draft": True}, Phase.OFF, [], "nothing: the PR is closed", Step.DONE, id="closed"
        ),
        pytest.param(
            {"automerge": AutomergeState.REPLACED},
            Phase.REPLACED,
            [],
            "the work continues in the replacement PR",
            Step.DONE,
            id="replaced",
        ),
    ],
)
def test_the_state_table(changes: dict, phase: Phase, blockers: list[str], next_step: str, step: Step) -> None:
    state = pull_request_state(replace(READY, **changes))
    assert state.phase is phase
    assert [blocker.text for blocker in state.blockers] == blockers
    assert state.next_step.startswith(next_step)
    assert state.step is step
    if blockers and state.step is Step.WAIT:  # automerge's reason is what status shows as the next step
        assert state.reason == state.next_step or state.reason in [b.text for b in state.blockers]


def test_nothing_blocks_is_said_only_when_nothing_blocks() -> None:
    for changes in (
        {"draft": True},
        {"paused": True},
        {"checks": [Check("ci/build", "failure")]},
        {"checks": [Check("ci/x", "failure")], "required_checks": None},
        UNREVIEWED,
    ):
        state = pull_request_state(replace(READY, automerge=AutomergeState.OFF, **changes))
        assert state.blockers and "nothing blocks" not in state.next_step


@pytest.mark.parametrize("work", list(ReviewWork))
def test_the_review_line_says_what_the_queue_holds(work: ReviewWork) -> None:
    line = pull_request_state(replace(READY, review_work=work, **UNREVIEWED)).review
    assert line.startswith("head `aaaaaaaaaaaa` not reviewed yet: ")
    assert line.endswith(
        {
            ReviewWork.NONE: "no review of it is queued or running",
            ReviewWork.QUEUED: "its review is queued",
            ReviewWork.RUNNING: "its review is running",
        }[work]
        + "; the last review, of head `000000000000`, said passed"
    )


def test_a_current_review_line_names_outcome_proof_and_rank() -> None:
    assert pull_request_state(READY).review == "passed (proof `proven`, rank B)"
