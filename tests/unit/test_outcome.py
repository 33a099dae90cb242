"""The outcome table: proof, findings, claims, rating and security notes in, one outcome and its labels out."""

from __future__ import annotations

import re

import pytest

from reviewbot.model import Finding, Priority, Proof, RunProblem, RunStatus
from reviewbot.names import HUMAN_REVIEW_LABEL
from reviewbot.review.claims import ClaimCheck, ClaimMatch
from reviewbot.review.outcome import (
    RETRY_COMMAND,
    Outcome,
    OutcomeKind,
    decide_outcome,
    labels_for,
)
from reviewbot.review.ranks import Evidence, Rating, rate
from reviewbot.review.security import SecurityNote, security_notes
from tests.builders import PROVEN, E, F, P, T, finding, pair, proof_of

LOCK = Evidence()
OFF_META = Evidence(touches_lock_code=False)

ERROR = proof_of(pair("lock regression", (E,), (P,)))
TIMEOUT = proof_of(pair("lock regression", (F,), (T,)))
FAILS = proof_of(pair("lock regression", (F,), (F,)))
WEAK = proof_of(pair("lock regression", (P, P), (P, P)))
FLAKY = proof_of(pair("lock regression", (F, P, F), (P, P, P)))
NO_TESTS = proof_of(tests=(), sources=("src/lock.mjs",))
NO_TESTS_OFF_META = proof_of(tests=(), sources=("README.md",))
CLEAN = proof_of(*PROVEN)
WORKFLOW = proof_of(*PROVEN, sources=("src/lock.mjs", ".github/workflows/ci.yml"))
WEAK_WORKFLOW = proof_of(pair("lock regression", (P, P), (P, P)), sources=("src/lock.mjs", ".github/workflows/x.yml"))
BOT_CONFIG = proof_of(*PROVEN, sources=("src/lock.mjs", ".github/reviewbot.yml"))

CONTRADICTED = ClaimCheck(
    command="npm test",
    claimed="4/4 pass",
    observed_status=RunStatus.FAILED,
    observed_passed=3,
    observed_failed=1,
    match=ClaimMatch.CONTRADICTED,
)
REPRODUCED = ClaimCheck(
    command="npm test",
    claimed="4/4 pass",
    observed_status=RunStatus.PASSED,
    observed_passed=4,
    observed_failed=0,
    match=ClaimMatch.REPRODUCED,
)
COUNTS_DIFFER = ClaimCheck(
    command="npm test",
    claimed="5/5 pass",
    observed_status=RunStatus.PASSED,
    observed_passed=4,
    observed_failed=0,
    match=ClaimMatch.COUNTS_DIFFER,
)
HAND_MADE_HUMAN = SecurityNote(text="Something only a maintainer can judge.", paths=["x"], needs_human=True)
HAND_MADE_INFO = SecurityNote(text="Changes dependency manifests.", paths=["package.json"])

P0, P1, P2, P3 = (finding(p) for p in (Priority.P0, Priority.P1, Priority.P2, Priority.P3))
WHERE_P0 = "[P0] `src/lock.mjs:3` (Lock release is not guaranteed on error)"
WHERE_P1 = "[P1] `src/lock.mjs:3` (Lock release is not guaranteed on error)"


class Case:
    """One row: the inputs; `security=None` means "as `security_notes(proof)` finds them"."""

    def __init__(
        self,
        proof: Proof,
        findings: tuple[Finding, ...] = (),
        claims: tuple[ClaimCheck, ...] = (),
        evidence: Evidence = LOCK,
        security: tuple[SecurityNote, ...] | None = None,
    ) -> None:
        self.proof, self.findings, self.claims, self.evidence = proof, list(findings), list(claims), evidence
        self.security = list(security) if security is not None else security_notes(proof)

    def rating(self) -> Rating:
        return rate("o/r", 1, self.proof, self.evidence, self.findings)

    def outcome(self) -> Outcome:
        return decide_outcome(self.proof, self.findings, self.claims, self.rating(), self.security)


