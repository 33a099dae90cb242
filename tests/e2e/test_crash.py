"""Crash recovery: real worker processes SIGKILLed at checkout, in the sandbox and while publishing.

After each kill a new worker process starts, as a supervisor would restart it. Every job
completes, each PR ends with exactly one review comment, and nothing of the dead worker
is left: no sandbox process, run folder, worktree, git lock file or cgroup. Two workers
racing on one PR publish one comment. The webhook service SIGKILLed mid-burst and restarted
loses no delivery it accepted. `bench/crash.py` runs the same with 20+ kills.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.crash import PHASES, CrashLab
from tests.e2e.world import World

pytestmark = pytest.mark.sandbox

NOTHING_LEFT = {"processes": [], "run folders": [], "worktrees": [], "git locks": [], "cgroups": []}


@pytest.fixture
def lab(tmp_path: Path):
    from tests.repos import build_python_proven

    with World(tmp_path, build_python_proven) as world:
        crash_lab = CrashLab(world, lease_s=2.0, seed=8)
        try:
            yield crash_lab
        finally:
            crash_lab.stop()


# Killing workers is about processes, the sandbox and the workspace; the queue's lease recovery is the same
# code on both databases (tests/unit/test_queue.py runs it on each), so this long test runs on SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_worker_killed_in_each_phase_is_recovered_with_one_review_and_nothing_left(lab: CrashLab) -> None:
    lab.start_worker()
    for index, phase in enumerate((*PHASES, "publish")):
        number = lab.world.number if index == 0 else lab.open_pull_request()
        assert lab.deliver_opened(number) == 202
        [worker] = lab.live_workers()
        kill = lab.kill_at(phase, worker, number)
        assert kill is not None, f"never saw the worker reach {phase}"
        assert kill.survivors == [], f"sandbox processes outlived the worker killed at {kill.point}"
        lab.start_worker()  # the restart: it cleans up, waits out the lease, and finishes the job
        assert lab.wait_until_idle(), f"the job of PR #{number} did not complete after a kill at {kill.point}"
        assert lab.review_state(number) == (1, True), f"PR #{number} after a kill at {kill.point}"
        assert lab.leftovers() == NOTHING_LEFT, f"after a kill at {kill.point}"
    summary = lab.summary()
    assert summary["duplicates"] == 0 and summary["lost"] == [] and summary["unfinished"] == []
    assert set(summary["states"]) == {"done"}


def test_two_workers_racing_on_one_pr_publish_one_comment(lab: CrashLab) -> None:
    lab.start_worker()
    lab.start_worker()
    posted = lab.race(lab.world.number)
    assert posted == 4  # both jobs really raced: each posted its own "review started" note and its own review
    assert lab.review_state(lab.world.number) == (1, True)
    assert lab.summary()["unfinished"] == []
    assert lab.leftovers() == NOTHING_LEFT


def test_a_service_killed_mid_burst_loses_no_accepted_delivery(lab: CrashLab) -> None:
    """SIGKILL `reviewbot serve` while deliveries arrive; after the restart GitHub's redeliveries fill the gap."""
    restart = lab.service_restart(deliveries=5)
    assert restart["lost accepted deliveries"] == 0
    assert restart["not accepted"] == []
    assert restart["accepted"] == restart["deliveries"] == 5
