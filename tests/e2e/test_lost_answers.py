"""Exactly once when GitHub applies a write and the answer is lost (a 502 or a dropped connection after it).

PyGithub's retry would repeat such a POST and make a second comment or check run. The bot
never repeats a create blindly: it lists what it was creating (a comment by its marker, a
check run by name and head) and adopts it. Edits (PATCH) and idempotent POSTs (labels)
are still retried as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.review.markers import parse_marker
from reviewbot.store.queue import JobState
from tests.e2e.world import World

# What this file checks does not depend on the database (the queue and service tests run on both): SQLite only.
pytestmark = [pytest.mark.sandbox, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def world(tmp_path: Path):
    from tests.repos import build_python_proven

    with World(tmp_path, build_python_proven) as built:
        yield built


@pytest.mark.parametrize("kind", ["applied_5xx", "applied_drop"])
def test_writes_applied_with_their_answer_lost_still_make_one_comment_and_one_check_run(
    world: World, kind: str
) -> None:
    fake, repo, number = world.fake, world.repo, world.number
    rules = [
        fake.faults.add(
            kind, method="POST", path_glob=f"/repos/{repo}/issues/{number}/comments", times=2
        ),  # the placeholder, then the review
        fake.faults.add(kind, method="POST", path_glob=f"/repos/{repo}/check-runs"),
        fake.faults.add(kind, method="POST", path_glob=f"/repos/{repo}/issues/{number}/labels"),
    ]
    assert world.deliver("opened").status_code == 202
    assert world.work() == 1
    assert [rule.fired for rule in rules] == [2, 1, 1]
    [comment] = world.bot_comments("<!-- reviewbot:review")
    marker = parse_marker(comment.body)
    assert marker is not None and marker.head == world.head_sha() and marker.verdict == "proven"
    [check] = fake.check_runs(repo, world.head_sha())
    assert check.conclusion == "success"
    assert {"status: passed", "proof: proven"} <= set(fake.labels(repo, number))
    [job] = world.service.queue.jobs()
    assert (job.state, job.attempts) == (JobState.DONE.value, 1)  # adopted in place, not retried as a job


def test_a_later_attempt_edits_the_heads_check_run_instead_of_adding_one(world: World) -> None:
    from reviewbot.github.checks import publish_check

    connection = world.service.edge.connection(world.installation)
    head = world.head_sha()
    publish_check(connection, world.repo, head, "weak", "first", "first summary")
    publish_check(connection, world.repo, head, "proven", "second", "second summary")
    [check] = world.fake.check_runs(world.repo, head)
    assert (check.conclusion, check.output.get("title")) == ("success", "second")
