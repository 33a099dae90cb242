"""Adaptive repeats against a fixed number of repeats, on a real race that shows on ~20% of base runs.

The fixture (tests/race_repos.py) is a lock file taken by two competing
processes; base checks and then creates it, so the race shows on every fifth
run (scheduled by a counter, so every round of this bench sees the same
sequence). Both configurations review the same fixed head:

- adaptive: `proof: {max_runs: 50, threshold: 0.10}`: rounds until the evidence is settled;
- fixed: `max_runs: 50` with a threshold no run count reaches (1e-9): always 50 rounds.

Printed: per configuration the verdict, rounds, sandbox runs and wall time, and the ratios
fixed / adaptive, measured side by side in the same run (these machines are noisy).

    python bench/race_proof.py [--period 5] [--max-runs 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewbot.proof.engine import ProofEngine, ProofRequest  # noqa: E402
from reviewbot.stats import failure_rate_upper, percent  # noqa: E402
from tests.race_repos import build_race_repo  # noqa: E402


def review(root: Path, period: int, max_runs: int, threshold: float) -> tuple[str, int, int, float, str]:
    repo = root / "repo"
    build_race_repo(repo, period=period, wait_period=10**6, max_runs=max_runs, threshold=threshold, budget_s=3600)
    started = time.perf_counter()
    proof = ProofEngine(root / "data").prove(ProofRequest(source=str(repo), base="main", head="fix"))
    elapsed = time.perf_counter() - started
    (pair,) = proof.suites
    assert pair.head is not None and pair.base is not None
    head, base = pair.head.tally, pair.base.tally
    bound = percent(failure_rate_upper(head.failures, head.runs, 0.95))
    detail = f"base {base.failures}/{base.runs} failed, head {head.failures}/{head.runs} (≤ {bound})"
    return proof.verdict.value, head.runs, head.runs + base.runs, elapsed, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--period", type=int, default=5, help="base fails every N-th run (default 5: 20%%)")
    parser.add_argument("--max-runs", type=int, default=50)
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, threshold in (("adaptive", 0.10), ("fixed", 1e-9)):
            rows[name] = review(Path(scratch) / name, args.period, args.max_runs, threshold)
    print(f"{'':10} {'verdict':8} {'rounds':>6} {'runs':>5} {'wall s':>7}  evidence")
    for name, (verdict, rounds, runs, elapsed, detail) in rows.items():
        print(f"{name:10} {verdict:8} {rounds:6} {runs:5} {elapsed:7.1f}  {detail}")
    adaptive, fixed = rows["adaptive"], rows["fixed"]
    print(f"fixed / adaptive: {fixed[2] / adaptive[2]:.2f}x the runs, {fixed[3] / adaptive[3]:.2f}x the wall time")


if __name__ == "__main__":
    main()
