"""Reviews under GitHub misbehaving: N `opened` PRs through the service while the REST API fails.

The fake GitHub injects, on its REST API only (git smart HTTP under `/git/*` is left alone):

* 5xx answers on 10% of requests (probability 0.1, seeded);
* a burst of secondary rate limits, with and then without `Retry-After`, once the run is under way;
* slow answers (0.5 s) on 5% of requests;
* a few dropped connections;
* writes GitHub applies and then loses the answer to: 5% of POSTs and PATCHes answered 502
  after they were applied, and a few POSTs whose connection drops after they were applied
  (a blind retry of those would post a second comment or check run).

About 10% of the deliveries are sent again with the same delivery id, as GitHub's
redelivery would. Two worker threads work the queue; a job that still fails after the
client's own retries goes back to the queue with backoff, so after the first pass the
queue's clock is moved ahead and the workers run again until nothing is runnable (at
most `max_attempts` passes).

Required: every PR gets its review published exactly once (one bot review comment whose
marker names the PR's current head, not a "did not complete" note), no duplicate bot
comments, no lost job. Exit code 1 otherwise.

    .venv/bin/python bench/faults.py                # 40 PRs (about 3-4 minutes on 2 cores)
    .venv/bin/python bench/faults.py --events 100   # the issue's 100 PR events (longer)
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.review.markers import parse_marker  # noqa: E402
from reviewbot.store.queue import JobState  # noqa: E402
from tests.e2e.world import SECRET, World  # noqa: E402
from tests.repos import build_python_proven  # noqa: E402

REVIEW_MARKER = "<!-- reviewbot:review "  # a review's marker (the placeholder's is `reviewbot:review-started`)
ANY_REVIEW_COMMENT = "<!-- reviewbot:review"  # what the service itself treats as its comment (review or placeholder)
REST_GLOBS = ("/repos/*", "/app/*")  # the REST API as the service uses it; never /git/*
DEFAULT_EVENTS = 40


class FailureLog(logging.Handler):
    """Counts the worker's "failed on attempt" warnings and keeps the service's errors."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.failed_attempts = 0
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.errors.append(self.format(record).splitlines()[0])
        elif "failed on attempt" in record.getMessage():
            self.failed_attempts += 1


def add_faults(world: World, seed: int, p5xx: float) -> list:
    fake = world.fake
    rules = []
    for offset, glob in enumerate(REST_GLOBS):
        rules.append(fake.faults.add("drop", path_glob=glob, times=2, probability=0.02, seed=seed + 10 + offset))
        rules.append(fake.faults.add("5xx", path_glob=glob, times=None, probability=p5xx, seed=seed + 20 + offset))
        rules.append(
            fake.faults.add("slow", path_glob=glob, times=None, probability=0.05, seconds=0.5, seed=seed + 30 + offset)
        )
    for offset, method in enumerate(("POST", "PATCH")):
        rules.append(
            fake.faults.add(
                "applied_5xx",
                method=method,
                path_glob="/repos/*",
                times=None,
                probability=0.05,
                seed=seed + 40 + offset,
            )
        )
    rules.append(
        fake.faults.add("applied_drop", method="POST", path_glob="/repos/*", times=3, probability=0.05, seed=seed + 50)
    )
    return rules


def add_burst_when_busy(world: World, after_calls: int, stop: threading.Event, rules: list) -> threading.Thread:
    """Once the run is under way, a burst of secondary rate limits: 3 with Retry-After, then 3 without."""

    def run() -> None:
        while not stop.wait(0.05):
            if sum(1 for c in list(world.fake.calls) if not c.path.startswith("/git/")) >= after_calls:
                rules.append(
                    world.fake.faults.add("secondary_rate_limit", path_glob="/repos/*", times=3, retry_after=1)
                )
                rules.append(world.fake.faults.add("secondary_rate_limit", path_glob="/repos/*", times=3))
                return

    thread = threading.Thread(target=run, daemon=True, name="burst")
    thread.start()
    return thread


