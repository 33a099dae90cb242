"""Ranks: a proof and a patch in, a tier out. Pure and deterministic.

No I/O, no clock, no randomness: the same proof, evidence and findings always
give the same rating, so a rank can be explained by the table in docs/ranks-and-lock-scan.md
(`rules_markdown()` prints it from `RANK_RULES`).

Two axes, then the weaker of the two:

* **proof** - what the bot itself observed when it ran the suites on
  base+PR-tests and on head (`proof_tier`). Contributor media (screenshots,
  videos, logs) is "shiny evidence": it can lift a weak/flaky D, or an F that
  only comes from "no tests", by one step, never above C and never instead of
  an observed run.
* **patch** - the findings about the diff (`patch_tier`).
* **overall** - the weaker of proof and patch; N/A when the proof is N/A.

Decisions this module makes (documented in `RANK_RULES`):

* S needs `proven` with a fail-before/pass-after observed on an
  `integration` (real filesystem) suite that ran at least twice on each side.
* A race needs repetition: a `proven` whose proving suites ran only once
  (on base or on head) is capped at B, even on an integration suite.
* A `proven` verdict with no fail-before/pass-after pair in the proof is
  inconsistent evidence: C.

The strings in `moves` are markdown: finding paths (which come from the pull
request) are code spans, so a renderer can show them as they are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from reviewbot.model import Finding, Priority, Proof, RunStatus, SuitePair, Verdict
from reviewbot.review.markdown import code_span
from reviewbot.stats import failure_rate_upper, percent

MAX_MOVES = 3
MIN_RACE_REPEATS = 2  # a proving suite must run at least this often on each side to count as repeated


# --------------------------------------------------------------------------- tiers


class Tier(StrEnum):
    """Best to worst. N/A is not a rank: the PR is off-meta (or the proof broke)."""

    S = "S"
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    F = "F"
    NA = "N/A"

    @property
    def score(self) -> int | None:
        """Six-point score: S=6 ... F=1; None for N/A."""
        return _SCORES[self]

    @property
    def emoji(self) -> str:
        return _EMOJI[self]

    @property
    def nickname(self) -> str:
        return _TITLES[self]

    @property
    def label(self) -> str:
        """`S 🦀 challenger crab`."""
        return f"{self.value} {self.emoji} {self.nickname}"

    @classmethod
    def from_score(cls, score: int) -> Tier:
        return _BY_SCORE[max(1, min(6, score))]


_SCORES: dict[Tier, int | None] = {Tier.S: 6, Tier.A: 5, Tier.B: 4, Tier.C: 3, Tier.D: 2, Tier.F: 1, Tier.NA: None}
_EMOJI = {Tier.S: "🦀", Tier.A: "🦞", Tier.B: "🐚", Tier.C: "🦐", Tier.D: "🦪", Tier.F: "🧂", Tier.NA: "🌊"}
_TITLES = {
    Tier.S: "challenger crab",
    Tier.A: "diamond lobster",
    Tier.B: "platinum hermit",
    Tier.C: "gold shrimp",
    Tier.D: "silver shellfish",
    Tier.F: "unranked krab",
    Tier.NA: "off-meta tidepool",
}
_BY_SCORE = {score: tier for tier, score in _SCORES.items() if score is not None}

MEDIA_CAP = Tier.C  # contributor media never lifts a proof tier above this


def weaker(a: Tier, b: Tier) -> Tier:
    """The worse of two tiers; N/A wins (it is not rankable)."""
    if a is Tier.NA or b is Tier.NA:
        return Tier.NA
    return a if _score(a) <= _score(b) else b


# --------------------------------------------------------------------------- inputs and results


@dataclass(frozen=True)
class Evidence:
    """What the contributor brought besides tests, and whether the PR is about locks at all."""

    media: int = 0  # screenshots / videos / logs attached to the PR
    claims_reproduced: bool | None = None  # contributor says they reproduced the bug (None: did not say)
    touches_lock_code: bool = True


class TierResult(BaseModel):
    """One axis (or the overall) rank, with the sentence that explains it."""

    model_config = ConfigDict(frozen=True)

    tier: Tier
    reason: str
    media_lift: bool = False  # the tier was raised one step by contributor media

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score(self) -> int | None:
        return self.tier.score

    @computed_field  # type: ignore[prop-decorator]
    @property
    def emoji(self) -> str:
        return self.tier.emoji

    @computed_field  # type: ignore[prop-decorator]
    @property
    def name(self) -> str:
        return self.tier.nickname

    @property
    def label(self) -> str:
        return self.tier.label


# --------------------------------------------------------------------------- the proof axis


def _proving(pair: SuitePair) -> bool:
    """Observed fail (or hang) before, pass after, with every repeat agreeing."""
    base, head = pair.base, pair.head
    if base is None or head is None or not base.runs or not head.runs:
        return False
    if head.flaky or head.status != RunStatus.PASSED:
        return False
    if base.flaky:  # a race shows on some runs only: proof when base fails significantly more often
        return pair.race_on_base()
    return base.status in (RunStatus.FAILED, RunStatus.TIMEOUT)


def _repeated(pair: SuitePair) -> bool:
    runs = [len(side.runs) if side is not None else 0 for side in (pair.base, pair.head)]
    return min(runs) >= MIN_RACE_REPEATS


def _proven_tier(integration: bool, repeated: bool) -> Tier:
    if not repeated:
        return Tier.B
    return Tier.S if integration else Tier.A


def _raw_proof_tier(proof: Proof, evidence: Evidence) -> tuple[Tier, str, bool]:
    """(tier before media, reason, media may lift it)."""
    verdict = proof.verdict
    if verdict == Verdict.ERROR:
        return Tier.NA, "The proof could not run (infrastructure error), so there is nothing to rank.", False
    if verdict == Verdict.NO_TESTS:
        if not evidence.touches_lock_code:
            return Tier.NA, "No tests and no lock code touched: off-meta for this bot.", False
        return Tier.F, "The PR changes lock code but brings no test the bot can run.", True
    if verdict in (Verdict.FAILS, Verdict.TIMEOUT):
        what = "hung" if verdict == Verdict.TIMEOUT else "failed"
        return Tier.F, f"A suite {what} on head: the fix is not shown to work.", False
    if verdict == Verdict.WEAK:
        return Tier.D, "The tests pass on base too: they do not catch the bug.", True
    if verdict == Verdict.FLAKY:
        return Tier.D, "Repeats disagreed: the result is not reproducible.", True
    # proven
    proving = [pair for pair in proof.suites if _proving(pair)]
    if not proving:
        return Tier.C, "Proven, but no suite in the proof shows fail-before/pass-after.", False
    repeated = [pair for pair in proving if _repeated(pair)]
    if any(pair.kind == "integration" for pair in repeated):
        over = _over_threshold(proof, [pair for pair in repeated if pair.kind == "integration"])
        if over:
            return Tier.A, over, False
        return Tier.S, "Proven on a real-filesystem integration suite, repeated on both sides.", False
    if repeated:
        return Tier.A, "Proven on regression suites, repeated on both sides (no integration suite proves it).", False
    return Tier.B, "Proven, but the proving suites ran only once: a race may not show up.", False


def _over_threshold(proof: Proof, pairs: list[SuitePair]) -> str:
    """With adaptive repeats, S also needs head's failure-rate bound under the configured threshold."""
    if proof.threshold is None or proof.confidence is None:
        return ""
    bounds = [
        failure_rate_upper(p.head.tally.failures, p.head.tally.runs, proof.confidence)  # type: ignore
        for p in pairs
    ]
    best = min((b for b in bounds if b is not None), default=None)
    if best is None or best <= proof.threshold:
        return ""
    return (
        f"Proven on an integration suite, but head's failure rate is only bounded by {percent(best)} "
        f"(at {percent(proof.confidence)}), over the {percent(proof.threshold)} threshold: more runs would settle it."
    )


