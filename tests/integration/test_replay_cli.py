"""`reviewbot replay`: a saved webhook payload goes into the service's queue exactly as `/webhook` would put it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from reviewbot.store.db import make_engine
from reviewbot.store.queue import JobState, Queue

WEBHOOKS = Path(__file__).resolve().parents[1] / "data" / "webhooks"
OPENED = WEBHOOKS / "pull_request.opened.1.json"


def replay(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("REVIEWBOT_")}
    env["REVIEWBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'service.db'}"
    return subprocess.run(
        [sys.executable, "-m", "reviewbot.cli", "replay", *args], capture_output=True, text=True, env=env, timeout=60
    )


def queued(tmp_path: Path) -> list:
    return Queue(make_engine(f"sqlite:///{tmp_path / 'service.db'}")).jobs(JobState.QUEUED)


def test_a_saved_delivery_is_queued_once_under_githubs_delivery_id(tmp_path: Path) -> None:
    payload = json.loads(OPENED.read_text())
    first = replay(tmp_path, str(OPENED), "--event", "pull_request", "--delivery", "gh-delivery-1")
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    [job] = queued(tmp_path)
    assert answer["jobs"] == [job.id] and answer["stored"] and not answer["duplicate"]
    assert (job.repo, job.pr_number, job.head_sha) == (
        payload["repository"]["full_name"],
        payload["pull_request"]["number"],
        payload["pull_request"]["head"]["sha"],
    )
    again = json.loads(replay(tmp_path, str(OPENED), "--event", "pull_request", "--delivery", "gh-delivery-1").stdout)
    assert again["duplicate"] and again["jobs"] == [job.id] and len(queued(tmp_path)) == 1


def test_without_an_id_the_same_body_is_still_replayed_once(tmp_path: Path) -> None:
    for _ in range(2):
        assert replay(tmp_path, str(OPENED), "--event", "pull_request").returncode == 0
    assert len(queued(tmp_path)) == 1


def test_a_dry_run_says_what_it_would_do_and_stores_nothing(tmp_path: Path) -> None:
    result = replay(tmp_path, str(OPENED), "--event", "pull_request", "--dry-run")
    answer = json.loads(result.stdout)
    assert result.returncode == 0 and not answer["stored"]
    assert answer["actions"][0].startswith("queue a review of ")
    assert queued(tmp_path) == []


def test_bad_input_is_explained(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = replay(tmp_path, str(broken), "--event", "pull_request")
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    no_action = tmp_path / "no-action.json"
    no_action.write_text("{}")
    result = replay(tmp_path, str(no_action), "--event", "pull_request")
    assert result.returncode == 2 and "no `action`" in result.stderr
    missing = replay(tmp_path, str(tmp_path / "nope.json"), "--event", "pull_request")
    assert missing.returncode == 2 and "nope.json" in missing.stderr


def test_a_dry_run_of_a_delivery_already_stored_says_it_is_a_duplicate(tmp_path: Path) -> None:
    first = replay(tmp_path, str(OPENED), "--event", "pull_request", "--delivery", "gh-delivery-7")
    stored = json.loads(first.stdout)["jobs"]
    dry = replay(tmp_path, str(OPENED), "--event", "pull_request", "--delivery", "gh-delivery-7", "--dry-run")
    answer = json.loads(dry.stdout)
    assert dry.returncode == 0 and answer["duplicate"] and answer["jobs"] == stored and not answer["stored"]


def test_what_the_endpoint_refuses_replay_refuses_with_exit_2(tmp_path: Path) -> None:
    """The same intake rules as /webhook: delivery ids, event names, nesting, text."""
    nested = tmp_path / "nested.json"
    nested.write_text('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    surrogate = tmp_path / "surrogate.json"
    surrogate.write_text(OPENED.read_text().replace('"Codertocat/Hello-World"', r'"Codertocat/\ud800"', 1))
    cases = [
        ((str(OPENED), "--event", "pull_request", "--delivery", "x" * 81), "X-GitHub-Delivery"),
        ((str(OPENED), "--event", "pull_request", "--delivery", "two words"), "X-GitHub-Delivery"),
        ((str(OPENED), "--event", "p" * 61), "X-GitHub-Event"),
        ((str(nested), "--event", "pull_request"), "nests"),
        ((str(surrogate), "--event", "pull_request"), "full_name` contains a lone surrogate"),
    ]
    for args, message in cases:
        result = replay(tmp_path, *args)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert queued(tmp_path) == []
