"""The proof summary: untrusted names cannot inject markdown, mentions or break fences."""

from __future__ import annotations

from reviewbot.model import Proof, RunStatus, SandboxOutcome, SuitePair, SuiteResult, SuiteRun, TestCounts, Verdict
from reviewbot.review.render import code_span, escape_inline, fence, render_proof


def failing_pair(name: str, test_name: str, tail: str) -> SuitePair:
    run = SuiteRun(status=RunStatus.FAILED, counts=TestCounts(failed=1, failing=[test_name], source="pytest"),
                   outcome=SandboxOutcome(exit_code=1, log_tail=tail))
    ok = SuiteRun(status=RunStatus.PASSED, counts=TestCounts(passed=1, source="pytest"),
                  outcome=SandboxOutcome(exit_code=0))
    return SuitePair(name=name, command="pytest", base=SuiteResult(suite=name, revision="base", command="c", runs=[run]),
                     head=SuiteResult(suite=name, revision="head", command="c", runs=[ok]))


def test_hostile_names_and_logs_stay_inert() -> None:
    proof = Proof(verdict=Verdict.PROVEN, reason="r", suites=[
        failing_pair("evil | <img src=x> @admin", "test `x` @maintainers", "```\n</details>\n@org/team")])
    text = render_proof(proof)
    assert "<img" not in text and "@admin" not in text
    assert "``test `x` @maintainers``" in text  # a code span longer than the backticks inside
    assert "````text\n```\n</details>" in text  # the fence outlives the backticks in the log


def test_helpers() -> None:
    assert escape_inline("a|b\n@c <i>") == "a\\|b @\u200bc &lt;i&gt;"
    assert code_span("plain") == "`plain`"
    assert fence("``` x").startswith("````text")


def test_table_shows_repeats_and_flakiness() -> None:
    flaky = SuiteResult(suite="s", revision="head", command="c", runs=[
        SuiteRun(status=RunStatus.FAILED, outcome=SandboxOutcome(exit_code=1)),
        SuiteRun(status=RunStatus.PASSED, outcome=SandboxOutcome(exit_code=0))])
    proof = Proof(verdict=Verdict.FLAKY, reason="r", suites=[SuitePair(name="s", command="c", head=flaky, base=flaky)])
    assert "🎲 failed/passed" in render_proof(proof)
