"""The PR body is read once per review: the caller that took the claimed commands from it passes it on."""

from __future__ import annotations

from reviewbot.model import PullRequest
from reviewbot.review.build import ReviewInput, build_review
from reviewbot.review.pr_body import parse_pr_body
from tests.builders import F, P, pair, proof_of

BODY = "## Test plan\n- `pytest -k lock` 3 passed\n"


def test_the_review_uses_the_body_its_caller_already_read() -> None:
    pr = PullRequest(title="Fix", body=BODY)
    read = parse_pr_body(BODY)
    review = build_review(
        ReviewInput(
            pr=pr, proof=proof_of(pair("lock", (F,), (P,))), diff="", reviewed_at="2026-12-04 12:00 UTC", body=read
        )
    )
    assert review.body is read  # not a second parse of pr.body


def test_without_a_read_body_the_review_reads_pr_body_itself() -> None:
    review = build_review(
        ReviewInput(
            pr=PullRequest(title="Fix", body=BODY),
            proof=proof_of(pair("lock", (F,), (P,))),
            diff="",
            reviewed_at="2026-12-04 12:00 UTC",
        )
    )
    assert review.body == parse_pr_body(BODY) and review.body.commands == ["pytest -k lock"]
