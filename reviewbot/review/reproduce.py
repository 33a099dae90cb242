"""Can we reproduce it? "yes / no / partly", and how: which suite failed on base.

Pure: a Proof and the claim checks in, one answer out. "Reproduce" means the bug:
a suite of the PR's tests fails (or hangs) on base and the same suite passes on
head. Partly covers the honest middle: some suites catch the bug and some do
not, repeats disagree, or the PR description's numbers do not match.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from reviewbot.model import Proof, RunStatus, SuitePair, Verdict
from reviewbot.review.claims import ClaimCheck, ClaimMatch
from reviewbot.review.markdown import code_span
from reviewbot.stats import DEFAULT_CONFIDENCE

Answer = Literal["yes", "no", "partly", "not known"]
BAD = (RunStatus.FAILED, RunStatus.TIMEOUT)
MAX_SUITES_NAMED = 5
_HEAD_PHRASES = {
    RunStatus.PASSED: "passes on head",
    RunStatus.FAILED: "fails on head too",
    RunStatus.TIMEOUT: "hangs on head",
    RunStatus.ERROR: "could not run on head",
}


class Reproducibility(BaseModel):
    answer: Answer
    how: str  # one markdown sentence; suite names as code spans


def reproducibility(proof: Proof, claims: list[ClaimCheck]) -> Reproducibility:
    pairs = proof.suites
    caught = [p for p in pairs if p.base is not None and p.base.status in BAD]
    if proof.verdict == Verdict.ERROR:
        return Reproducibility(answer="not known", how="The proof did not complete, so nothing was run to compare.")
    if proof.verdict == Verdict.NO_TESTS:
        return Reproducibility(answer="no", how="There is no test to run on base, so the bug was not reproduced.")
    if not caught:
        return Reproducibility(
            answer="no",
            how="Every suite passes on base (with the PR's tests laid over it): the tests do not show the bug.",
        )
    how = "; ".join(_caught(p) for p in caught[:MAX_SUITES_NAMED])
    how += f"; and {len(caught) - MAX_SUITES_NAMED} more suites." if len(caught) > MAX_SUITES_NAMED else "."
    doubts = []
    unfixed = [p for p in pairs if p.head is None or (p.head.status != RunStatus.PASSED and not p.head.flaky)]
    if unfixed:
        named = all(p in caught[:MAX_SUITES_NAMED] for p in unfixed)  # then the sentence already says how head ended
        doubts.append("the fix is not shown to work yet" if named else "head does not pass every suite yet")
    if any(
        side is not None
        and side.flaky
        and not (side is p.base and p.race_on_base(proof.confidence or DEFAULT_CONFIDENCE))
        for p in pairs
        for side in (p.base, p.head)
    ):
        doubts.append("repeats disagree, so the result may not hold")
    missed = [p.name for p in pairs if p not in caught]
    if missed:
        more = f" and {len(missed) - MAX_SUITES_NAMED} more" if len(missed) > MAX_SUITES_NAMED else ""
        doubts.append(
            ", ".join(code_span(name) for name in missed[:MAX_SUITES_NAMED])
            + more
            + (" passes" if len(missed) == 1 else " pass")
            + " on base too"
        )
    if any(c.match in (ClaimMatch.CONTRADICTED, ClaimMatch.COUNTS_DIFFER) for c in claims):
        doubts.append("the PR description's claimed results differ from what the bot saw")
    if doubts:
        return Reproducibility(answer="partly", how=how + " But " + "; ".join(doubts) + ".")
    return Reproducibility(answer="yes", how=how)


def _caught(pair: SuitePair) -> str:
    base = pair.base
    assert base is not None
    hung = base.status == RunStatus.TIMEOUT
    what = "hangs" if hung else "fails"
    failing = sorted({name for run in base.runs for name in run.counts.failing})
    detail = (
        f" ({', '.join(code_span(name) for name in failing[:3])}{' …' if len(failing) > 3 else ''})" if failing else ""
    )
    bad = sum(1 for status in base.statuses if status in BAD)
    repeats = f" in {bad} of {len(base.runs)} runs" if len(base.runs) > 1 else ""
    if pair.head is None or not pair.head.runs:
        head = "did not run on head"
    elif pair.head.flaky:
        failed = sum(1 for status in pair.head.statuses if status in BAD)
        head = f"fails on head in {failed} of {len(pair.head.runs)} runs"
    else:
        head = _HEAD_PHRASES[pair.head.status]
    return f"{code_span(pair.name)} {what} on base{repeats}{detail} and {head}"
