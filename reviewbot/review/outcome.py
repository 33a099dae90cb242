"""The one typed result a review comes to, and the labels derived from it.

Pure. The verdict line, the labels and the hidden marker all read the same
`Outcome`, so the comment, the labels and the machine state can never disagree.

Precedence, most serious first (the first that applies wins):

1. did not complete - the proof could not run: infrastructure (retry), or a setup step or
   suite that gave no test result (say what to change; a retry would fail the same way).
2. blocked - a P0 finding, or head hung (possible deadlock): must not merge as is.
3. needs changes - head fails, a P1 finding, or a claimed result the bot saw the opposite of.
4. needs real behavior proof - the tests do not show the bug (weak), disagree (flaky), or there
   are none for a lock change.
5. needs maintainer review - proven, but something only a person can judge (workflows, the bot's
   config, a PR that touches no lock code).
6. passed - proven, no blocking finding, nothing for a person to judge first.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from reviewbot.model import Finding, Priority, Proof, RunProblem, Verdict
from reviewbot.names import HUMAN_REVIEW_LABEL
from reviewbot.review.claims import ClaimCheck, ClaimMatch
from reviewbot.review.markdown import code_span
from reviewbot.review.ranks import Rating, Tier
from reviewbot.review.security import SecurityNote

RETRY_COMMAND = "@reviewbot re-review"


class OutcomeKind(StrEnum):
    DID_NOT_COMPLETE = "did not complete"
    BLOCKED = "blocked"
    NEEDS_CHANGES = "needs changes"
    NEEDS_PROOF = "needs real behavior proof"
    NEEDS_MAINTAINER = "needs maintainer review"
    PASSED = "passed"

    @property
    def icon(self) -> str:
        return _ICONS[self]

    @property
    def slug(self) -> str:
        return self.value.replace(" ", "-")


_ICONS = {
    OutcomeKind.DID_NOT_COMPLETE: "🛠️",
    OutcomeKind.BLOCKED: "⛔",
    OutcomeKind.NEEDS_CHANGES: "🔧",
    OutcomeKind.NEEDS_PROOF: "🧪",
    OutcomeKind.NEEDS_MAINTAINER: "👀",
    OutcomeKind.PASSED: "✅",
}


class Outcome(BaseModel):
    kind: OutcomeKind
    reasons: list[str]  # why, most important first; markdown sentences, untrusted parts as code spans
    next_step: str  # the one thing that stands between this PR and a merge
    human_review: bool = False  # a person must decide: the `reviewbot:human-review` label
    retry: str = ""  # how to retry, for infrastructure failures
    owner: str = ""  # who takes the next step: "the contributor" or "a maintainer"


class Label(BaseModel):
    name: str
    justification: str


def decide_outcome(
    proof: Proof, findings: list[Finding], claims: list[ClaimCheck], rating: Rating, security: list[SecurityNote]
) -> Outcome:
    """The outcome, with whoever can take its next step (the review leads with both)."""
    outcome = _decide(proof, findings, claims, rating, security)
    return outcome.model_copy(update={"owner": next_step_owner(outcome, proof)})


def next_step_owner(outcome: Outcome, proof: Proof) -> str:
    """The contributor changes the PR (code, tests, description); a maintainer merges, decides, re-runs
    and owns the base branch's config."""
    if outcome.kind is OutcomeKind.DID_NOT_COMPLETE:
        return "the contributor" if proof.error_cause == RunProblem.NOT_LOADED else "a maintainer"
    if outcome.kind in (OutcomeKind.PASSED, OutcomeKind.NEEDS_MAINTAINER):
        return "a maintainer"
    return "the contributor"


