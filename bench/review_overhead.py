"""What the bot costs on top of the tests it runs, measured against a baseline in the same run.

1. Review overhead: the wall time of `reviewbot review` on the demo repository against
   running the same suite commands directly (no bot, no sandbox) on head and then on
   base+PR-tests, one after the other, each repeat included. Target: ratio <= 1.0 (base and
   head run in parallel, which pays for checkout and sandbox).
2. Sandbox start-up: the median time of `true` in the sandbox against `/bin/sh -c true`
   outside it. Target: under 10 ms more.

These machines are noisy, so each figure is a median of several rounds and is printed as a
ratio or a difference against the baseline measured right beside it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import git

from reviewbot.proof.sandbox import Limits, Sandbox, SandboxRequest
from reviewbot.repo_config import CONFIG_PATH, parse_config
from reviewbot.samples.session_lock import build_session_lock_demo

ROOT = Path(__file__).resolve().parents[1]


def reviewbot_review(sample, data_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewbot.cli",
            "--data-dir",
            str(data_dir),
            "review",
            "--repo",
            str(sample.path),
            "--base",
            sample.base,
            "--head",
            sample.head,
            "--format",
            "json",
            "--out",
            str(data_dir / "out.json"),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def direct_suites(sample, scratch: Path) -> float:
    """Same commands, no bot: head, then base with the PR's tests laid over (checkouts untimed)."""
    repo = git.Repo(sample.path)
    config = parse_config(repo.git.show(f"{sample.base}:{CONFIG_PATH}"))
    merge_base = repo.git.merge_base(sample.base, sample.head)
    head_tree, base_tree = scratch / "head", scratch / "base"
    repo.git.worktree("add", "--detach", str(head_tree), sample.head)
    repo.git.worktree("add", "--detach", str(base_tree), merge_base)
    for path in repo.git.diff("--name-only", merge_base, sample.head).splitlines():
        if path.startswith("test/"):
            (base_tree / path).parent.mkdir(parents=True, exist_ok=True)
            (base_tree / path).write_bytes((head_tree / path).read_bytes())
    started = time.perf_counter()
    for tree in (head_tree, base_tree):
        for suite in config.suites:
            for _ in range(suite.repeat):
                subprocess.run(
                    suite.run,
                    shell=True,
                    cwd=tree,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=suite.timeout,
                )
    elapsed = time.perf_counter() - started
    repo.git.worktree("remove", "--force", str(head_tree))
    repo.git.worktree("remove", "--force", str(base_tree))
    return elapsed


def sandbox_startup(scratch: Path, runs: int) -> tuple[float, float]:
    worktree = scratch / "wt"
    worktree.mkdir(parents=True)
    sandbox = Sandbox(scratch / "state")
    inside, outside = [], []
    for index in range(runs):
        started = time.perf_counter()
        sandbox.run(
            SandboxRequest(
                command="true", worktree=worktree, out_dir=scratch / f"o{index}", limits=Limits(wall_clock_s=30)
            )
        )
        inside.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run(["/bin/sh", "-c", "true"], check=True)
        outside.append(time.perf_counter() - started)
    return statistics.median(inside), statistics.median(outside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--startup-runs", type=int, default=50)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="reviewbot-bench-"))
    try:
        sample = build_session_lock_demo(scratch / "demo")
        data_dir = scratch / "data"
        data_dir.mkdir()
        reviewbot_review(sample, data_dir)  # warm the mirror, as on a busy repository
        bot, direct = [], []
        for round_ in range(args.rounds):
            bot.append(reviewbot_review(sample, data_dir))
            direct.append(direct_suites(sample, scratch / f"direct{round_}"))
        bot_s, direct_s = statistics.median(bot), statistics.median(direct)
        print(f"review overhead (demo, {args.rounds} rounds, medians)")
        print(f"  reviewbot review (head + base in parallel, sandboxed): {bot_s:7.2f} s")
        print(f"  same suites directly, head then base:                 {direct_s:7.2f} s")
        print(f"  ratio: {bot_s / direct_s:.2f}  (target <= 1.0)")
        inside, outside = sandbox_startup(scratch / "startup", args.startup_runs)
        print(f"sandbox start-up ({args.startup_runs} runs, medians)")
        print(f"  `true` in the sandbox: {inside * 1000:6.1f} ms")
        print(f"  `sh -c true` outside:  {outside * 1000:6.1f} ms")
        print(f"  extra per run: {(inside - outside) * 1000:.1f} ms  (target < 10 ms)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
