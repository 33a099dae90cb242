"""The service end to end: signed webhooks in, one review comment, a check run and labels out.

Everything is real except GitHub: the service runs under uvicorn, its queue is
SQLite, its workers check out over git smart HTTP from the fake GitHub and run
the proof in the sandbox, and PyGithub publishes to the fake, whose every
answer is checked against GitHub's OpenAPI description.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewbot.bot.reconcile import reconcile
from reviewbot.review.markers import parse_marker
from reviewbot.store.queue import JobState
from tests.e2e.world import World
from tests.waiting import wait_until

pytestmark = pytest.mark.sandbox


def review_comments(world: World) -> list:
    return [
        c
        for c in world.fake.comments(world.repo, world.number)
        if c.user.login == world.bot_login and "<!-- reviewbot:review" in c.body
    ]


def test_an_opened_pr_gets_one_comment_a_check_run_and_labels(world: World) -> None:
    response = world.deliver("opened")
    assert response.status_code == 202 and len(response.json()["jobs"]) == 1
    assert world.work() == 1
    [comment] = review_comments(world)
    marker = parse_marker(comment.body)
    head = world.head_sha()
    assert marker is not None and marker.head == head and marker.verdict == "proven"
    assert comment.body.startswith("## ✅ reviewbot: passed")
    [check] = world.fake.check_runs(world.repo, head)
    assert (check.name, check.status, check.conclusion) == ("reviewbot / lock proof", "completed", "success")
    assert check.output["title"].startswith("passed · proof proven · rank ")
    assert check.output["summary"].startswith("✅ **Passed** · proof ✅ proven · rank ")
    assert f"#issuecomment-{comment.id})" in check.output["summary"]  # the whole review is one click away
    assert {"status: passed", "proof: proven"} <= set(world.fake.labels(world.repo, world.number))
    assert world.deliver("opened", delivery_id=world.last_delivery).status_code == 200  # a replay does nothing
    assert world.work() == 0
    world.fake.assert_contract_clean()


def test_a_re_review_of_the_same_head_edits_its_one_check_run(world: World) -> None:
    """Every publish for a head edits that head's run: a re-review never stacks a second one under it."""
    import httpx

    from reviewbot.store.jobs import JobKind, JobSpec

    world.deliver("opened")
    assert world.work() == 1
    head = world.head_sha()
    [first] = world.fake.check_runs(world.repo, head)
    token = world.fake.add_user("triager")
    world.fake.set_permission(world.repo, "triager", "write")
    httpx.post(
        f"{world.fake.url}/repos/{world.repo}/issues/{world.number}/labels",
        json={"labels": ["bug"]},
        headers={"Authorization": f"token {token}"},
    ).raise_for_status()
    world.fake.reset_calls()
    world.service.queue.enqueue(
        JobSpec(
            kind=JobKind.REVIEW,
            repo=world.repo,
            pr_number=world.number,
            head_sha=head,
            installation_id=world.installation,
            reason="re-review",
        )
    )
    assert world.work() == 1
    [again] = world.fake.check_runs(world.repo, head)
    assert again.id == first.id and again.conclusion == "success"
    assert world.fake.count("GET", f"/repos/{world.repo}/commits/{head}/check-runs") == 1  # one listing call
    assert world.fake.count("POST", f"/repos/{world.repo}/check-runs") == 0
    assert world.fake.count("GET", f"/repos/{world.repo}/issues/{world.number}/labels") == 0  # read with the PR
    assert {"bug", "status: passed", "proof: proven"} <= set(world.fake.labels(world.repo, world.number))
    world.fake.assert_contract_clean()


def test_a_push_edits_the_same_comment_and_history_grows(world: World) -> None:
    world.deliver("opened")
    world.work()
    [first] = review_comments(world)
    world.push_commit("CHANGELOG.md", "- Release the lock file when the body raises.\n")
    world.deliver("synchronize")
    assert world.work() == 1
    [second] = review_comments(world)
    marker = parse_marker(second.body)
    assert second.id == first.id and marker is not None and marker.head == world.head_sha()
    assert len(marker.history) == 2 and marker.history[0].head != marker.history[1].head
    world.fake.assert_contract_clean()