def _media_lift(tier: Tier) -> Tier | None:
    """One step up, if that stays at or below the media cap."""
    lifted = Tier.from_score(_score(tier) + 1)
    return lifted if lifted != tier and _score(lifted) <= _score(MEDIA_CAP) else None


def _media_counts(evidence: Evidence) -> bool:
    return evidence.media > 0 and evidence.claims_reproduced is not False


def proof_tier(proof: Proof, evidence: Evidence) -> TierResult:
    """The proof axis; see `RANK_RULES` for the table."""
    tier, reason, liftable = _raw_proof_tier(proof, evidence)
    lifted = _media_lift(tier) if liftable and _media_counts(evidence) else None
    if lifted is not None:
        media = "item" if evidence.media == 1 else "items"
        return TierResult(
            tier=lifted,
            reason=f"{reason} Lifted one step by {evidence.media} attached media {media} (never past C).",
            media_lift=True,
        )
    return TierResult(tier=tier, reason=reason)


# --------------------------------------------------------------------------- the patch axis


def _patch_tier_of(findings: list[Finding]) -> Tier:
    count = {p: sum(1 for f in findings if f.priority == p) for p in Priority}
    if count[Priority.P0]:
        return Tier.F
    if count[Priority.P1]:
        return Tier.D if count[Priority.P1] >= 2 else Tier.C
    if count[Priority.P2]:
        return Tier.C if count[Priority.P2] >= 3 else Tier.B
    return Tier.A if count[Priority.P3] else Tier.S


