"""Maintainer commands end to end: a comment on the fake GitHub, the service, the answer on the PR.

Only the real flows live here (a command that starts a review, redelivered webhooks, a pause
across pushes, commands hidden in quotes). Who may run which command, and what status and
help answer, are tests/unit/test_command_jobs.py, over the in-memory GitHub port.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.review.markers import parse_marker
from tests.e2e.world import World

pytestmark = pytest.mark.sandbox

MAINTAINER = "mona"


@pytest.fixture
def world(tmp_path: Path):
    from tests.repos import build_python_proven

    with World(tmp_path, build_python_proven) as built:
        built.fake.set_permission(built.repo, MAINTAINER, "write")
        yield built


def test_re_review_ticks_its_progress_and_updates_the_review(world: World) -> None:
    comment_id, response = world.comment("@reviewbot re-review\nPlease look at the release path on error.", MAINTAINER)
    assert response.status_code == 202
    assert world.work() == 2  # the command, then the review it queued
    [status] = world.bot_comments("<!-- reviewbot:status re-review")
    assert status.body.startswith(f"🦞🧹 Re-review of head `{world.head_sha()[:12]}`, requested by @\u200bmona.")
    assert "Re-review progress:" in status.body and "- [ ]" not in status.body
    [review] = world.bot_comments("<!-- reviewbot:review ")
    assert f"#issuecomment-{review.id}" in status.body
    assert "Please look at the release path on error." in review.body  # focus, shown as context
    assert parse_marker(review.body).head == world.head_sha()  # type: ignore[union-attr]
    [done] = world.bot_comments("<!-- reviewbot:answer to=re-review-")  # a new comment: GitHub notifies mona
    assert done.body.startswith(f"@mona: re-review of `{world.head_sha()[:12]}` done: **passed** (proof `proven`")
    assert done.body.splitlines()[0].endswith(f"#issuecomment-{review.id}")
    [command] = [c for c in world.fake.comments(world.repo, world.number) if c.id == comment_id]
    assert [r.content for r in command.reactions] == ["eyes"]
    world.fake.assert_contract_clean()


def test_the_same_delivery_twice_and_an_unchanged_edit_do_nothing(world: World) -> None:
    comment_id, _ = world.comment("@reviewbot status", MAINTAINER)
    assert (
        world.comment("@reviewbot status", MAINTAINER, edit=comment_id, delivery_id=world.last_delivery)[1].status_code
        == 200
    )
    world.work()
    world.comment("@reviewbot status", MAINTAINER, edit=comment_id)  # edited, same command: already carried out
    world.work()
    assert len(world.bot_comments("<!-- reviewbot:status status")) == 1
    world.comment("@reviewbot stop", MAINTAINER, edit=comment_id)  # edited into another command: a new request
    world.work()
    assert world.service.command_job.states.get(world.repo, world.number).paused


def test_stop_pauses_reviews_of_new_pushes_and_approve_resumes(world: World) -> None:
    world.comment("@reviewbot approve", MAINTAINER)  # never paused: nothing to resume
    world.work()
    [nothing] = world.bot_comments("<!-- reviewbot:status pause")
    assert nothing.body.startswith("@mona: nothing to resume: reviews and automerge were not paused.")
    world.comment("@reviewbot stop", MAINTAINER)
    world.work()
    assert "reviewbot:human-review" in world.fake.labels(world.repo, world.number)
    _, paused = world.bot_comments("<!-- reviewbot:status pause")
    assert paused.body.startswith("@mona: 🦞✅ Paused by")
    world.push_commit("notes.txt", "while paused\n")
    world.deliver("synchronize")
    world.work()
    assert world.bot_comments("<!-- reviewbot:review ") == []  # paused: no automatic review
    world.comment("@reviewbot approve", MAINTAINER)
    world.work()
    _, stopped, resumed = world.bot_comments("<!-- reviewbot:status pause")
    assert stopped.body == paused.body  # each answer is its own comment, below its request
    assert resumed.body.startswith("@mona: 🦞✅ Resumed by") and resumed.id > paused.id
    world.deliver("synchronize")
    world.work()
    assert len(world.bot_comments("<!-- reviewbot:review ")) == 1


def test_commands_in_quotes_and_code_are_not_commands(world: World) -> None:
    _, quoted = world.comment("> @reviewbot stop\n\n```\n@reviewbot stop\n```\n", MAINTAINER)
    assert quoted.status_code == 202 and quoted.json()["jobs"] == []
    assert world.work() == 0