def _decide(
    proof: Proof, findings: list[Finding], claims: list[ClaimCheck], rating: Rating, security: list[SecurityNote]
) -> Outcome:
    p0 = [f for f in findings if f.priority == Priority.P0]
    p1 = [f for f in findings if f.priority == Priority.P1]
    contradicted = [c for c in claims if c.match == ClaimMatch.CONTRADICTED]
    human = [note.text for note in security if note.needs_human]

    if proof.verdict == Verdict.ERROR and proof.error_cause in _NOT_INFRASTRUCTURE:
        inferred = proof.error_cause == RunProblem.SETUP and proof.config_source.startswith("inferred")
        return Outcome(
            kind=OutcomeKind.DID_NOT_COMPLETE,
            reasons=[proof.reason],
            next_step=_INFERRED_SETUP_FAILED if inferred else _NOT_INFRASTRUCTURE[proof.error_cause],
        )
    if proof.verdict == Verdict.ERROR:
        return Outcome(
            kind=OutcomeKind.DID_NOT_COMPLETE,
            reasons=[proof.reason],
            retry=RETRY_COMMAND,
            next_step=f"Once the problem above is fixed (or if it was passing trouble), a maintainer "
            f"or the PR author comments `{RETRY_COMMAND}`; a new push retries too.",
        )
    blocked = [_finding_reason(f) for f in p0]
    if proof.verdict == Verdict.TIMEOUT:
        blocked.insert(0, proof.reason)
    if blocked:
        step = (
            "Find why head hangs (run the suite locally with a timeout)"
            if proof.verdict == Verdict.TIMEOUT
            else f"Fix {_where(p0[0])}"
        )
        return Outcome(
            kind=OutcomeKind.BLOCKED,
            reasons=blocked,
            human_review=True,
            next_step=step + ", push, and the bot reviews the new head.",
        )
    changes = [_finding_reason(f) for f in p1] + [_claim_reason(c) for c in contradicted]
    if proof.verdict == Verdict.FAILS:
        changes.insert(0, proof.reason)
    if changes:
        if proof.verdict == Verdict.FAILS:
            step = "Make the failing suite pass on head"
        elif p1:
            step = f"Fix {_where(p1[0])}"
        else:
            step = "Correct the PR description's claimed results, or fix what makes them differ"
        return Outcome(kind=OutcomeKind.NEEDS_CHANGES, reasons=changes, next_step=step + ".")
    if proof.verdict in (Verdict.WEAK, Verdict.FLAKY) or (
        proof.verdict == Verdict.NO_TESTS and rating.proof.tier is not Tier.NA
    ):
        return Outcome(kind=OutcomeKind.NEEDS_PROOF, reasons=[proof.reason], next_step=_proof_step(proof) + ".")
    if rating.proof.tier is Tier.NA:
        return Outcome(
            kind=OutcomeKind.NEEDS_MAINTAINER,
            human_review=True,
            reasons=["The PR touches no lock code and brings no tests: outside what this bot judges."],
            next_step="A maintainer decides whether it needs a lock review at all.",
        )
    if human:
        return Outcome(
            kind=OutcomeKind.NEEDS_MAINTAINER,
            reasons=[proof.reason, *human],
            human_review=True,
            next_step="A maintainer reads the changes listed under Security, then merges or comments.",
        )
    return Outcome(
        kind=OutcomeKind.PASSED,
        reasons=[proof.reason],
        next_step="Nothing in this review blocks a merge: a maintainer can merge or comment `@reviewbot automerge`.",
    )


_INFERRED_SETUP_FAILED = (
    "A maintainer adds a `.github/reviewbot.yml` to the base branch with a `setup` that "
    "installs the repository (start from the inferred config in this review); the next push or "
    "re-review uses it."
)

# A proof that ran but gave no test result: a retry would fail the same way, so say what to change.
_NOT_INFRASTRUCTURE = {
    RunProblem.SETUP: "A maintainer fixes the `setup` step in the base branch's `.github/reviewbot.yml` "
    "(the log above shows why it fails); the next push or re-review uses it.",
    RunProblem.NOT_LOADED: "Change the PR's test so it loads on base (import only what base already has) "
    "and fails there; push, and the bot reviews the new head.",
    RunProblem.NO_TEST_RAN: "Make the suite's command run tests on both sides (the log above shows what the "
    "runner refused); a suite comes from the base branch's `.github/reviewbot.yml`, "
    "or from the PR's changed tests.",
}


def labels_for(outcome: Outcome, proof: Proof, rating: Rating, findings: list[Finding]) -> list[Label]:
    """The labels the bot keeps on the PR, each with the sentence that justifies it.

    An infrastructure failure sets only the status label: the proof, rating and priority
    labels of the last completed review stay, since nothing new was learned.
    """
    overall = rating.overall
    if outcome.kind is OutcomeKind.DID_NOT_COMPLETE:
        return [Label(name=f"status: {outcome.kind.value}", justification=outcome.reasons[0])]
    labels = [
        Label(name=f"status: {outcome.kind.value}", justification=outcome.reasons[0] if outcome.reasons else ""),
        Label(name=f"proof: {proof.verdict.value}", justification=proof.reason),
        Label(
            name=f"rating: {overall.tier.value.lower() if overall.tier is Tier.NA else overall.tier.value}",
            justification=f"{overall.label}: {overall.reason}",
        ),
    ]
    if findings:
        top = min(f.priority for f in findings)
        tops = [f for f in findings if f.priority == top]
        labels.append(
            Label(
                name=f"priority: {top.value}",
                justification=f"{len(tops)} {top.value} finding{'s' if len(tops) > 1 else ''}, "
                f"the first at {code_span(f'{tops[0].path}:{tops[0].line}')}.",
            )
        )
    if outcome.human_review:
        labels.append(Label(name=HUMAN_REVIEW_LABEL, justification=outcome.reasons[-1]))
    return labels


def _where(finding: Finding) -> str:
    return f"[{finding.priority.value}] {code_span(f'{finding.path}:{finding.line}')} ({finding.title})"


def _finding_reason(finding: Finding) -> str:
    return f"{_where(finding)}: {finding.why}"


def _claim_reason(check: ClaimCheck) -> str:
    observed = check.observed_status.value if check.observed_status else "did not run"
    return f"The PR says {code_span(check.command or '')} gives {code_span(check.claimed)}, but on head it {observed}."


def _proof_step(proof: Proof) -> str:
    if proof.verdict == Verdict.FLAKY:
        return "Make the lock tests deterministic so every repeat agrees"
    if proof.verdict == Verdict.WEAK:
        return "Add a test that fails without the fix (on base) and passes with it"
    return "Add a test that reproduces the lock bug: it must fail on base and pass on head"
