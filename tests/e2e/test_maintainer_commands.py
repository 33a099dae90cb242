"""Maintainer commands end to end: a comment on the fake GitHub, the service, the answer on the PR."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.review.markers import parse_marker
from tests.e2e.world import CONTRIBUTOR, World

pytestmark = pytest.mark.sandbox

MAINTAINER = "mona"


@pytest.fixture
def world(tmp_path: Path):
    from tests.repos import build_python_proven

    with World(tmp_path, build_python_proven) as built:
        built.fake.set_permission(built.repo, MAINTAINER, "write")
        yield built


def test_re_review_ticks_its_progress_and_updates_the_review(world: World) -> None:
    comment_id, response = world.comment("@reviewbot re-review\nPlease look at the release path on error.",
                                         MAINTAINER)
    assert response.status_code == 202
    assert world.work() == 2  # the command, then the review it queued
    [status] = world.bot_comments("<!-- reviewbot:status re-review")
    assert status.body.startswith("🦞🧹 I asked reviewbot to review this item again.")
    assert "Re-review progress:" in status.body and "- [ ]" not in status.body
    [review] = world.bot_comments("<!-- reviewbot:review ")
    assert f"#issuecomment-{review.id}" in status.body
    assert "Please look at the release path on error." in review.body  # focus, shown as context
    assert parse_marker(review.body).head == world.head_sha()  # type: ignore[union-attr]
    [command] = [c for c in world.fake.comments(world.repo, world.number) if c.id == comment_id]
    assert [r.content for r in command.reactions] == ["eyes"]
    world.fake.assert_contract_clean()


def test_the_same_delivery_twice_and_an_unchanged_edit_do_nothing(world: World) -> None:
    comment_id, _ = world.comment("@reviewbot status", MAINTAINER)
    assert world.comment("@reviewbot status", MAINTAINER, edit=comment_id, delivery_id=world.last_delivery)[1] \
        .status_code == 200
    world.work()
    world.comment("@reviewbot status", MAINTAINER, edit=comment_id)  # edited, same command: already carried out
    world.work()
    assert len(world.bot_comments("<!-- reviewbot:status status")) == 1
    world.comment("@reviewbot stop", MAINTAINER, edit=comment_id)  # edited into another command: a new request
    world.work()
    assert world.service.command_job.states.get(world.repo, world.number).paused


@pytest.mark.parametrize(
    ("command", "login", "level", "allowed"),
    [
        pytest.param("re-review", CONTRIBUTOR, None, True, id="re-review-by-the-pr-author"),
        pytest.param("re-review", "ted", "triage", False, id="re-review-by-triage"),
        pytest.param("re-review", "wes", "write", True, id="re-review-by-write"),
        pytest.param("automerge", CONTRIBUTOR, None, False, id="automerge-by-the-author"),
        pytest.param("automerge", "mia", "maintain", True, id="automerge-by-maintain"),
        pytest.param("stop", "rita", "read", False, id="stop-by-read"),
        pytest.param("stop", "ada", "admin", True, id="stop-by-admin"),
        pytest.param("approve", "rita", "read", False, id="approve-by-read"),
        pytest.param("approve", "wes", "write", True, id="approve-by-write"),
        pytest.param("status", "nobody", None, True, id="status-by-anyone"),
        pytest.param("help", "nobody", None, True, id="help-by-anyone"),
    ],
)
def test_the_permission_table(world: World, command: str, login: str, level: str | None, allowed: bool) -> None:
    if level:
        world.fake.set_permission(world.repo, login, level)
    world.comment(f"@reviewbot {command}", login)
    world.work()
    refusals = world.bot_comments("<!-- reviewbot:status refusal")
    if allowed:
        assert refusals == []
    else:
        [refusal] = refusals
        assert f"`{command}` was not run" in refusal.body and "can be run by" in refusal.body


def test_other_bots_are_ignored_unless_allow_listed(world: World) -> None:
    world.comment("@reviewbot stop", "ci-helper[bot]", bot=True)
    world.work()
    assert not world.service.command_job.states.get(world.repo, world.number).paused
    assert world.bot_comments("<!-- reviewbot:status") == []  # no reply to a bot: no loops


def test_stop_pauses_reviews_of_new_pushes_and_approve_resumes(world: World) -> None:
    world.comment("@reviewbot stop", MAINTAINER)
    world.work()
    assert "reviewbot:human-review" in world.fake.labels(world.repo, world.number)
    [paused] = world.bot_comments("<!-- reviewbot:status pause")
    assert paused.body.startswith("🦞✅ Paused by")
    world.push_commit("notes.txt", "while paused\n")
    world.deliver("synchronize")
    world.work()
    assert world.bot_comments("<!-- reviewbot:review ") == []  # paused: no automatic review
    world.comment("@reviewbot approve", MAINTAINER)
    world.work()
    [resumed] = world.bot_comments("<!-- reviewbot:status pause")
    assert resumed.body.startswith("🦞✅ Resumed by") and resumed.id == paused.id  # edited in place
    world.deliver("synchronize")
    world.work()
    assert len(world.bot_comments("<!-- reviewbot:review ")) == 1


def test_status_and_help_answer_anyone(world: World) -> None:
    world.deliver("opened")
    world.work()
    world.comment("@reviewbot status", "passer-by")
    world.comment("/reviewbot frobnicate", "passer-by")
    world.work()
    [status] = world.bot_comments("<!-- reviewbot:status status")
    assert "- Review: passed (proof `proven`, rank B)" in status.body and "#issuecomment-" in status.body
    assert "- Next step: Nothing blocks a merge: a maintainer can merge or comment `@reviewbot automerge`." in \
        status.body  # the review's own next step, as its comment says it
    [help_answer] = world.bot_comments("<!-- reviewbot:status help")
    assert "I do not know the command `frobnicate`" in help_answer.body
    assert "| `@reviewbot re-review` |" in help_answer.body


def test_commands_in_quotes_and_code_are_not_commands(world: World) -> None:
    _, quoted = world.comment("> @reviewbot stop\n\n```\n@reviewbot stop\n```\n", MAINTAINER)
    assert quoted.status_code == 202 and quoted.json()["jobs"] == []
    assert world.work() == 0