def patch_tier(findings: list[Finding]) -> TierResult:
    """The patch axis; see `RANK_RULES` for the table."""
    tier = _patch_tier_of(findings)
    if not findings:
        return TierResult(tier=tier, reason="No findings in the patch.")
    counts = [f"{n} × {p.value}" for p in Priority if (n := sum(1 for f in findings if f.priority == p))]
    return TierResult(tier=tier, reason=f"Findings: {', '.join(counts)}.")


def overall_tier(proof: TierResult, patch: TierResult) -> TierResult:
    tier = weaker(proof.tier, patch.tier)
    if tier is Tier.NA:
        return TierResult(tier=tier, reason=proof.reason)
    if proof.tier == patch.tier:
        return TierResult(tier=tier, reason="Proof and patch rank the same.")
    side = "proof" if tier == proof.tier else "patch"
    return TierResult(tier=tier, reason=f"The {side} is the weaker axis.")


# --------------------------------------------------------------------------- moves

INTEGRATION_MOVE = (
    "Add a real-filesystem integration test that fails on base (a second process acquiring the same lock file)"
)
REPEAT_MOVE = (
    "A maintainer sets `repeat: 3` on the lock suites in the base branch's `.github/reviewbot.yml`, so a race "
    "shows up (a PR cannot change the config its own proof uses)"
)


@dataclass(frozen=True)
class _Step:
    text: str
    tier: Tier  # the proof tier once this step (and the ones before it) is done


def _proven_ladder(integration: bool, repeated: bool) -> list[_Step]:
    steps: list[_Step] = []
    if not repeated:
        repeated = True
        steps.append(_Step(REPEAT_MOVE, _proven_tier(integration, repeated)))
    if not integration:
        integration = True
        steps.append(_Step(INTEGRATION_MOVE, _proven_tier(integration, repeated)))
    return steps


def _proof_ladder(proof: Proof, evidence: Evidence) -> list[_Step]:
    """Cumulative steps that raise the proof tier, each with the tier it reaches."""
    pairs = proof.suites
    repeated_now = bool(pairs) and all(_repeated(p) for p in pairs)
    verdict = proof.verdict
    if verdict == Verdict.ERROR:
        return [_Step("Re-run the proof with `@reviewbot re-review` once the infrastructure problem is fixed", Tier.B)]
    if verdict == Verdict.NO_TESTS and not evidence.touches_lock_code:
        return []
    if verdict == Verdict.PROVEN:
        proving = [p for p in pairs if _proving(p)]
        if not proving:
            return [
                _Step("Re-run the proof with `@reviewbot re-review` so the fail-before/pass-after is observed", Tier.B)
            ]
        integration = any(p.kind == "integration" for p in proving)
        best = [p for p in proving if p.kind == "integration"] if integration else proving
        return _proven_ladder(integration, any(_repeated(p) for p in best))
    if verdict in (Verdict.FAILS, Verdict.TIMEOUT):
        caught = [p for p in pairs if p.base is not None and p.base.status in (RunStatus.FAILED, RunStatus.TIMEOUT)]
        if verdict == Verdict.TIMEOUT:
            text = "Look into the hang on head (a possible deadlock in the fix) so every suite passes there"
        else:
            text = "Make the suites pass on head; they fail with the fix applied"
        if not caught:  # fixing head leaves a weak proof
            return [_Step(text, Tier.D), *_weak_ladder(repeated_now)]
        integration = any(p.kind == "integration" for p in caught)
        return [_Step(text, _proven_tier(integration, repeated_now)), *_proven_ladder(integration, repeated_now)]
    if verdict == Verdict.FLAKY:
        integration = any(p.kind == "integration" for p in pairs)
        text = (
            "Make the lock tests deterministic (wait for a lock-acquired signal instead of sleeping) so repeats agree"
        )
        return [_Step(text, _proven_tier(integration, True)), *_proven_ladder(integration, True)]
    if verdict == Verdict.WEAK:
        return _weak_ladder(repeated_now)
    # no_tests on lock code
    return [
        _Step(INTEGRATION_MOVE + " and passes on head", _proven_tier(True, False)),
        *_proven_ladder(True, False),
    ]


