"""The check run's title and summary come from the Review, and say what the comment's verdict line says."""

from __future__ import annotations

from pathlib import Path

from reviewbot.model import Proof, PullRequest, Verdict
from reviewbot.review.build import Review, ReviewInput, build_review
from reviewbot.review.check_run import MAX_FINDINGS, check_run
from reviewbot.review.comment import render_comment
from tests.builders import HEAD, PROVEN, F, P, finding, pair, proof_of

DIFFS = Path(__file__).resolve().parents[1] / "data" / "diffs"
AT = "2026-12-04 12:00 UTC"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4" * 5


def review_of(proof: Proof, diff: str = "") -> Review:
    return build_review(ReviewInput(pr=PullRequest(title="Fix"), proof=proof, diff=diff, reviewed_at=AT))


def verdict_line(comment: str) -> str:
    return comment.split("\n")[2].split(" · reviewed ")[0]


def test_a_passed_review_shows_the_comments_verdict_line_and_next_step() -> None:
    review = review_of(proof_of(*PROVEN))
    run = check_run(review)
    assert run.title == f"passed · proof proven · rank {review.rating.overall.tier.label}"
    headline = run.summary.split("\n")[0]
    assert headline == "✅ " + verdict_line(render_comment(review))
    assert f"**Next step, for {review.outcome.owner}:** {review.outcome.next_step}" in run.summary
    assert all(f"- {reason}" in run.summary for reason in review.outcome.reasons)
    assert "Blocking findings" not in run.summary and "<!--" not in run.summary


def test_blocking_findings_are_listed_and_capped() -> None:
    diff = (DIFFS / "py_release_not_in_finally.diff").read_text()
    review = review_of(
        proof_of(pair("state", (F,), (P,)), sources=("app/state.py",), tests=("tests/test_state.py",)), diff=diff
    )
    assert review.outcome.kind.value == "needs changes"
    run = check_run(review)
    assert run.title.startswith("needs changes · proof proven · rank ")
    line = next(f for f in review.findings if f.rule == "release-not-guaranteed").line
    assert f"- P1 `app/state.py:{line}` Lock release is not guaranteed on error" in run.summary
    assert review.outcome.next_step in run.summary

    many = review.model_copy(update={"findings": [finding(review.findings[0].priority, line=n) for n in range(9)]})
    listed = [line for line in check_run(many).summary.split("\n") if line.startswith("- P1 `")]
    assert (
        len(listed) == MAX_FINDINGS and f"- … {9 - MAX_FINDINGS} more in the review comment." in check_run(many).summary
    )


def test_an_incomplete_review_says_how_to_retry_and_judges_nothing() -> None:
    proof = Proof(verdict=Verdict.ERROR, head_sha=HEAD, reason="The sandbox could not start.")
    review = review_of(proof)
    run = check_run(review, comment_url="https://github.com/o/r/pull/1#issuecomment-5")
    assert run.title.startswith("did not complete · proof error")
    assert run.summary.startswith("🛠️ **Did not complete** · proof 🛠️ error\n")
    assert "rank" not in run.summary and "- The sandbox could not start." in run.summary
    assert f"**Next step, for {review.outcome.owner}:** {review.outcome.next_step}" in run.summary
    assert "[the review comment](https://github.com/o/r/pull/1#issuecomment-5)" in run.summary


def test_the_summary_is_redacted_and_links_what_is_known() -> None:
    proof = proof_of(*PROVEN)
    proof.reason = f"Proven; the log echoed {GITHUB_TOKEN}."
    review = review_of(proof)
    assert GITHUB_TOKEN in review.outcome.reasons[0]  # the reason carries it; the check must not
    run = check_run(review, proof_url="https://bot.example/proofs/1")
    assert GITHUB_TOKEN not in run.summary and "[redacted]" in run.summary
    assert run.summary.rstrip().endswith("[full proof and logs](https://bot.example/proofs/1).")
    assert "review comment" not in run.summary