def test_twenty_pushes_in_a_second_make_one_review_of_the_last_head(world: World) -> None:
    heads = [world.push_commit("notes.txt", f"push {i}\n") for i in range(20)]
    for head in heads:
        assert world.deliver("synchronize", head_sha=head).status_code == 202
    assert world.work() == 1
    states = [JobState(job.state) for job in world.service.queue.jobs()]
    assert states.count(JobState.DONE) == 1 and states.count(JobState.SUPERSEDED) == 19
    [comment] = review_comments(world)
    assert parse_marker(comment.body).head == heads[-1]  # type: ignore[union-attr]


def test_closing_the_pr_cancels_its_running_review_and_nothing_is_published(hanging_world: World) -> None:
    world = hanging_world
    world.deliver("opened")
    worker = threading.Thread(target=world.work)
    worker.start()
    # the proof is under way once base's suite has started (its log opens): base hangs until its suite timeout
    logs = world.service.settings.data_dir / "logs"
    wait_until(
        lambda: [log for log in logs.glob("*/base-*.log") if not log.name.endswith("-setup.log")],
        "the base suite started",
        timeout=60,
    )
    world.fake.close_pull_request(world.repo, world.number)
    assert world.deliver("closed").json()["cancelled"] == 1
    worker.join(60)
    assert not worker.is_alive()
    [job] = world.service.queue.jobs()
    assert JobState(job.state) == JobState.CANCELLED
    assert review_comments(world) == [] and world.fake.comments(world.repo, world.number) == []
    assert world.fake.check_runs(world.repo, world.head_sha()) == []
    assert world.fake.labels(world.repo, world.number) == []


def test_a_failing_fetch_is_retried_and_the_last_attempt_says_so_on_the_pr(world: World) -> None:
    world.service.queue.max_attempts = 2
    world.fake.faults.add("5xx", path_glob="/git/*", times=None)  # git fetch keeps failing
    world.deliver("opened")
    assert world.work() == 1
    [job] = world.service.queue.jobs()
    assert JobState(job.state) == JobState.QUEUED and "git fetch" in job.last_error  # retried later, nothing said yet
    assert review_comments(world) == [] and world.fake.comments(world.repo, world.number) == []
    world.service.queue.clock = lambda: datetime.now(UTC) + timedelta(hours=1)  # past the backoff
    assert world.work() == 1
    assert_did_not_complete(world, "git fetch")


def test_a_job_that_keeps_raising_is_dead_lettered_onto_the_pr(world: World) -> None:
    world.service.queue.max_attempts = 1
    world.fake.faults.add("5xx", path_glob=f"/repos/{world.repo}/pulls/*", method="GET", times=4)  # 1 + 3 retries
    world.deliver("opened")
    assert world.work() == 1
    [job] = world.service.queue.jobs()
    assert JobState(job.state) == JobState.DEAD
    assert_did_not_complete(world, "failed 1 times")


def assert_did_not_complete(world: World, detail: str) -> None:
    [comment] = review_comments(world)
    assert comment.body.startswith("## 🛠️ reviewbot: did not complete") and detail in comment.body
    assert "@reviewbot re-review" in comment.body
    assert world.fake.labels(world.repo, world.number) == ["status: did not complete"]
    [check] = world.fake.check_runs(world.repo, world.head_sha())
    assert check.conclusion == "action_required"


def test_reconcile_reviews_a_pr_whose_webhook_was_lost(world: World) -> None:
    world.deliver("opened")
    world.work()
    other = world.open_second_pull_request()  # no webhook is delivered for it
    created = reconcile(world.service.github, world.service.queue, world.service.published)
    assert len(created) == 1
    assert world.work() == 1
    assert any(parse_marker(c.body) for c in world.fake.comments(world.repo, other))
    assert reconcile(world.service.github, world.service.queue, world.service.published) == []