# (case, kind, human_review, retry, reasons, next_step prefix)
OUTCOMES = [
    pytest.param(
        Case(ERROR),
        OutcomeKind.DID_NOT_COMPLETE,
        False,
        RETRY_COMMAND,
        [ERROR.reason],
        "Once the problem above is fixed",
        id="1-error-did-not-complete",
    ),
    pytest.param(
        Case(CLEAN, findings=(P0,)),
        OutcomeKind.BLOCKED,
        True,
        "",
        [f"{WHERE_P0}: A throw skips the release."],
        f"Fix {WHERE_P0}, push",
        id="2-p0-blocked",
    ),
    pytest.param(
        Case(TIMEOUT),
        OutcomeKind.BLOCKED,
        True,
        "",
        [TIMEOUT.reason],
        "Find why head hangs",
        id="2-head-timeout-blocked",
    ),
    pytest.param(
        Case(FAILS),
        OutcomeKind.NEEDS_CHANGES,
        False,
        "",
        [FAILS.reason],
        "Make the failing suite pass on head.",
        id="3-head-fails-needs-changes",
    ),
    pytest.param(
        Case(CLEAN, findings=(P1,)),
        OutcomeKind.NEEDS_CHANGES,
        False,
        "",
        [f"{WHERE_P1}: A throw skips the release."],
        f"Fix {WHERE_P1}.",
        id="3-p1-needs-changes",
    ),
    pytest.param(
        Case(CLEAN, claims=(CONTRADICTED,)),
        OutcomeKind.NEEDS_CHANGES,
        False,
        "",
        ["The PR says `npm test` gives `4/4 pass`, but on head it failed."],
        "Correct the PR description's claimed results",
        id="3-contradicted-claim-needs-changes",
    ),
    pytest.param(
        Case(WEAK),
        OutcomeKind.NEEDS_PROOF,
        False,
        "",
        [WEAK.reason],
        "Add a test that fails without the fix (on base) and passes with it.",
        id="4-weak-needs-proof",
    ),
    pytest.param(
        Case(FLAKY),
        OutcomeKind.NEEDS_PROOF,
        False,
        "",
        [FLAKY.reason],
        "Make the lock tests deterministic",
        id="4-flaky-needs-proof",
    ),
    pytest.param(
        Case(NO_TESTS),
        OutcomeKind.NEEDS_PROOF,
        False,
        "",
        [NO_TESTS.reason],
        "Add a test that reproduces the lock bug",
        id="4-no-tests-on-lock-code-needs-proof",
    ),
    pytest.param(
        Case(NO_TESTS_OFF_META, evidence=OFF_META),
        OutcomeKind.NEEDS_MAINTAINER,
        True,
        "",
        ["The PR touches no lock code and brings no tests: outside what this bot judges."],
        "A maintainer decides",
        id="5-no-tests-off-meta-needs-maintainer",
    ),
    pytest.param(
        Case(WORKFLOW),
        OutcomeKind.NEEDS_MAINTAINER,
        True,
        "",
        [WORKFLOW.reason, "Changes GitHub Actions workflows, which run with the repository's secrets once merged."],
        "A maintainer reads the changes listed under Security",
        id="5-proven-with-workflow-change",
    ),
    pytest.param(
        Case(BOT_CONFIG),
        OutcomeKind.NEEDS_MAINTAINER,
        True,
        "",
        [BOT_CONFIG.reason, security_notes(BOT_CONFIG)[0].text],
        "A maintainer reads the changes listed under Security",
        id="5-proven-with-bot-config-change",
    ),
    pytest.param(
        Case(CLEAN, security=(HAND_MADE_HUMAN,)),
        OutcomeKind.NEEDS_MAINTAINER,
        True,
        "",
        [CLEAN.reason, HAND_MADE_HUMAN.text],
        "A maintainer reads",
        id="5-hand-made-needs-human-note",
    ),
    pytest.param(
        Case(CLEAN),
        OutcomeKind.PASSED,
        False,
        "",
        [CLEAN.reason],
        "Nothing in this review blocks a merge",
        id="6-proven-clean-passed",
    ),
    pytest.param(
        Case(CLEAN, findings=(P2, P3), claims=(REPRODUCED, COUNTS_DIFFER), security=(HAND_MADE_INFO,)),
        OutcomeKind.PASSED,
        False,
        "",
        [CLEAN.reason],
        "Nothing in this review blocks a merge",
        id="6-p2-p3-counts-differ-and-info-note-still-pass",
    ),
    # two rules apply: the more serious wins
    pytest.param(
        Case(FAILS, findings=(P0,)),
        OutcomeKind.BLOCKED,
        True,
        "",
        [f"{WHERE_P0}: A throw skips the release."],
        f"Fix {WHERE_P0}",
        id="p0-and-fails-blocked",
    ),
    pytest.param(
        Case(ERROR, findings=(P0,), claims=(CONTRADICTED,)),
        OutcomeKind.DID_NOT_COMPLETE,
        False,
        RETRY_COMMAND,
        [ERROR.reason],
        "Once the problem above is fixed",
        id="error-and-p0-did-not-complete",
    ),
    pytest.param(
        Case(TIMEOUT, findings=(P0,)),
        OutcomeKind.BLOCKED,
        True,
        "",
        [TIMEOUT.reason, f"{WHERE_P0}: A throw skips the release."],
        "Find why head hangs",
        id="timeout-and-p0-blocked-hang-first",
    ),
    pytest.param(
        Case(FAILS, findings=(P1,), claims=(CONTRADICTED,)),
        OutcomeKind.NEEDS_CHANGES,
        False,
        "",
        [
            FAILS.reason,
            f"{WHERE_P1}: A throw skips the release.",
            "The PR says `npm test` gives `4/4 pass`, but on head it failed.",
        ],
        "Make the failing suite pass on head.",
        id="fails-p1-and-contradicted-all-listed",
    ),
    pytest.param(
        Case(WEAK, claims=(CONTRADICTED,)),
        OutcomeKind.NEEDS_CHANGES,
        False,
        "",
        ["The PR says `npm test` gives `4/4 pass`, but on head it failed."],
        "Correct the PR description's claimed results",
        id="contradicted-beats-weak",
    ),
    pytest.param(
        Case(WEAK_WORKFLOW),
        OutcomeKind.NEEDS_PROOF,
        False,
        "",
        [WEAK.reason],
        "Add a test that fails without the fix",
        id="weak-beats-workflow-change",
    ),
    pytest.param(
        Case(NO_TESTS_OFF_META, findings=(P1,), evidence=OFF_META),
        OutcomeKind.NEEDS_CHANGES,
        False,
        "",
        [f"{WHERE_P1}: A throw skips the release."],
        f"Fix {WHERE_P1}.",
        id="p1-beats-off-meta",
    ),
]


