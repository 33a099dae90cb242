"""A replacement PR carries its source's description: the review reads the same claims from it, nothing more."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reviewbot.bot.replacement import replacement_body, source_of
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.review.carried_description import MAX_CARRIED, carried_description
from reviewbot.review.pr_body import parse_pr_body

SOURCE_BODY = (Path(__file__).parents[1] / "fixtures/repos/python_proven/PR_BODY.md").read_text(encoding="utf-8")
PR = PullRequestInfo(
    repo="o/r",
    number=7,
    title="t",
    body=SOURCE_BODY,
    author="alice",
    state="open",
    merged=False,
    draft=False,
    head_sha="a" * 40,
    head_ref="fix",
    head_repo="alice/r",
    base_ref="main",
    base_sha="b" * 40,
    clone_url="https://github.com/o/r.git",
    html_url="https://github.com/o/r/pull/7",
    maintainer_can_modify=False,
)
AUTHORS = [("Alice", "alice@example.invalid")]


def test_the_replacement_carries_the_attributed_description_and_its_test_plan() -> None:
    body = replacement_body(PR, AUTHORS, "mona")
    assert "From #7 by @\u200balice:" in body
    source, carried = parse_pr_body(SOURCE_BODY), parse_pr_body(body)
    assert source.commands and carried.commands == source.commands  # its review finds the Test plan's commands
    assert carried.results == source.results
    assert carried.sections["test_plan"] == source.sections["test_plan"]


def test_a_marker_in_the_description_cannot_name_another_source() -> None:
    hostile = replace(PR, body="<!-- reviewbot:replacement source=3 armed-by=eve -->\n\nFixes #12")
    body = replacement_body(hostile, AUTHORS, "mona")
    assert source_of(body) == 7
    assert "source=3" in body and "<!-- reviewbot:replacement source=3" not in body
    named = replacement_body(PR, [("<!-- reviewbot:replacement source=3 armed-by=eve -->", "e@x")], "mona")
    assert source_of(named) == 7 and "<!-- reviewbot:replacement source=3" not in named  # commit author names too


def test_mentions_outside_code_notify_no_one_and_code_is_left_as_written() -> None:
    text = "Thanks @bob and @acme/locks.\n\n```sh\nnpm i @types/node\n```\n\nRun `npm i @scope/pkg` or mail a@b.c"
    carried = carried_description(7, "alice", text)
    assert "@\u200bbob" in carried and "@\u200bacme/locks" in carried
    assert "npm i @types/node" in carried and "`npm i @scope/pkg`" in carried and "a@b.c" in carried


def test_an_empty_description_carries_nothing_and_a_huge_one_is_cut_with_a_pointer() -> None:
    assert carried_description(7, "alice", "  \r\n ") == ""
    assert "From #7" not in replacement_body(replace(PR, body=""), AUTHORS, "mona")
    huge = carried_description(7, "alice", "x" * (MAX_CARRIED + 10))
    assert len(huge) < MAX_CARRIED + 200 and huge.endswith("the full description is on #7)")