@pytest.fixture
def world(tmp_path: Path):
    from tests.repos import build_python_proven

    with World(tmp_path, build_python_proven) as built:
        yield built


@pytest.fixture
def hanging_world(tmp_path: Path):
    from tests.repos import build_node_hangs_on_base

    with World(tmp_path, build_node_hangs_on_base) as built:
        yield built


def test_rate_limits_and_server_errors_are_retried_without_duplicates(world: World) -> None:
    world.fake.faults.add(
        "secondary_rate_limit", path_glob="/repos/*/issues/*/comments", method="POST", times=1, retry_after=1
    )
    five = world.fake.faults.add("5xx", path_glob="/repos/*/issues/comments/*", method="DELETE", times=1)
    world.fake.faults.add("429", path_glob="/repos/*/check-runs", method="POST", times=1, retry_after=1)
    world.deliver("opened")
    assert world.work() == 1
    [job] = world.service.queue.jobs()
    assert JobState(job.state) == JobState.DONE
    [comment] = review_comments(world)
    assert comment.body.startswith("## ✅ reviewbot: passed")
    assert [check.conclusion for check in world.fake.check_runs(world.repo, world.head_sha())] == ["success"]
    assert world.fake.count("POST", "/repos/*/issues/*/comments") == 3  # the refused note, its retry, the review
    assert five.fired == 1 and world.bot_comments("<!-- reviewbot:review-started") == []  # the note's delete retried
    world.fake.assert_contract_clean()


def test_with_a_token_the_proof_is_a_commit_status(tmp_path: Path) -> None:
    from tests.repos import build_python_proven

    with World(tmp_path, build_python_proven, auth="token") as world:
        world.deliver("opened")
        assert world.work() == 1
        [comment] = review_comments(world)
        assert comment.user.login == "lock-review-bot" and parse_marker(comment.body).verdict == "proven"  # type: ignore[union-attr]
        [status] = world.fake.statuses(world.repo, world.head_sha())
        assert (status.context, status.state) == ("reviewbot / lock proof", "success")
        assert world.fake.check_runs(world.repo, world.head_sha()) == []
        world.fake.assert_contract_clean()


def test_two_worker_processes_racing_on_one_pr_publish_one_comment(world: World) -> None:
    """`reviewbot worker --processes 2`, separate processes on the same queue, as a second host would run them."""
    import os
    import signal
    import subprocess
    import sys

    for head in [world.push_commit("notes.txt", f"race {i}\n") for i in range(3)]:
        world.deliver("synchronize", head_sha=head)
    settings = world.service.settings
    env = {
        **os.environ,
        "REVIEWBOT_DATA_DIR": str(settings.data_dir),
        "REVIEWBOT_DATABASE_URL": settings.resolved_database_url,
        "REVIEWBOT_GITHUB_API_URL": world.fake.url,
        "REVIEWBOT_APP_ID": str(settings.app_id),
        "REVIEWBOT_PRIVATE_KEY": settings.private_key_pem() or "",
        "REVIEWBOT_LEASE_S": "10",
    }
    workers = subprocess.Popen(
        [sys.executable, "-m", "reviewbot.cli", "worker", "--processes", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [JobState(job.state) for job in world.service.queue.jobs()]
            if JobState.QUEUED not in states and JobState.RUNNING not in states:
                break
            time.sleep(0.2)
    finally:
        os.killpg(workers.pid, signal.SIGTERM)
        _, stderr = workers.communicate(timeout=60)
    states = [JobState(job.state) for job in world.service.queue.jobs()]
    assert states.count(JobState.DONE) == 1 and states.count(JobState.SUPERSEDED) == 2, stderr.decode()[-2000:]
    [comment] = review_comments(world)
    assert parse_marker(comment.body).head == world.head_sha()  # type: ignore[union-attr]
    assert workers.returncode is not None