def _weak_ladder(repeated: bool) -> list[_Step]:
    text = (
        "Make a test fail on base: the tests pass without the fix, e.g. a real-filesystem "
        "integration test with a second process acquiring the same lock file"
    )
    return [_Step(text, _proven_tier(True, repeated)), *_proven_ladder(True, repeated)]


def _media_step(proof: Proof, evidence: Evidence, current: Tier) -> _Step | None:
    """Attaching media lifts a liftable D/F one step, when none is attached yet."""
    _, _, liftable = _raw_proof_tier(proof, evidence)
    if not liftable or evidence.media > 0 or evidence.claims_reproduced is False:
        return None
    lifted = _media_lift(current)
    if lifted is None:
        return None
    return _Step("Attach a log, screenshot or recording of the bug happening without the fix", lifted)


def _finding_order(finding: Finding) -> tuple[int, str, int, str, str]:
    return (list(Priority).index(finding.priority), finding.path, finding.line, finding.rule, finding.title)


def _score(tier: Tier) -> int:
    return tier.score or 0


def rank_up_moves(proof: Proof, evidence: Evidence, findings: list[Finding]) -> list[str]:
    """Up to three suggestions that raise the overall rank, most valuable first.

    A greedy plan over three queues - the proof ladder, fixing findings (most
    severe first), attaching media - choosing at each step the move that gives
    the best overall tier, then the best sum of both axes; ties go to the proof
    (an observed run), then the patch, then media. Empty when already S, and
    for off-meta PRs (N/A that no move can rank).
    """
    proof_now = proof_tier(proof, evidence).tier
    if proof_now is Tier.NA and proof.verdict != Verdict.ERROR:
        return []
    ladder = _proof_ladder(proof, evidence)
    remaining = sorted(findings, key=_finding_order)
    media = _media_step(proof, evidence, proof_now)
    moves: list[str] = []
    while len(moves) < MAX_MOVES:
        if weaker(proof_now, _patch_tier_of(remaining)) is Tier.S:
            break
        options: list[tuple[tuple[int, int, int], str, str]] = []
        patch_now = _patch_tier_of(remaining)
        if ladder:
            tier = ladder[0].tier if _score(ladder[0].tier) > _score(proof_now) else proof_now
            options.append((_value(tier, patch_now, 2), "proof", ladder[0].text))
        if remaining:
            after = _patch_tier_of(remaining[1:])
            f = remaining[0]
            text = f"Fix [{f.priority.value}] {code_span(f'{f.path}:{f.line}')}: {f.title}"
            options.append((_value(proof_now, after, 1), "patch", text))
        if media is not None and _score(media.tier) > _score(proof_now):
            options.append((_value(media.tier, patch_now, 0), "media", media.text))
        if not options:
            break
        _, kind, text = max(options, key=lambda o: o[0])
        moves.append(text)
        if kind == "proof":
            step = ladder.pop(0)
            proof_now = step.tier if _score(step.tier) > _score(proof_now) else proof_now
        elif kind == "patch":
            remaining = remaining[1:]
        else:
            assert media is not None
            proof_now = media.tier
            media = None
    return moves


def _value(proof: Tier, patch: Tier, order: int) -> tuple[int, int, int]:
    return (_score(weaker(proof, patch)), _score(proof) + _score(patch), order)


# --------------------------------------------------------------------------- eggs


class Rarity(StrEnum):
    COMMON = "common"
    UNCOMMON = "uncommon"
    RARE = "rare"
    EPIC = "epic"
    LEGENDARY = "legendary"


# percent weights, most common first; they add up to 100
RARITY_WEIGHTS: dict[Rarity, int] = {
    Rarity.COMMON: 60,
    Rarity.UNCOMMON: 25,
    Rarity.RARE: 10,
    Rarity.EPIC: 4,
    Rarity.LEGENDARY: 1,
}
RARITY_EMOJI: dict[Rarity, str] = {
    Rarity.COMMON: "⚪",
    Rarity.UNCOMMON: "🟢",
    Rarity.RARE: "🔵",
    Rarity.EPIC: "🟣",
    Rarity.LEGENDARY: "🌟",
}
_ROLL_SPACE = 10_000