def deliver_all(world: World, numbers: list[int], redeliver_every: int, answers: Counter) -> None:
    """One `opened` per PR, and a redelivery (same id) of every `redeliver_every`-th, a few events later."""
    pending: list[tuple[int, dict, str]] = []
    for index, number in enumerate(numbers):
        payload = world.fake.payload_for_pull_request(world.repo, number, "opened", world.installation)
        delivery_id = str(uuid.uuid4())
        answers[
            f"first {world.fake.deliver(world.server.url, 'pull_request', payload, SECRET, delivery_id).status_code}"
        ] += 1
        if redeliver_every and index % redeliver_every == redeliver_every // 2:
            pending.append((index + 3, payload, delivery_id))
        for due, again, again_id in [p for p in pending if p[0] <= index]:
            pending.remove((due, again, again_id))
            answers[
                f"redelivery {world.fake.deliver(world.server.url, 'pull_request', again, SECRET, again_id).status_code}"
            ] += 1
        time.sleep(0.02)
    for _, again, again_id in pending:
        answers[
            f"redelivery {world.fake.deliver(world.server.url, 'pull_request', again, SECRET, again_id).status_code}"
        ] += 1


def work(world: World, workers: int, feeding: threading.Event | None = None) -> int:
    """`workers` threads run jobs until nothing is runnable, nobody is running one, and no delivery is coming."""
    ran = Counter()
    queue = world.service.queue

    def loop(name: str) -> None:
        worker = world.service.worker(name=name)
        while True:
            if worker.run_once():
                ran[name] += 1
                continue
            busy = (feeding is not None and feeding.is_set()) or queue.jobs(JobState.RUNNING)
            if not busy:
                return
            time.sleep(0.1)

    threads = [
        threading.Thread(target=loop, args=(f"bench-worker-{i}",), name=f"bench-worker-{i}") for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(ran.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help=f"PR events (default {DEFAULT_EVENTS})")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--p5xx", type=float, default=0.1, help="probability of a 5xx per REST request (0.1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the service's warnings as they happen")
    args = parser.parse_args()

    failures = FailureLog()
    logging.getLogger("reviewbot").addHandler(failures)
    if not args.verbose:
        logging.getLogger("reviewbot").propagate = False
        logging.getLogger("github").setLevel(logging.ERROR)  # PyGithub's "Retrying after ..." lines

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, World(Path(tmp), build_python_proven) as world:
        fake, queue = world.fake, world.service.queue
        numbers = world.open_pull_requests(args.events)
        setup_s = time.monotonic() - started
        fake.reset_calls()
        marks = fake.contract_marks()

        rules = add_faults(world, args.seed, args.p5xx)
        stop = threading.Event()
        add_burst_when_busy(world, after_calls=max(10, 3 * args.events), stop=stop, rules=rules)

        answers: Counter = Counter()
        feeding = threading.Event()
        feeding.set()

        def feed() -> None:
            try:
                deliver_all(world, numbers, redeliver_every=10, answers=answers)
            finally:
                feeding.clear()

        run_started = time.monotonic()
        feeder = threading.Thread(target=feed, name="deliveries")
        feeder.start()
        passes = [work(world, args.workers, feeding)]
        feeder.join()
        for extra in range(1, queue.max_attempts + 1):
            if not queue.jobs(JobState.QUEUED, JobState.RUNNING):
                break
            # past every backoff (at most 10 min): the next attempts are due now
            queue.clock = lambda hours=extra: datetime.now(UTC) + timedelta(hours=hours)
            passes.append(work(world, args.workers))
        stop.set()
        run_s = time.monotonic() - run_started

        # -- what GitHub shows --------------------------------------------------------------------
        published, duplicates, error_notes = 0, 0, 0
        verdicts: Counter = Counter()
        per_pr: dict[int, str] = {}
        for number in numbers:
            head = fake.pull_request(world.repo, number).head_sha
            ours = [
                c
                for c in fake.comments(world.repo, number)
                if c.user.login == world.bot_login and ANY_REVIEW_COMMENT in c.body
            ]
            duplicates += max(0, len(ours) - 1)
            reviews = [c for c in ours if REVIEW_MARKER in c.body]
            markers = [parse_marker(c.body) for c in reviews]
            current = [m for m in markers if m is not None and m.head == head]
            if len(ours) == 1 and len(current) == 1:
                verdicts[current[0].verdict] += 1
                if current[0].verdict == "error":
                    error_notes += 1
                    per_pr[number] = "did not complete"
                else:
                    published += 1
                    per_pr[number] = "published"
            else:
                per_pr[number] = (
                    f"{len(ours)} bot comment(s), {len(reviews)} review(s), {len(current)} for the current head"
                )

        jobs = queue.jobs()
        jobs_by_pr: dict[int, list] = {}
        for job in jobs:
            jobs_by_pr.setdefault(job.pr_number, []).append(job)
        active = {job.pr_number for job in jobs if JobState(job.state) in (JobState.QUEUED, JobState.RUNNING)}
        # lost: nothing on the PR for its head (neither a review nor a "did not complete" note) and no job coming
        lost = [n for n in numbers if per_pr[n] not in ("published", "did not complete") and n not in active]
        dead = [job for job in jobs if JobState(job.state) == JobState.DEAD]
        states = Counter(job.state for job in jobs)
        attempts = Counter(job.attempts for job in jobs)

        rest = [c for c in fake.calls if not c.path.startswith("/git/")]
        git = [c for c in fake.calls if c.path.startswith("/git/")]
        faulted = Counter(c.fault for c in rest if c.fault)
        git_faulted = sum(1 for c in git if c.fault)
        violations = fake.contract.violations[marks[0] :]
        request_violations = fake.contract.request_violations[marks[1] :]
        rule_lines = [
            f"{r.kind}{'' if r.method == '*' else f' {r.method}'}{'' if r.retry_after is None else f' (Retry-After {r.retry_after})'} "
            f"on {r.path_glob}: fired {r.fired}/{r.seen}"
            for r in rules
        ]
        wall_s = time.monotonic() - started

        print(
            f"events: {len(numbers)} opened PRs, workers: {args.workers}, seed: {args.seed}, 5xx probability: {args.p5xx}"
        )
        print(f"deliveries: {dict(sorted(answers.items()))}")
        print(f"reviews expected: {len(numbers)}")
        print(f"reviews published: {published}")
        print(
            f"current-head comments by verdict: {dict(sorted(verdicts.items()))}"
            + (f" ({error_notes} are 'did not complete' notes)" if error_notes else "")
        )
        print(f"duplicate comments: {duplicates}")
        print(f"lost jobs: {len(lost)}")
        for number in lost:
            print(f"  PR #{number}: {per_pr[number]}")
            for job in jobs_by_pr.get(number, []):
                error = (job.last_error or "").strip().splitlines()
                print(
                    f"    job {job.id}: {job.state}, attempts {job.attempts}, last error: {error[0] if error else '-'}"
                )
        print(f"dead-lettered jobs: {len(dead)}")
        for job in dead:
            error = (job.last_error or "").strip().splitlines()
            print(f"  job {job.id} PR #{job.pr_number}: {error[0] if error else '-'}")
        print(
            f"jobs: {len(jobs)} by state {dict(sorted(states.items()))}, by attempts {dict(sorted(attempts.items()))}"
        )
        print(f"job runs per pass: {passes}; failed attempts logged: {failures.failed_attempts}")
        print(
            f"GitHub API calls (excluding /git/): {len(rest)} "
            f"({dict(sorted(Counter(c.status for c in rest).items()))} by status)"
        )
        print(f"git smart-HTTP requests: {len(git)} (faulted: {git_faulted})")
        print(f"faults injected: {sum(faulted.values())} {dict(sorted(faulted.items()))}")
        for line in rule_lines:
            print(f"  {line}")
        print(f"contract violations: {len(violations)} (request bodies: {len(request_violations)})")
        for violation in list(dict.fromkeys(str(v) for v in violations))[:5]:
            print(f"  {violation[:300]}")
        if failures.errors:
            print(f"service errors logged: {len(failures.errors)}")
            for line in list(dict.fromkeys(failures.errors))[:5]:
                print(f"  {line[:300]}")
        print(f"wall time: {wall_s:.1f} s (setup {setup_s:.1f} s, run {run_s:.1f} s)")

        checks = [
            ("every review published exactly once", published == len(numbers), f"{published}/{len(numbers)}"),
            ("zero duplicate comments", duplicates == 0, str(duplicates)),
            ("zero lost jobs", not lost, str(len(lost))),
        ]
        for name, ok, detail in checks:
            print(f"{'PASS' if ok else 'FAIL'}: {name} ({detail})")
        return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