@pytest.mark.parametrize(("case", "kind", "human", "retry", "reasons", "step"), OUTCOMES)
def test_decide_outcome(case: Case, kind: OutcomeKind, human: bool, retry: str, reasons: list[str], step: str) -> None:
    outcome = case.outcome()
    assert outcome.kind is kind
    assert outcome.human_review is human
    assert outcome.retry == retry
    assert outcome.reasons == reasons
    assert outcome.next_step.startswith(step)
    assert outcome.next_step.endswith(".")


# --------------------------------------------------------------------------- labels


def _outside_code_spans(text: str) -> str:
    """The text with every inline code span (any backtick run length) removed."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "`":
            run = len(re.match(r"`+", text[i:])[0])  # type: ignore[index]
            close = re.compile(r"(?<!`)" + "`" * run + r"(?!`)").search(text, i + run)
            if close is None:  # an unmatched run is literal text
                out.append(text[i : i + run])
                i += run
                continue
            i = close.end()
            out.append(" ")
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


# (case, expected label names, in order)
LABELS = [
    pytest.param(Case(ERROR), ["status: did not complete"], id="error-sets-only-the-status"),
    pytest.param(
        Case(CLEAN, findings=(P0,)),
        ["status: blocked", "proof: proven", "rating: F", "priority: P0", HUMAN_REVIEW_LABEL],
        id="p0-blocked",
    ),
    pytest.param(
        Case(TIMEOUT),
        ["status: blocked", "proof: timeout", "rating: F", HUMAN_REVIEW_LABEL],
        id="timeout-blocked-no-findings-no-priority",
    ),
    pytest.param(Case(FAILS), ["status: needs changes", "proof: fails", "rating: F"], id="fails"),
    pytest.param(
        Case(CLEAN, findings=(P1,)), ["status: needs changes", "proof: proven", "rating: C", "priority: P1"], id="p1"
    ),
    pytest.param(
        Case(CLEAN, claims=(CONTRADICTED,)), ["status: needs changes", "proof: proven", "rating: S"], id="contradicted"
    ),
    pytest.param(Case(WEAK), ["status: needs real behavior proof", "proof: weak", "rating: D"], id="weak"),
    pytest.param(
        Case(NO_TESTS), ["status: needs real behavior proof", "proof: no_tests", "rating: F"], id="no-tests-lock"
    ),
    pytest.param(
        Case(NO_TESTS_OFF_META, evidence=OFF_META),
        ["status: needs maintainer review", "proof: no_tests", "rating: n/a", HUMAN_REVIEW_LABEL],
        id="no-tests-off-meta",
    ),
    pytest.param(
        Case(WORKFLOW),
        ["status: needs maintainer review", "proof: proven", "rating: S", HUMAN_REVIEW_LABEL],
        id="workflow",
    ),
    pytest.param(Case(CLEAN), ["status: passed", "proof: proven", "rating: S"], id="clean"),
    pytest.param(
        Case(CLEAN, findings=(P3, P2, P3)),
        ["status: passed", "proof: proven", "rating: B", "priority: P2"],
        id="p2-is-the-highest",
    ),
]


@pytest.mark.parametrize(("case", "names"), LABELS)
def test_label_names(case: Case, names: list[str]) -> None:
    outcome = case.outcome()
    labels = labels_for(outcome, case.proof, case.rating(), case.findings)
    assert [label.name for label in labels] == names
    assert (HUMAN_REVIEW_LABEL in names) is outcome.human_review
    assert any(n.startswith("priority: ") for n in names) is bool(case.findings)
    for label in labels:
        assert label.justification.strip(), label.name


@pytest.mark.parametrize(
    ("case", "justifications"),
    [
        pytest.param(
            Case(CLEAN),
            {
                "status: passed": CLEAN.reason,
                "proof: proven": CLEAN.reason,
                "rating: S": "S 🦀 challenger crab: Proof and patch rank the same.",
            },
            id="clean",
        ),
        pytest.param(
            Case(CLEAN, findings=(P0, P0)),
            {
                "status: blocked": f"{WHERE_P0}: A throw skips the release.",
                "priority: P0": "2 P0 findings, the first at `src/lock.mjs:3`.",
                HUMAN_REVIEW_LABEL: f"{WHERE_P0}: A throw skips the release.",
                "rating: F": "F 🧂 unranked krab: The patch is the weaker axis.",
            },
            id="two-p0",
        ),
        pytest.param(
            Case(WORKFLOW),
            {
                HUMAN_REVIEW_LABEL: "Changes GitHub Actions workflows, which run with the repository's secrets once merged.",
            },
            id="human-review-names-the-last-reason",
        ),
        pytest.param(Case(ERROR), {"status: did not complete": ERROR.reason}, id="error-says-what-broke"),
        pytest.param(
            Case(CLEAN, findings=(P1, P2, P1)),
            {
                "priority: P1": "2 P1 findings, the first at `src/lock.mjs:3`.",
            },
            id="counts-only-the-highest-priority",
        ),
        pytest.param(
            Case(CLEAN, findings=(finding(Priority.P2, path="src/a.mjs"), finding(Priority.P0, path="src/b.mjs"))),
            {"priority: P0": "1 P0 finding, the first at `src/b.mjs:3`."},
            id="location-is-of-the-highest-priority-finding",
        ),
    ],
)
def test_label_justifications(case: Case, justifications: dict[str, str]) -> None:
    labels = {
        label.name: label.justification
        for label in labels_for(case.outcome(), case.proof, case.rating(), case.findings)
    }
    for name, text in justifications.items():
        assert labels[name] == text


@pytest.mark.parametrize(
    ("path", "span"),
    [
        pytest.param("src/@admin/lock.mjs", "`src/@admin/lock.mjs:3`", id="at-mention"),
        pytest.param("src/`x`.mjs", "``src/`x`.mjs:3``", id="single-backticks"),
        pytest.param("src/``@team``.mjs", "```src/``@team``.mjs:3```", id="double-backticks-and-at"),
        pytest.param("`@owner", "`` `@owner:3 ``", id="leading-backtick-and-at"),
        pytest.param("src/<!--x-->.mjs", "`src/<\u200b!--x-->.mjs:3`", id="marker-opener-defused"),
    ],
)
@pytest.mark.parametrize("priority", [Priority.P0, Priority.P1], ids=["p0", "p1"])
def test_hostile_finding_path_stays_in_a_code_span(path: str, span: str, priority: Priority) -> None:
    case = Case(CLEAN, findings=(finding(priority, path=path),))
    outcome = case.outcome()
    labels = labels_for(outcome, case.proof, case.rating(), case.findings)
    priority_label = next(label for label in labels if label.name.startswith("priority: "))
    assert priority_label.justification == f"1 {priority.value} finding, the first at {span}."
    assert span in outcome.reasons[0]
    for text in [*outcome.reasons, outcome.next_step, *(label.justification for label in labels)]:
        assert "@" not in _outside_code_spans(text), text
        assert "<!--" not in text, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a `@x` b", "a   b", id="span-removed"),
        pytest.param("a `@x` b @y", "a   b @y", id="raw-mention-kept"),
        pytest.param("``a`@b`` c", "  c", id="double-tick-span-removed"),
        pytest.param("x ` @y", "x ` @y", id="unmatched-tick-is-text"),
    ],
)
def test_outside_code_spans_helper(text: str, expected: str) -> None:
    assert _outside_code_spans(text) == expected


@pytest.mark.parametrize(
    ("source", "step"),
    [
        ("base:.github/reviewbot.yml", "A maintainer fixes the `setup` step"),
        ("inferred", "A maintainer adds a `.github/reviewbot.yml`"),
    ],
    ids=["configured", "inferred"],
)
def test_a_failed_setup_asks_for_a_config_where_there_was_none(source: str, step: str) -> None:
    proof = ERROR.model_copy(update={"error_cause": RunProblem.SETUP, "config_source": source})
    outcome = Case(proof).outcome()
    assert outcome.kind is OutcomeKind.DID_NOT_COMPLETE and outcome.retry == ""
    assert outcome.next_step.startswith(step)
