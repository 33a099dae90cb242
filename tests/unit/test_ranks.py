"""Ranks: tables of proofs, evidence and findings in, tiers, moves and eggs out."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from reviewbot.model import (
    Finding,
    Priority,
    Proof,
    SuitePair,
    Verdict,
)
from reviewbot.review.ranks import (
    INTEGRATION_MOVE,
    MAX_MOVES,
    RANK_RULES,
    RARITY_WEIGHTS,
    REPEAT_MOVE,
    Evidence,
    Rarity,
    Tier,
    overall_tier,
    patch_tier,
    pr_egg,
    proof_tier,
    rank_up_moves,
    rate,
    rules_markdown,
    weaker,
)
from tests.builders import E, F, P, T, pair

ORDER = [Tier.S, Tier.A, Tier.B, Tier.C, Tier.D, Tier.F]


def integ(name: str, base: tuple, head: tuple) -> SuitePair:
    return pair(name, base, head, kind="integration")


def proof(verdict: Verdict, *pairs: SuitePair) -> Proof:
    return Proof(verdict=verdict, reason="r", suites=list(pairs))


def finding(priority: Priority, line: int = 1, path: str = "src/lock.py", title: str = "t") -> Finding:
    return Finding(rule="r", priority=priority, path=path, line=line, title=title, why="w", suggestion="s")


LOCK = Evidence(media=0, claims_reproduced=None, touches_lock_code=True)
OFF = Evidence(media=0, claims_reproduced=None, touches_lock_code=False)
MEDIA = Evidence(media=2, claims_reproduced=True, touches_lock_code=True)
MEDIA_UNSAID = Evidence(media=1, claims_reproduced=None, touches_lock_code=True)
MEDIA_DISCLAIMED = Evidence(media=3, claims_reproduced=False, touches_lock_code=True)
CLAIM_ONLY = Evidence(media=0, claims_reproduced=True, touches_lock_code=True)

PROVEN_INTEG_REPEATED = proof(Verdict.PROVEN, integ("fs", (F, F, F), (P, P, P)))
PROVEN_INTEG_HANG = proof(Verdict.PROVEN, integ("fs", (T, T), (P, P)), pair("unit", (P, P), (P, P)))
PROVEN_REGRESSION_REPEATED = proof(Verdict.PROVEN, pair("unit", (F, F, F), (P, P, P)))
PROVEN_INTEG_ONCE = proof(Verdict.PROVEN, integ("fs", (F,), (P,)))
PROVEN_REGRESSION_ONCE = proof(Verdict.PROVEN, pair("unit", (F,), (P,)))
PROVEN_HEAD_REPEATED_BASE_ONCE = proof(Verdict.PROVEN, integ("fs", (F,), (P, P, P)))
PROVEN_INTEG_ONCE_REGRESSION_REPEATED = proof(Verdict.PROVEN, integ("fs", (F,), (P,)), pair("unit", (F, F), (P, P)))
PROVEN_INTEG_PASSES_BOTH = proof(Verdict.PROVEN, integ("fs", (P, P), (P, P)), pair("unit", (F, F), (P, P)))
PROVEN_WITHOUT_EVIDENCE = proof(Verdict.PROVEN)
WEAK = proof(Verdict.WEAK, pair("unit", (P, P), (P, P)))
FLAKY = proof(Verdict.FLAKY, pair("unit", (F, F, F), (P, F, P)))
FAILS = proof(Verdict.FAILS, pair("unit", (F,), (F,)))
TIMEOUT = proof(Verdict.TIMEOUT, integ("fs", (F,), (T,)))
NO_TESTS = proof(Verdict.NO_TESTS)
ERROR = proof(Verdict.ERROR, pair("unit", (E,), (P,)))


PROOF_CASES = [
    ("proven on integration, repeated", PROVEN_INTEG_REPEATED, LOCK, Tier.S),
    ("proven by a hang on integration, repeated", PROVEN_INTEG_HANG, LOCK, Tier.S),
    ("proven on regression only, repeated", PROVEN_REGRESSION_REPEATED, LOCK, Tier.A),
    ("proven on integration, once", PROVEN_INTEG_ONCE, LOCK, Tier.B),
    ("proven on regression, once", PROVEN_REGRESSION_ONCE, LOCK, Tier.B),
    ("proven, base ran once", PROVEN_HEAD_REPEATED_BASE_ONCE, LOCK, Tier.B),
    ("proven, integration once but regression repeated", PROVEN_INTEG_ONCE_REGRESSION_REPEATED, LOCK, Tier.A),
    ("proven, integration passes on both", PROVEN_INTEG_PASSES_BOTH, LOCK, Tier.A),
    ("proven with no proving pair", PROVEN_WITHOUT_EVIDENCE, LOCK, Tier.C),
    ("weak", WEAK, LOCK, Tier.D),
    ("flaky", FLAKY, LOCK, Tier.D),
    ("fails", FAILS, LOCK, Tier.F),
    ("timeout", TIMEOUT, LOCK, Tier.F),
    ("no tests on lock code", NO_TESTS, LOCK, Tier.F),
    ("no tests, no lock code", NO_TESTS, OFF, Tier.NA),
    ("error", ERROR, LOCK, Tier.NA),
    ("error, off-meta", ERROR, OFF, Tier.NA),
    # shiny evidence: one step, never past C, never instead of an observed run
    ("weak + media", WEAK, MEDIA, Tier.C),
    ("weak + media, reproduction unsaid", WEAK, MEDIA_UNSAID, Tier.C),
    ("weak + media, but could not reproduce", WEAK, MEDIA_DISCLAIMED, Tier.D),
    ("weak + a claim without media", WEAK, CLAIM_ONLY, Tier.D),
    ("flaky + media", FLAKY, MEDIA, Tier.C),
    ("no tests on lock code + media", NO_TESTS, MEDIA, Tier.D),
    (
        "no tests off-meta + media",
        NO_TESTS,
        Evidence(media=5, claims_reproduced=True, touches_lock_code=False),
        Tier.NA,
    ),
    ("fails + media", FAILS, MEDIA, Tier.F),
    ("timeout + media", TIMEOUT, MEDIA, Tier.F),
    ("error + media", ERROR, MEDIA, Tier.NA),
    ("proven once + media", PROVEN_REGRESSION_ONCE, MEDIA, Tier.B),
    ("proven regression + media", PROVEN_REGRESSION_REPEATED, MEDIA, Tier.A),
    ("proven integration + media", PROVEN_INTEG_REPEATED, MEDIA, Tier.S),
    ("proven without pair + media", PROVEN_WITHOUT_EVIDENCE, MEDIA, Tier.C),
]


@pytest.mark.parametrize(("case", "the_proof", "evidence", "expected"), PROOF_CASES, ids=[c[0] for c in PROOF_CASES])
def test_proof_tier_table(case: str, the_proof: Proof, evidence: Evidence, expected: Tier) -> None:
    got = proof_tier(the_proof, evidence)
    assert got.tier == expected, got.reason
    assert got.reason
    assert got.score == expected.score


@pytest.mark.parametrize("media", [1, 2, 10, 1000])
@pytest.mark.parametrize(
    ("the_proof", "touches"),
    [
        (WEAK, True),
        (FLAKY, True),
        (FAILS, True),
        (TIMEOUT, True),
        (NO_TESTS, True),
        (NO_TESTS, False),
        (ERROR, True),
        (PROVEN_WITHOUT_EVIDENCE, True),
    ],
)
@pytest.mark.parametrize("claims", [True, None, False])
def test_media_never_lifts_past_c_nor_more_than_one_step(
    the_proof: Proof, touches: bool, media: int, claims: bool | None
) -> None:
    plain = proof_tier(the_proof, Evidence(media=0, claims_reproduced=claims, touches_lock_code=touches))
    shiny = proof_tier(the_proof, Evidence(media=media, claims_reproduced=claims, touches_lock_code=touches))
    if plain.tier is Tier.NA:
        assert shiny.tier is Tier.NA
        return
    assert shiny.score is not None and plain.score is not None
    assert plain.score <= shiny.score <= plain.score + 1
    assert shiny.tier not in (Tier.S, Tier.A, Tier.B)
    assert shiny.media_lift == (shiny.tier != plain.tier)


@pytest.mark.parametrize("the_proof", [PROVEN_INTEG_REPEATED, PROVEN_REGRESSION_REPEATED, PROVEN_INTEG_ONCE])
def test_media_never_changes_a_proven_tier(the_proof: Proof) -> None:
    assert proof_tier(the_proof, MEDIA) == proof_tier(the_proof, LOCK)


PATCH_CASES = [
    ("nothing", [], Tier.S),
    ("one P3", [Priority.P3], Tier.A),
    ("many P3", [Priority.P3] * 7, Tier.A),
    ("one P2", [Priority.P2], Tier.B),
    ("two P2 and a P3", [Priority.P2, Priority.P2, Priority.P3], Tier.B),
    ("three P2", [Priority.P2] * 3, Tier.C),
    ("one P1", [Priority.P1], Tier.C),
    ("one P1 and P2s", [Priority.P1, Priority.P2, Priority.P2, Priority.P2], Tier.C),
    ("two P1", [Priority.P1, Priority.P1], Tier.D),
    ("one P0", [Priority.P0], Tier.F),
    ("P0 among the rest", [Priority.P3, Priority.P2, Priority.P1, Priority.P0], Tier.F),
]


@pytest.mark.parametrize(("case", "priorities", "expected"), PATCH_CASES, ids=[c[0] for c in PATCH_CASES])
def test_patch_tier_table(case: str, priorities: list[Priority], expected: Tier) -> None:
    findings = [finding(p, line=i + 1) for i, p in enumerate(priorities)]
    got = patch_tier(findings)
    assert got.tier == expected
    assert got.reason


@pytest.mark.parametrize("a", [*ORDER, Tier.NA])
@pytest.mark.parametrize("b", [*ORDER, Tier.NA])
def test_weaker_is_symmetric_and_picks_the_worse(a: Tier, b: Tier) -> None:
    assert weaker(a, b) == weaker(b, a)
    if Tier.NA in (a, b):
        assert weaker(a, b) is Tier.NA
    else:
        assert weaker(a, b) == ORDER[max(ORDER.index(a), ORDER.index(b))]


OVERALL_CASES = [
    ("S proof, S patch", PROVEN_INTEG_REPEATED, LOCK, [], Tier.S),
    ("S proof, P1 patch", PROVEN_INTEG_REPEATED, LOCK, [Priority.P1], Tier.C),
    ("S proof, P0 patch", PROVEN_INTEG_REPEATED, LOCK, [Priority.P0], Tier.F),
    ("B proof, P3 patch", PROVEN_REGRESSION_ONCE, LOCK, [Priority.P3], Tier.B),
    ("A proof, P2 patch", PROVEN_REGRESSION_REPEATED, LOCK, [Priority.P2], Tier.B),
    ("D proof, clean patch", WEAK, LOCK, [], Tier.D),
    ("N/A proof, P0 patch", ERROR, LOCK, [Priority.P0], Tier.NA),
    ("off-meta, clean patch", NO_TESTS, OFF, [], Tier.NA),
]


@pytest.mark.parametrize(
    ("case", "the_proof", "evidence", "priorities", "expected"), OVERALL_CASES, ids=[c[0] for c in OVERALL_CASES]
)
def test_overall_is_the_weaker(
    case: str, the_proof: Proof, evidence: Evidence, priorities: list[Priority], expected: Tier
) -> None:
    findings = [finding(p, line=i + 1) for i, p in enumerate(priorities)]
    rating = rate("o/r", 1, the_proof, evidence, findings)
    assert rating.overall.tier == expected
    assert rating.overall.tier == weaker(rating.proof.tier, rating.patch.tier)
    assert rating.score == expected.score
    assert overall_tier(rating.proof, rating.patch) == rating.overall


ALL_PROOFS = [(c[1], c[2]) for c in PROOF_CASES]
ALL_FINDINGS = [
    [],
    [finding(Priority.P3)],
    [finding(Priority.P2), finding(Priority.P1, 9), finding(Priority.P0, 4), finding(Priority.P0, 2)],
    [finding(Priority.P1, n) for n in range(6)],
]


@pytest.mark.parametrize(("the_proof", "evidence"), ALL_PROOFS)
@pytest.mark.parametrize("findings", ALL_FINDINGS)
def test_moves_are_bounded_and_empty_only_at_s_or_off_meta(
    the_proof: Proof, evidence: Evidence, findings: list[Finding]
) -> None:
    moves = rank_up_moves(the_proof, evidence, findings)
    rating = rate("o/r", 1, the_proof, evidence, findings)
    assert len(moves) <= MAX_MOVES
    assert moves == rating.moves
    assert len(set(moves)) == len(moves)
    if rating.overall.tier is Tier.S:
        assert moves == []
    elif rating.proof.tier is Tier.NA and the_proof.verdict != Verdict.ERROR:
        assert moves == []  # off-meta: nothing to rank up
    else:
        assert moves
    for move in moves:  # suggestions, not blockers
        lowered = move.lower()
        assert not any(word in lowered for word in ("must", "required", "blocked", "cannot merge"))


MOVE_CASES = [
    ("A regression: integration test", PROVEN_REGRESSION_REPEATED, LOCK, [], [INTEGRATION_MOVE]),
    ("B integration once: repeat", PROVEN_INTEG_ONCE, LOCK, [], [REPEAT_MOVE]),
    ("B regression once: repeat, then integration", PROVEN_REGRESSION_ONCE, LOCK, [], [REPEAT_MOVE, INTEGRATION_MOVE]),
    ("A with integration once: repeat", PROVEN_INTEG_ONCE_REGRESSION_REPEATED, LOCK, [], [REPEAT_MOVE]),
    (
        "S proof, findings: most severe first",
        PROVEN_INTEG_REPEATED,
        LOCK,
        [
            finding(Priority.P3, 1, "a.py", "nit"),
            finding(Priority.P1, 7, "b.py", "leak"),
            finding(Priority.P0, 3, "c.py", "no release"),
        ],
        ["Fix [P0] `c.py:3`: no release", "Fix [P1] `b.py:7`: leak", "Fix [P3] `a.py:1`: nit"],
    ),
    (
        "A proof, P2 patch: the patch is the bottleneck",
        PROVEN_REGRESSION_REPEATED,
        LOCK,
        [finding(Priority.P2, 5, "x.py", "wide lock")],
        ["Fix [P2] `x.py:5`: wide lock", INTEGRATION_MOVE],
    ),
]


@pytest.mark.parametrize(
    ("case", "the_proof", "evidence", "findings", "expected"), MOVE_CASES, ids=[c[0] for c in MOVE_CASES]
)
def test_moves_table(
    case: str, the_proof: Proof, evidence: Evidence, findings: list[Finding], expected: list[str]
) -> None:
    assert rank_up_moves(the_proof, evidence, findings) == expected


def test_moves_at_s_are_empty() -> None:
    assert rank_up_moves(PROVEN_INTEG_REPEATED, LOCK, []) == []
    assert rank_up_moves(PROVEN_INTEG_REPEATED, MEDIA, []) == []


def test_moves_put_the_bottleneck_first() -> None:
    # proof F (no tests) and patch C (one P1): the test raises the overall more than the fix would
    moves = rank_up_moves(NO_TESTS, LOCK, [finding(Priority.P1, 2, "l.py", "t")])
    assert "integration test" in moves[0]
    assert "Fix [P1] `l.py:2`: t" in moves


def test_a_test_outranks_attaching_media() -> None:
    weak_moves = rank_up_moves(WEAK, LOCK, [])
    assert weak_moves[0].startswith("Make a test fail on base")
    assert not any("Attach" in m for m in rank_up_moves(WEAK, MEDIA, []))
    assert not any("Attach" in m for m in rank_up_moves(WEAK, MEDIA_DISCLAIMED, []))


def test_error_suggests_a_rerun() -> None:
    assert "re-review" in rank_up_moves(ERROR, LOCK, [])[0]


# --------------------------------------------------------------------------- eggs


def test_egg_is_deterministic() -> None:
    for number in range(50):
        first = pr_egg("octo/locks", number, Verdict.WEAK)
        assert pr_egg("octo/locks", number, Verdict.WEAK) == first
        assert pr_egg("octo/locks", number, Verdict.PROVEN).rarity == first.rarity


def test_egg_depends_on_repo_and_number() -> None:
    rolls = {pr_egg(repo, n, Verdict.WEAK).roll for repo in ("a/b", "a/c") for n in range(20)}
    assert len(rolls) > 30


@pytest.mark.parametrize("verdict", list(Verdict))
def test_egg_hatches_only_on_proven(verdict: Verdict) -> None:
    egg = pr_egg("octo/locks", 42, verdict)
    assert egg.hatched == (verdict == Verdict.PROVEN)
    if egg.hatched:
        assert egg.emoji == "🐣"
        assert egg.description == f"🐣 hatched: {egg.rarity.value}"
    else:
        assert egg.emoji == "🥚"
        assert egg.description == f"🥚 {egg.rarity.value} egg — hatches when the proof is proven"


def test_egg_distribution_follows_the_weights() -> None:
    n = 10_000
    counts = Counter(pr_egg("octo/locks", number, Verdict.WEAK).rarity for number in range(1, n + 1))
    assert sum(RARITY_WEIGHTS.values()) == 100
    for rarity in Rarity:
        expected = RARITY_WEIGHTS[rarity] / 100
        got = counts[rarity] / n
        assert abs(got - expected) <= max(0.01, expected * 0.15), (rarity, got, expected)


# --------------------------------------------------------------------------- the rating and the table


def test_rating_is_json_ready() -> None:
    rating = rate("octo/locks", 7, PROVEN_REGRESSION_ONCE, LOCK, [finding(Priority.P2)])
    data = json.loads(json.dumps(rating.to_dict()))
    assert data["proof"]["tier"] == "B"
    assert data["proof"]["emoji"] == "🐚"
    assert data["proof"]["name"] == "platinum hermit"
    assert data["patch"]["tier"] == "B"
    assert data["overall"]["score"] == 4
    assert data["score"] == 4
    # neither move alone lifts the overall past B; fixing the P2 gains more on its axis
    assert data["moves"] == ["Fix [P2] `src/lock.py:1`: t", REPEAT_MOVE, INTEGRATION_MOVE]
    assert data["egg"]["hatched"] is True
    assert data["egg"]["rarity"] in {r.value for r in Rarity}
    assert data == rating.model_dump(mode="json")


def test_rating_is_pure() -> None:
    args = ("octo/locks", 7, FLAKY, MEDIA, [finding(Priority.P1)])
    assert rate(*args) == rate(*args)


def test_tiers_have_scores_emoji_and_names() -> None:
    assert [t.score for t in ORDER] == [6, 5, 4, 3, 2, 1]
    assert Tier.NA.score is None
    assert Tier.S.label == "S 🦀 challenger crab"
    assert Tier.F.label == "F 🧂 unranked krab"
    assert Tier.NA.label == "N/A 🌊 off-meta tidepool"
    assert len({t.emoji for t in Tier}) == len(Tier)


def test_rules_markdown_prints_every_rule() -> None:
    text = rules_markdown()
    lines = text.strip().splitlines()
    assert lines[0] == "| Axis | Condition | Tier |"
    assert len(lines) == len(RANK_RULES) + 2
    for tier in Tier:
        assert tier.label in text
    assert rules_markdown() == text
