"""Crash recovery: SIGKILL real worker processes at checkout, in the sandbox and while publishing.

Each run opens a PR, delivers `opened` to the service, and kills the worker process that
took the job at a phase seen from outside (tests/e2e/crash.py): a `git fetch`/`checkout-index`
child or an exported tree (checkout), a `bwrap` child plus a random delay (sandbox), or the
fake GitHub logging the placeholder POST, the review PATCH, the check-run POST or the labels
POST before its answer leaves (publish). A new worker process then starts, as a supervisor
would restart it; the job's lease (2 s here) runs out and the new worker finishes it.

Then: two workers racing on one PR (an `opened` review and a re-review of the same head),
and the webhook service itself SIGKILLed in the middle of a burst of deliveries and
restarted, with the unanswered deliveries sent again as GitHub's "redeliver" would.

Required, or exit code 1: every job completes; each PR has exactly one review comment naming
its head; no lost job or accepted delivery; after each run no sandbox process, run folder,
worktree, git lock file or run cgroup is left.

    .venv/bin/python bench/crash.py              # 21 kills (7 per phase), 2 races, 1 service restart
    .venv/bin/python bench/crash.py --runs 30 --seed 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.crash import PHASES, CrashLab  # noqa: E402
from tests.e2e.world import World  # noqa: E402
from tests.repos import build_python_proven  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21, help="kills, cycling through the phases (default 21)")
    parser.add_argument("--races", type=int, default=2, help="two-worker races on one PR (default 2)")
    parser.add_argument("--deliveries", type=int, default=6, help="deliveries in the service-restart burst")
    parser.add_argument("--lease", type=float, default=2.0, help="job lease in seconds (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.monotonic()
    problems: list[str] = []
    points: Counter = Counter()
    leftover_totals: Counter = Counter()
    raced = 0
    with tempfile.TemporaryDirectory() as tmp, World(Path(tmp), build_python_proven) as world:
        lab = CrashLab(world, lease_s=args.lease, seed=args.seed)
        try:
            lab.start_worker()
            if args.runs == 0:
                lab.numbers.remove(world.number)  # the World's own PR is only used by the kill runs
            for index in range(args.runs):
                phase = PHASES[index % len(PHASES)]
                number = world.number if index == 0 else lab.open_pull_request()
                lab.deliver_opened(number)
                [worker] = lab.live_workers()
                kill = lab.kill_at(phase, worker, number)
                if kill is None:
                    problems.append(f"run {index + 1}: never saw {phase} on PR #{number}")
                    lab.wait_until_idle()
                    continue
                points[f"{phase}: {kill.point.split(' (')[0]}"] += 1
                lab.start_worker()
                done = lab.wait_until_idle()
                count, ok = lab.review_state(number)
                left = lab.leftovers()
                for kind, items in left.items():
                    leftover_totals[kind] += len(items)
                line = (
                    f"run {index + 1:2d}: PR #{number:<3d} killed at {phase:8s} ({kill.point}); "
                    f"{'completed' if done else 'NOT COMPLETED'}, {count} comment(s)"
                    + ("" if ok else ", NO CURRENT REVIEW")
                    + (f", sandbox survivors {kill.survivors}" if kill.survivors else "")
                    + "".join(f", leftover {k}: {v}" for k, v in left.items() if v)
                )
                print(line, flush=True)
                if not done or not ok or count != 1 or kill.survivors or any(left.values()):
                    problems.append(line)
            for race in range(args.races):
                number = lab.open_pull_request()
                extra = lab.start_worker()
                time.sleep(3)  # let it start and go idle, so both workers are ready when the race begins
                placeholders = lab.race(number)
                raced += placeholders >= 2
                done = lab.wait_until_idle()
                count, ok = lab.review_state(number)
                print(
                    f"race {race + 1}: PR #{number}, two workers, {placeholders} placeholder(s) posted: "
                    f"{count} comment(s)",
                    flush=True,
                )
                if not done or not ok or count != 1:
                    problems.append(f"race {race + 1}: PR #{number}: {count} comment(s), completed: {done}")
                extra.terminate()
                extra.wait()
            restart = lab.service_restart(args.deliveries)
            done = lab.wait_until_idle(timeout=60 + 20 * args.deliveries)
            print(f"service restart: {restart}", flush=True)
            if restart["lost accepted deliveries"] or restart["not accepted"] or not done:
                problems.append(f"service restart: {restart}, completed: {done}")
            summary = lab.summary()
            final_left = lab.leftovers()
        finally:
            lab.stop()
        jobs_done = summary["jobs"] - len(summary["unfinished"])
        print()
        print(f"runs: {len(lab.kills)} kills of {args.runs} planned, lease {args.lease} s, seed {args.seed}")
        print(f"kills by phase: {dict(sorted(summary['kills'].items()))}")
        print(f"kill points: {dict(sorted(points.items()))}")
        print(f"races (two workers, one PR): {args.races}, of which both posted a placeholder: {raced}")
        if args.races and not raced:
            problems.append("no race happened: the two workers never both posted a placeholder")
        print(
            f"jobs: {summary['jobs']}, completed: {jobs_done} (done, or superseded by a newer request), "
            f"by state {summary['states']}"
        )
        print(
            f"PRs: {len(lab.numbers)}, duplicate comments: {summary['duplicates']}, lost jobs: {len(summary['lost'])}"
        )
        print(
            f"lost accepted deliveries over a service SIGKILL: {restart['lost accepted deliveries']} "
            f"(of {restart['accepted']}; {restart['redelivered']} redelivered)"
        )
        print(f"sandbox processes surviving their worker: {sum(len(k.survivors) for k in lab.kills)}")
        print(
            f"leftovers after the runs (summed): {dict(leftover_totals)}; at the end: "
            f"{ {k: len(v) for k, v in final_left.items()} }"
        )
        print(f"wall time: {time.monotonic() - started:.0f} s")
        if summary["duplicates"] or summary["lost"] or summary["unfinished"] or any(final_left.values()):
            problems.append(f"final: {summary}, leftovers {final_left}")
        for problem in problems:
            print(f"FAIL: {problem}")
        print("PASS" if not problems else f"FAIL ({len(problems)} problem(s))")
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
