"""bench/real_prs.yaml stays a usable corpus: real commits, valid configs, negatives kept."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from reviewbot.model import Verdict
from reviewbot.repo_config import parse_config

BENCH = Path(__file__).resolve().parents[2] / "bench" / "real_prs.py"
_spec = importlib.util.spec_from_file_location("real_prs", BENCH)
real_prs = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules["real_prs"] = real_prs  # dataclasses look their module up
_spec.loader.exec_module(real_prs)  # type: ignore[union-attr]
CASES = real_prs.load_manifest()


def test_corpus_is_large_enough_and_mixed() -> None:
    assert len(CASES) >= 12
    assert {case.lang for case in CASES} == {"node", "python"}
    assert len({case.name for case in CASES}) == len(CASES)
    negatives = {case.expected for case in CASES if case.expected != Verdict.PROVEN}
    assert negatives >= {"weak", "fails", "error"}  # passes on base too; still fails on head; never loads


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_is_a_real_commit_with_a_valid_config(case) -> None:
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", case.url)
    assert re.fullmatch(r"[0-9a-f]{40}", case.head) and re.fullmatch(r"[0-9a-f]{40}(~1)?", case.base)
    for expected in (case.expected, case.expected_no_config):
        for verdict in (expected or "").split("|") if expected else ():
            Verdict(verdict)  # one verdict, or the few a race makes right ("flaky|proven")
    config = parse_config(case.config, source=f"bench/real_prs.yaml:{case.name}")
    assert config.suites and config.setup is not None and config.setup.network
    assert case.tests and case.by_hand and case.by_hand != "TODO"


def test_a_missing_repository_is_skipped_and_said_so(tmp_path: Path) -> None:
    case = CASES[0]
    args = type("Args", (), {"no_config": False, "clone": False, "by_hand_only": False})()
    row = real_prs.run_case(case, args, tmp_path)
    assert row.skipped.startswith("source not available") and case.repo_name in row.skipped
    table = real_prs.report([row])
    assert "skipped: source not available" in table and "accuracy 0/0 ran (1 skipped)" in table
