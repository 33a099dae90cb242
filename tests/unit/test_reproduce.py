"""Can we reproduce it? A proof and claim checks in, "yes / no / partly / not known" and how, out."""

from __future__ import annotations

import pytest

from reviewbot.model import Proof, RunStatus
from reviewbot.review.claims import ClaimCheck, ClaimMatch
from reviewbot.review.reproduce import reproducibility
from tests.builders import PROVEN, E, F, P, T, pair, proof_of


def check(match: ClaimMatch) -> ClaimCheck:
    return ClaimCheck(command="npm test", claimed="4/4 pass", observed_status=RunStatus.PASSED, match=match)


NOT_SHOWN = "Every suite passes on base (with the PR's tests laid over it): the tests do not show the bug."
CAUGHT_BOTH = (
    "`lock regression` fails on base in 2 of 2 runs (`releases after a crash`) and passes on head; "
    "`lock real-fs` fails on base in 2 of 2 runs and passes on head."
)
CLAIMS_DIFFER = "the PR description's claimed results differ from what the bot saw"
NOT_EVERY_HEAD = "head does not pass every suite yet"
REPEATS = "repeats disagree, so the result may not hold"


@pytest.mark.parametrize(
    ("proof", "claims", "answer", "contains", "absent"),
    [
        # yes
        pytest.param(proof_of(*PROVEN), [], "yes", [CAUGHT_BOTH], ["But"], id="yes-all-suites-caught"),
        pytest.param(
            proof_of(*PROVEN),
            [check(ClaimMatch.REPRODUCED), check(ClaimMatch.NOT_RUN)],
            "yes",
            [CAUGHT_BOTH],
            [CLAIMS_DIFFER],
            id="yes-reproduced-and-unrun-claims-are-no-doubt",
        ),
        pytest.param(
            proof_of(pair("lock", (F,), (P,))),
            [],
            "yes",
            ["`lock` fails on base and passes on head."],
            ["runs"],
            id="yes-single-run-has-no-run-count",
        ),
        pytest.param(
            proof_of(pair("lock", (T, T), (P, P))),
            [],
            "yes",
            ["`lock` hangs on base in 2 of 2 runs and passes on head."],
            [],
            id="yes-base-hangs",
        ),
        pytest.param(
            proof_of(pair("lock", (F, F), (P, P), failing=("a", "b", "c", "d"))),
            [],
            "yes",
            ["`lock` fails on base in 2 of 2 runs (`a`, `b`, `c` …) and passes on head."],
            ["`d`"],
            id="yes-names-at-most-three-failing-tests",
        ),
        # partly
        pytest.param(
            proof_of(pair("catches", (F, F), (P, P)), pair("misses", (P, P), (P, P))),
            [],
            "partly",
            ["`catches` fails on base in 2 of 2 runs and passes on head.", "But `misses` passes on base too."],
            ["`misses` fails"],
            id="partly-one-suite-passes-on-base-too",
        ),
        pytest.param(
            proof_of(pair("catches", (F,), (P,)), pair("m1", (P,), (P,)), pair("m2", (P,), (P,))),
            [],
            "partly",
            ["But `m1`, `m2` pass on base too."],
            [],
            id="partly-two-suites-pass-on-base-too",
        ),
        pytest.param(
            proof_of(pair("catches", (F,), (P,)), pair("broken", (P,), (F,))),
            [],
            "partly",
            ["`catches` fails on base and passes on head.", NOT_EVERY_HEAD, "`broken` passes on base too"],
            [],
            id="partly-another-suite-fails-on-head",
        ),
        pytest.param(
            proof_of(pair("lock", (F, P, F), (P, P, P))),
            [],
            "partly",
            ["`lock` fails on base in 2 of 3 runs and passes on head.", REPEATS],
            [],
            id="partly-flaky-base",
        ),
        pytest.param(
            proof_of(pair("lock", (F, F), (P, F, P))),
            [],
            "partly",
            ["`lock` fails on base in 2 of 2 runs and fails on head in 1 of 3 runs.", REPEATS],
            [NOT_EVERY_HEAD],
            id="partly-flaky-head",
        ),
        pytest.param(
            proof_of(*PROVEN),
            [check(ClaimMatch.COUNTS_DIFFER)],
            "partly",
            [CAUGHT_BOTH[:-1], CLAIMS_DIFFER],
            [],
            id="partly-counts-differ-claim",
        ),
        pytest.param(
            proof_of(*PROVEN),
            [check(ClaimMatch.CONTRADICTED)],
            "partly",
            [CLAIMS_DIFFER],
            [],
            id="partly-contradicted-claim",
        ),
        pytest.param(
            proof_of(pair("lock", (F,), (F,))),
            [],
            "partly",
            ["`lock` fails on base and fails on head too."],
            [],
            id="partly-head-fails",
        ),
        pytest.param(
            proof_of(pair("lock", (F,), (T,))),
            [],
            "partly",
            ["`lock` fails on base and hangs on head."],
            [],
            id="partly-head-hangs",
        ),
        # no
        pytest.param(proof_of(pair("lock", (P, P), (P, P))), [], "no", [NOT_SHOWN], [], id="no-weak"),
        pytest.param(
            proof_of(pair("lock", (P, P), (P, P))),
            [check(ClaimMatch.CONTRADICTED)],
            "no",
            [NOT_SHOWN],
            [],
            id="no-weak-claims-do-not-matter",
        ),
        pytest.param(
            proof_of(tests=()),
            [],
            "no",
            ["There is no test to run on base, so the bug was not reproduced."],
            [],
            id="no-no-tests",
        ),
        # not known
        pytest.param(
            proof_of(pair("lock", (F,), (E,))),
            [],
            "not known",
            ["The proof did not complete, so nothing was run to compare."],
            [],
            id="not-known-error",
        ),
        pytest.param(
            proof_of(pair("lock", (E,), (P,)), pair("other", (F,), (P,))),
            [],
            "not known",
            ["The proof did not complete"],
            ["`other`"],
            id="not-known-error-even-with-a-caught-suite",
        ),
    ],
)
def test_reproducibility(
    proof: Proof, claims: list[ClaimCheck], answer: str, contains: list[str], absent: list[str]
) -> None:
    result = reproducibility(proof, claims)
    assert result.answer == answer
    for text in contains:
        assert text in result.how
    for text in absent:
        assert text not in result.how
    assert result.how.endswith(".")


