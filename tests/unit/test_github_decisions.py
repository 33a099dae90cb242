"""The GitHub edge's decisions that need no network: whose comment, which labels, which conclusion."""

from __future__ import annotations

import pytest

from reviewbot.github.checks import STATUS_STATES, Conclusion, conclusion_for
from reviewbot.github.comments import is_bot_comment
from reviewbot.github.labels import label_changes
from reviewbot.model import Verdict


@pytest.mark.parametrize(
    ("body", "author", "ours"),
    [
        pytest.param("x\n<!-- reviewbot:review {} -->", "reviewbot[bot]", True, id="marker-by-the-bot"),
        pytest.param("<!-- reviewbot:review-started abc -->", "ReviewBot[bot]", True, id="placeholder-any-case"),
        pytest.param("quoting <!-- reviewbot:review {} -->", "mallory", False, id="marker-by-a-user"),
        pytest.param("thanks!", "reviewbot[bot]", False, id="bot-comment-without-marker"),
        pytest.param(None, "reviewbot[bot]", False, id="empty-body"),
    ],
)
def test_only_the_bots_marked_comment_is_ours(body, author: str, ours: bool) -> None:
    assert is_bot_comment(body, author, "reviewbot[bot]") is ours


@pytest.mark.parametrize(
    ("current", "wanted", "add", "remove"),
    [
        pytest.param(
            [],
            ["status: passed", "proof: proven", "rating: S"],
            ["status: passed", "proof: proven", "rating: S"],
            [],
            id="first-review",
        ),
        pytest.param(
            ["bug", "status: needs changes", "proof: fails", "rating: F", "priority: P1", "reviewbot:human-review"],
            ["status: passed", "proof: proven", "rating: S"],
            ["status: passed", "proof: proven", "rating: S"],
            ["status: needs changes", "proof: fails", "rating: F", "priority: P1", "reviewbot:human-review"],
            id="completed-review-owns-every-family-and-never-touches-others",
        ),
        pytest.param(
            ["status: passed", "proof: proven", "rating: S", "reviewbot:human-review"],
            ["status: did not complete"],
            ["status: did not complete"],
            ["status: passed"],
            id="infrastructure-failure-changes-only-the-status",
        ),
        pytest.param(
            ["status: passed", "proof: proven"], ["status: passed", "proof: proven"], [], [], id="nothing-to-do"
        ),
    ],
)
def test_label_changes(current: list[str], wanted: list[str], add: list[str], remove: list[str]) -> None:
    assert label_changes(current, wanted) == (add, remove)


@pytest.mark.parametrize("verdict", list(Verdict))
def test_every_verdict_has_a_conclusion_and_a_status(verdict: Verdict) -> None:
    """Fails when a verdict is added without deciding its conclusion (there is no silent default)."""
    assert STATUS_STATES[conclusion_for(verdict)] in ("success", "failure", "error")


def test_the_conclusions_branch_protection_sees() -> None:
    assert set(STATUS_STATES) == set(Conclusion)
    assert conclusion_for(Verdict.PROVEN) == "success" and conclusion_for(Verdict.TIMEOUT) == "failure"
    assert conclusion_for(Verdict.WEAK) == "neutral" and STATUS_STATES[Conclusion.NEUTRAL] == "success"
    assert conclusion_for(Verdict.ERROR) == "action_required" and STATUS_STATES[Conclusion.ACTION_REQUIRED] == "error"