class Egg(BaseModel):
    model_config = ConfigDict(frozen=True)

    rarity: Rarity
    hatched: bool
    roll: int  # 0..9999, from sha256 of "owner/name#number"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def emoji(self) -> str:
        return "🐣" if self.hatched else "🥚"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rarity_emoji(self) -> str:
        return RARITY_EMOJI[self.rarity]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def description(self) -> str:
        if self.hatched:
            return f"🐣 hatched: {self.rarity.value}"
        return f"🥚 {self.rarity.value} egg — hatches when the proof is proven"


def egg_roll(repo_full_name: str, pr_number: int) -> int:
    digest = hashlib.sha256(f"{repo_full_name}#{pr_number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _ROLL_SPACE


def rarity_for_roll(roll: int) -> Rarity:
    threshold = 0
    for rarity, weight in RARITY_WEIGHTS.items():
        threshold += weight * _ROLL_SPACE // 100
        if roll < threshold:
            return rarity
    return Rarity.LEGENDARY


def pr_egg(repo_full_name: str, pr_number: int, verdict: Verdict) -> Egg:
    """Same repo and number, same egg; it hatches only on a proven proof."""
    roll = egg_roll(repo_full_name, pr_number)
    return Egg(rarity=rarity_for_roll(roll), hatched=verdict == Verdict.PROVEN, roll=roll)


# --------------------------------------------------------------------------- the rating


class Rating(BaseModel):
    model_config = ConfigDict(frozen=True)

    proof: TierResult
    patch: TierResult
    overall: TierResult
    score: int | None  # the overall six-point score; None for N/A
    moves: list[str]
    egg: Egg

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def rate(repo_full_name: str, pr_number: int, proof: Proof, evidence: Evidence, findings: list[Finding]) -> Rating:
    proof_result = proof_tier(proof, evidence)
    patch_result = patch_tier(findings)
    overall = overall_tier(proof_result, patch_result)
    return Rating(
        proof=proof_result,
        patch=patch_result,
        overall=overall,
        score=overall.tier.score,
        moves=rank_up_moves(proof, evidence, findings),
        egg=pr_egg(repo_full_name, pr_number, proof.verdict),
    )


# --------------------------------------------------------------------------- the table for the docs


@dataclass(frozen=True)
class RankRule:
    axis: str  # "proof", "proof + media", "patch", "overall"
    condition: str
    tier: Tier | None  # None: the row describes a rule, not a fixed tier


RANK_RULES: list[RankRule] = [
    RankRule("proof", "`proven`, fail-before/pass-after on an `integration` suite, ≥2 repeats on each side", Tier.S),
    RankRule(
        "proof",
        "with adaptive repeats (`proof:` in the config), S also needs head's exact failure-rate "
        "bound under `proof.threshold`; above it, A",
        None,
    ),
    RankRule("proof", "`proven`, fail-before/pass-after on regression suites only, ≥2 repeats on each side", Tier.A),
    RankRule("proof", "`proven`, but the proving suites ran once (no repetition for a race)", Tier.B),
    RankRule("proof", "`proven`, but no suite shows fail-before/pass-after", Tier.C),
    RankRule("proof", "`weak` (tests pass on base too) or `flaky` (repeats disagree)", Tier.D),
    RankRule("proof", "`fails` or `timeout` on head", Tier.F),
    RankRule("proof", "`no_tests` on a PR that changes lock code", Tier.F),
    RankRule("proof", "`no_tests` on a PR that touches no lock code, or `error`", Tier.NA),
    RankRule(
        "proof + media",
        "`weak` or `flaky` with attached media (unless the contributor says it did not reproduce)",
        Tier.C,
    ),
    RankRule(
        "proof + media",
        "`no_tests` on lock code with attached media (unless the contributor says it did not reproduce)",
        Tier.D,
    ),
    RankRule("proof + media", "anything else: media never changes the tier (never above C)", None),
    RankRule("patch", "no findings", Tier.S),
    RankRule("patch", "only P3 findings", Tier.A),
    RankRule("patch", "only P2 (and P3), one or two P2", Tier.B),
    RankRule("patch", "one P1, or three or more P2", Tier.C),
    RankRule("patch", "two or more P1", Tier.D),
    RankRule("patch", "any P0", Tier.F),
    RankRule("overall", "the weaker of proof and patch; N/A when the proof is N/A", None),
]


def rules_markdown() -> str:
    lines = [
        "| Axis | Condition | Tier |",
        "| --- | --- | --- |",
    ]
    for rule in RANK_RULES:
        tier = rule.tier.label if rule.tier is not None else "—"
        lines.append(f"| {rule.axis} | {rule.condition} | {tier} |")
    return "\n".join(lines) + "\n"