@pytest.mark.parametrize(
    ("caught", "named", "more"),
    [
        pytest.param(5, 5, "", id="five-all-named"),
        pytest.param(7, 5, "; and 2 more suites.", id="seven-five-named-two-more"),
    ],
)
def test_reproducibility_names_at_most_five_suites(caught: int, named: int, more: str) -> None:
    proof = proof_of(*(pair(f"s{i}", (F,), (P,)) for i in range(caught)))
    result = reproducibility(proof, [])
    assert result.answer == "yes"
    assert [f"`s{i}`" in result.how for i in range(caught)] == [i < named for i in range(caught)]
    assert result.how.endswith(more or "and passes on head.")


def test_a_race_seen_on_some_base_runs_and_never_on_head_is_reproduced_without_doubt() -> None:
    """Base failing 4 of 12 runs against head 0 of 12 is significant at 95%: the verdict, rank and answer agree."""
    from reviewbot.model import Verdict
    from reviewbot.review.verdict import decide

    race = pair("lock", (F, P, P) * 4, (P,) * 12)
    assert race.race_on_base() and decide([race]).verdict == Verdict.PROVEN
    answer = reproducibility(proof_of(race), [])
    assert answer.answer == "yes" and "disagree" not in answer.how
    noise = pair("lock", (F, P, P), (P, P, P))  # 1 of 3 against 0 of 3 tells nothing
    assert not noise.race_on_base() and "disagree" in reproducibility(proof_of(noise), []).how
