"""Automerge's gates: a snapshot of live PR state in, one next step out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reviewbot.model import Check, Verdict
from reviewbot.names import CHECK_NAME
from reviewbot.review.merge_gate import (
    MERGEABLE_OUTCOMES,
    AutomergeState,
    MergeSnapshot,
    Step,
    decide_merge,
    merge_message,
)
from reviewbot.review.outcome import OutcomeKind
from reviewbot.review.pr_state import ReviewWork

HEAD = "a" * 40
READY = MergeSnapshot(
    open=True,
    merged=False,
    draft=False,
    head_sha=HEAD,
    automerge=AutomergeState.ARMED,
    paused=False,
    reviewed_head=HEAD,
    review_verdict=Verdict.PROVEN,
    review_outcome=OutcomeKind.PASSED,
    checks=[Check("ci/build", "success"), Check(CHECK_NAME, "success")],
    mergeable=True,
    mergeable_state="clean",
)


@pytest.mark.parametrize(
    ("changes", "step", "words"),
    [
        pytest.param({}, Step.MERGE, "every gate passed", id="ready"),
        pytest.param({"merged": True}, Step.DONE, "merged", id="merged"),
        pytest.param({"open": False}, Step.DONE, "closed", id="closed"),
        pytest.param({"automerge": AutomergeState.OFF}, Step.DONE, "not armed", id="disarmed"),
        pytest.param({"paused": True}, Step.WAIT, "paused", id="paused"),
        pytest.param(
            {"draft": True},
            Step.WAIT,
            "draft — the author or a maintainer: mark it ready for review",
            id="a-draft-waits",
        ),
        pytest.param(
            {"draft": True, "mergeable_state": "behind", "reviewed_head": ""},
            Step.WAIT,
            "draft",
            id="a-draft-behind-is-never-updated",
        ),
        pytest.param({"draft": True, "fixes_pending": True}, Step.WAIT, "draft", id="a-draft-is-never-fixed"),
        pytest.param(
            {"reviewed_head": "b" * 40, "review_work": ReviewWork.QUEUED},
            Step.WAIT,
            "waiting for the review of head `aaaaaaaaaaaa` (queued)",
            id="push-after-review",
        ),
        pytest.param(
            {"reviewed_head": "b" * 40},
            Step.WAIT,
            "no review of head `aaaaaaaaaaaa` is queued or running",
            id="push-after-review-nothing-queued",
        ),
        pytest.param(
            {"review_verdict": Verdict.WEAK, "review_outcome": OutcomeKind.NEEDS_PROOF},
            Step.WAIT,
            "must pass",
            id="review-not-passing",
        ),
        pytest.param({"review_outcome": OutcomeKind.NEEDS_CHANGES}, Step.WAIT, "must pass", id="p1-finding"),
        pytest.param(
            {"review_outcome": OutcomeKind.NEEDS_MAINTAINER}, Step.MERGE, "every gate", id="maintainer-decided"
        ),
        pytest.param(
            {"review_verdict": None, "review_outcome": None}, Step.WAIT, "no review of head", id="no-review-yet"
        ),
        pytest.param(
            {"checks": [Check("ci/build", "failure")]},
            Step.WAIT,
            "failing check `ci/build` (required checks unknown: every other check counts)",
            id="failing-check-required-unknown",
        ),
        pytest.param(
            {"checks": [Check("ci/build", "failure")], "required_checks": ("ci/build",)},
            Step.WAIT,
            "required check `ci/build` failed",
            id="failing-required-check",
        ),
        pytest.param(
            {"checks": [Check("ci/lint", "failure")], "required_checks": ("ci/build",)},
            Step.WAIT,
            "waiting for required check `ci/build` (not reported",
            id="required-check-not-reported",
        ),
        pytest.param(
            {"checks": [Check("ci/lint", "failure"), Check("ci/build", "success")], "required_checks": ("ci/build",)},
            Step.MERGE,
            "every gate",
            id="failing-optional-check",
        ),
        pytest.param(
            {"checks": [Check("ci/build", "pending")]}, Step.WAIT, "waiting for `ci/build`", id="pending-check-waits"
        ),
        pytest.param({"checks": [Check(CHECK_NAME, "failure")]}, Step.MERGE, "every gate", id="own-check-ignored"),
        pytest.param(
            {"mergeable": False, "mergeable_state": "dirty", "conflicts": ["src/lock.py"]},
            Step.PAUSE,
            "`src/lock.py`",
            id="conflicts-name-the-files",
        ),
        pytest.param({"mergeable": None}, Step.WAIT, "compute whether it can merge", id="mergeability-unknown"),
        pytest.param({"mergeable_state": "behind"}, Step.UPDATE_BRANCH, "up to date", id="behind"),
    ],
)
def test_gates(changes: dict, step: Step, words: str) -> None:
    decision = decide_merge(replace(READY, **changes))
    assert decision.step is step and words in decision.reason


def test_the_merge_message_credits_every_author_once_and_the_maintainer() -> None:
    title, body = merge_message(
        "Release the lock on error",
        7,
        "summary",
        HEAD,
        [("Alice", "a@x"), ("Bob", "b@x"), ("Alice", "a@x")],
        "mona",
        "mona@users.noreply",
    )
    assert title == "Release the lock on error (#7)"
    assert body.splitlines()[-3:] == [
        "Co-authored-by: Alice <a@x>",
        "Co-authored-by: Bob <b@x>",
        "Approved-by: mona <mona@users.noreply>",
    ]
    assert f"Reviewed head: {HEAD}" in body


@pytest.mark.parametrize("outcome", list(OutcomeKind))
def test_only_a_passing_or_maintainer_decided_review_merges(outcome: OutcomeKind) -> None:
    """Every outcome, including one added later, is either mergeable on purpose or waits."""
    decision = decide_merge(replace(READY, review_outcome=outcome))
    assert (decision.step is Step.MERGE) is (outcome in {OutcomeKind.PASSED, OutcomeKind.NEEDS_MAINTAINER})
    assert (outcome in MERGEABLE_OUTCOMES) is (decision.step is Step.MERGE)
