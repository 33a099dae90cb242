"""Scale-out: jobs per minute with 1, 2 and 4 workers sharing one queue, on PostgreSQL and on SQLite.

A batch of short reviews goes through the whole service against the fake GitHub:
one `opened` delivery per PR, then N workers work the queue until every review is
published. Each worker is its own thread with its own queue connection, claiming
through the database exactly as separate `reviewbot worker` processes on separate
machines would (row locks with SKIP LOCKED on PostgreSQL, the single writer on SQLite).

The PRs' lock suite waits on a lock timeout (about a second), as lock regression
suites do, so a review spends most of its wall time waiting rather than computing:
the ratio measures how well the queue keeps several workers busy, which is what adding
workers buys. Every review still runs for real in the sandbox, base and head.

Printed per database: jobs, seconds, jobs/minute and the ratio to one worker, plus
checks that must hold: no job claimed twice (every job done in one attempt), exactly
one review comment per PR. Target: 2 workers >= 1.7x one worker. Exit 1 if a check fails.

    scripts/postgres.sh                      # prints REVIEWBOT_TEST_POSTGRES_URL=...; export it
    .venv/bin/python bench/scale_out.py      # 12 PRs per run; --prs N for more
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from textwrap import dedent

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.review.markers import parse_marker  # noqa: E402
from reviewbot.samples.repos import RepoWriter, SampleRepo  # noqa: E402
from reviewbot.store.queue import JobState  # noqa: E402
from tests.databases import POSTGRES_ENV, database  # noqa: E402
from tests.e2e.world import SECRET, World  # noqa: E402

WAIT_MS = 1000
LOCK_BUGGY = dedent("""
    // A try-lock with a timeout: the second caller waits, then gives up.
    export class TimedLock {
      #held = false;
      async acquire(timeoutMs) {
        const until = Date.now() + timeoutMs;
        while (this.#held) {
          if (Date.now() > until) throw new Error("timed out");
          await new Promise((r) => setTimeout(r, 20));
        }
        this.#held = true;
      }
      release() {}
    }
""").lstrip()
LOCK_FIXED = LOCK_BUGGY.replace("release() {}", "release() { this.#held = false; }")
LOCK_TEST = dedent(f"""
    import {{ test }} from "node:test";
    import assert from "node:assert";
    import {{ TimedLock }} from "../src/lock.mjs";

    test("a released lock can be taken again before the timeout", async () => {{
      const lock = new TimedLock();
      await lock.acquire(10);
      setTimeout(() => lock.release(), {WAIT_MS});
      await assert.doesNotReject(lock.acquire({WAIT_MS * 3}));
    }});
""").lstrip()
CONFIG = dedent("""
    suites:
      - name: timed lock regression
        run: node --test test/lock.test.mjs
        paths: ["src/**", "test/**"]
        kind: regression
        timeout: 30
""").lstrip()


def build_waiting_sample(root: Path) -> SampleRepo:
    head = "fix/release-timed-lock"
    RepoWriter(root).pull_request(
        head=head,
        base_files={
            "package.json": '{"type": "module"}\n',
            "src/lock.mjs": LOCK_BUGGY,
            ".github/reviewbot.yml": CONFIG,
        },
        pr_files={"src/lock.mjs": LOCK_FIXED, "test/lock.test.mjs": LOCK_TEST},
        pr_message="Release the timed lock",
    )
    return SampleRepo(
        path=root,
        base="main",
        head=head,
        expected_verdict="proven",
        description="a lock suite that waits on a timeout",
        title="Release the timed lock",
        body="Fixes the lock never being released.",
    )


def run_workers(world: World, workers: int) -> None:
    """`workers` threads, each a worker with its own name, until nothing is queued or running."""
    queue = world.service.queue

    def loop(name: str) -> None:
        worker = world.service.worker(name=name)
        while True:
            if worker.run_once():
                continue
            if not queue.jobs(JobState.QUEUED, JobState.RUNNING):
                return
            time.sleep(0.05)

    threads = [threading.Thread(target=loop, args=(f"scale-worker-{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def one_run(kind: str, workers: int, prs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        World.database_url = url
        with World(Path(tmp), build_waiting_sample) as world:
            numbers = world.open_pull_requests(prs)
            for number in numbers:
                payload = world.fake.payload_for_pull_request(world.repo, number, "opened", world.installation)
                world.fake.deliver(world.server.url, "pull_request", payload, SECRET, str(uuid.uuid4()))
            started = time.monotonic()
            run_workers(world, workers)
            seconds = time.monotonic() - started
            jobs = world.service.queue.jobs()
            twice = sum(1 for job in jobs if job.attempts != 1)
            not_done = sum(1 for job in jobs if JobState(job.state) != JobState.DONE)
            wrong_comments, verdicts = 0, set()
            for number in numbers:
                head = world.fake.pull_request(world.repo, number).head_sha
                ours = [
                    c
                    for c in world.fake.comments(world.repo, number)
                    if c.user.login == world.bot_login and "<!-- reviewbot:review" in c.body
                ]
                markers = [parse_marker(c.body) for c in ours]
                wrong_comments += not (len(ours) == 1 and markers[0] is not None and markers[0].head == head)
                verdicts.update(m.verdict for m in markers if m is not None)
    return {
        "kind": kind,
        "workers": workers,
        "jobs": len(jobs),
        "seconds": seconds,
        "twice": twice,
        "not_done": not_done,
        "wrong_comments": wrong_comments,
        "verdicts": sorted(verdicts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prs", type=int, default=12, help="reviews per run (default 12)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    parser.add_argument("--databases", default="postgresql,sqlite")
    args = parser.parse_args()
    logging.getLogger("reviewbot").setLevel(logging.ERROR)
    logging.getLogger("github").setLevel(logging.ERROR)
    kinds = args.databases.split(",")
    if "postgresql" in kinds and not os.environ.get(POSTGRES_ENV):
        print(f"no PostgreSQL: export the line scripts/postgres.sh prints ({POSTGRES_ENV})", file=sys.stderr)
        return 2

    ok = True
    print(f"{'database':<11} {'workers':>7} {'jobs':>5} {'seconds':>8} {'jobs/min':>9} {'ratio':>6}  checks")
    for kind in kinds:
        baseline = None
        for workers in (int(w) for w in args.workers.split(",")):
            run = one_run(kind, workers, args.prs)
            rate = run["jobs"] / run["seconds"] * 60
            baseline = baseline or rate
            problems = [
                f"{run[key]} {label}"
                for key, label in (
                    ("twice", "jobs claimed twice"),
                    ("not_done", "jobs not done"),
                    ("wrong_comments", "PRs without exactly one review of their head"),
                )
                if run[key]
            ]
            ok &= not problems and run["verdicts"] == ["proven"]
            checks = "; ".join(problems) or f"no job run twice, one review per PR ({', '.join(run['verdicts'])})"
            print(
                f"{kind:<11} {workers:>7} {run['jobs']:>5} {run['seconds']:>8.1f} {rate:>9.1f} "
                f"{rate / baseline:>5.2f}x  {checks}",
                flush=True,
            )
    print("target: 2 workers >= 1.70x one worker; no job run twice")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
