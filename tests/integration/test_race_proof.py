"""Adaptive repeats on a real race: counts, exact bounds, and when the bot stops repeating."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.model import Verdict
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.stats import failure_rate_upper
from tests.race_repos import build_contention_repo, build_node_race_repo, build_race_repo

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module", params=["python", "node"])
def race_repo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Base fails every 3rd run; `partial` still fails every 12th; at most 12 rounds, threshold 25%.

    The same race in Python (pytest, multiprocessing) and in Node (`node --test`, child processes)."""
    root = tmp_path_factory.mktemp(f"race-{request.param}") / "repo"
    build = build_race_repo if request.param == "python" else build_node_race_repo
    build(root, period=3, wait_period=12, max_runs=12, threshold=0.25)
    return root


def test_a_race_that_shows_on_a_third_of_base_runs_is_proven_once_the_numbers_say_so(
    race_repo: Path, tmp_path: Path
) -> None:
    proof = ProofEngine(tmp_path / "data").prove(ProofRequest(source=str(race_repo), base="main", head="fix"))
    assert proof.verdict == Verdict.PROVEN, proof.reason
    (pair,) = proof.suites
    assert pair.base is not None and pair.head is not None
    head, base = pair.head.tally, pair.base.tally
    assert head.failures == 0 and base.failures == base.runs // 3  # the race showed exactly where scheduled
    assert 2 < head.runs <= 12
    assert "base fails and head is clean within the threshold" in pair.stopped_because
    bound = failure_rate_upper(0, head.runs, 0.95)
    assert bound is not None and bound <= 0.25
    summary = proof.to_json_dict()["suites"][0]["head"]
    assert summary["runs"] == head.runs and summary["failures"] == 0
    assert summary["failure_rate_upper_95"] == pytest.approx(bound, abs=1e-4)
    assert proof.to_json_dict()["confidence"] == 0.95


def test_a_partial_fix_is_not_proven(race_repo: Path, tmp_path: Path) -> None:
    proof = ProofEngine(tmp_path / "data").prove(ProofRequest(source=str(race_repo), base="main", head="partial"))
    assert proof.verdict == Verdict.FLAKY, proof.reason
    (pair,) = proof.suites
    assert pair.head is not None and pair.head.tally.failures == 1 and pair.head.tally.runs == 12
    assert "max_runs" in pair.stopped_because


@pytest.mark.parametrize(("copies", "verdict"), [(1, Verdict.WEAK), (2, Verdict.PROVEN)], ids=["idle", "amplified"])
def test_a_race_that_needs_contention_shows_only_under_amplification(
    tmp_path: Path, copies: int, verdict: Verdict
) -> None:
    build_contention_repo(tmp_path / "repo", copies=copies)
    proof = ProofEngine(tmp_path / "data").prove(ProofRequest(source=str(tmp_path / "repo"), base="main", head="fix"))
    (pair,) = proof.suites
    assert pair.base is not None and pair.head is not None
    assert proof.verdict == verdict, (proof.reason, pair.base.runs[-1].outcome.log_tail)
    base = proof.to_json_dict()["suites"][0]["base"]
    if copies > 1:  # runs alternate idle and contended: the race shows on the contended ones only
        assert base["amplification"] == "2 copies in parallel, 1 CPU stressor"
        assert base["idle"]["failures"] == 0 and base["idle"]["runs"] >= 1
        assert base["amplified"]["failures"] == base["amplified"]["runs"] >= 1
        contended = [run for run in pair.base.runs if run.amplified]
        assert "another process held the lock" in contended[-1].outcome.log_tail
        assert any("hides a race that needs contention" in note for note in proof.notes), proof.notes
    else:
        assert base["amplification"] is None and base["idle"] is None
