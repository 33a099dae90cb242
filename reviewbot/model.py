"""The shared vocabulary: facts about a pull request and its proof.

Every layer speaks these types. They are pydantic models so the JSON output of
`reviewbot review --format json` is simply their dump, and so later layers
(service, GitHub edge) can store and reload them without a second schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from reviewbot.stats import DEFAULT_CONFIDENCE, Evidence, Tally, failure_rate_upper

SuiteKind = Literal["regression", "integration"]
Revision = Literal["head", "base"]


class Verdict(StrEnum):
    """One proof verdict per review (DESIGN.md, "Proof verdicts")."""

    PROVEN = "proven"  # the PR's tests fail on base and pass on head
    WEAK = "weak"  # pass on both: the tests do not catch the bug
    FAILS = "fails"  # head fails
    TIMEOUT = "timeout"  # a run on head hung: possible deadlock
    FLAKY = "flaky"  # repeats disagree
    NO_TESTS = "no_tests"  # nothing to run
    ERROR = "error"  # infrastructure; the reason says what broke


class RunStatus(StrEnum):
    """How one execution of a suite ended."""

    PASSED = "passed"
    FAILED = "failed"
    TIMEOUT = "timeout"  # wall clock exceeded: the whole process tree was killed
    ERROR = "error"  # could not run at all (infrastructure, not the tests)


class RunProblem(StrEnum):
    """Why a run is not a test result. Only INFRASTRUCTURE is worth a blind retry."""

    INFRASTRUCTURE = "infrastructure"  # the bot or the host failed (sandbox, git, disk)
    SETUP = "setup"  # the setup step failed: the PR's change or the config's setup
    NO_TEST_RAN = "no_test_ran"  # the command ran but executed no test (usage or config error, none found)
    NOT_LOADED = "not_loaded"  # a test file could not be imported or collected


class TestCounts(BaseModel):
    """Test counts read from JUnit XML or a runner's own summary lines."""

    __test__ = False  # not a pytest class

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failing: list[str] = Field(default_factory=list)
    source: str = "none"  # "junit", a runner name, or "none" when nothing was parsed

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped


class SandboxOutcome(BaseModel):
    """What the sandbox observed about one command, independent of any test runner."""

    exit_code: int | None  # None when killed before it exited
    timed_out: bool = False
    limit_hit: str | None = None  # "wall_clock", "output", "memory", "processes", "cpu", "disk", "network"
    duration_s: float = 0.0
    output_bytes: int = 0
    log_tail: str = ""  # last lines of combined stdout/stderr, redacted
    log_path: str | None = None  # full (capped) log on disk
    egress_refused: list[str] = Field(default_factory=list)  # a setup's most refused network targets, with counts


class SuiteRun(BaseModel):
    """One repeat of one suite on one revision."""

    status: RunStatus
    counts: TestCounts = Field(default_factory=TestCounts)
    outcome: SandboxOutcome
    problem: RunProblem | None = None  # set when status is ERROR: why this run is not a test result
    why: str = ""  # one plain-text sentence about the problem; partly the run's output: escape it when shown
    amplified: bool = False  # ran under the suite's contention (`proof.amplify`), not idle


class SuiteResult(BaseModel):
    """A suite on one revision, across its repeats."""

    suite: str
    kind: SuiteKind = "regression"
    revision: Revision
    command: str
    runs: list[SuiteRun] = Field(default_factory=list)
    amplification: str | None = None  # the contention every other run had ("2 copies in parallel, ..."), or None

    @property
    def statuses(self) -> list[RunStatus]:
        return [run.status for run in self.runs]

    @property
    def status(self) -> RunStatus:
        """The worst status across repeats (error > timeout > failed > passed)."""
        order = [RunStatus.ERROR, RunStatus.TIMEOUT, RunStatus.FAILED, RunStatus.PASSED]
        for status in order:
            if status in self.statuses:
                return status
        return RunStatus.ERROR

    @property
    def flaky(self) -> bool:
        """Repeats disagree about pass/fail (an infrastructure error is not flakiness)."""
        outcomes = {s for s in self.statuses if s != RunStatus.ERROR}
        return len(outcomes) > 1

    @property
    def duration_s(self) -> float:
        return sum(run.outcome.duration_s for run in self.runs)

    @property
    def tally(self) -> Tally:
        """Runs that gave a result, and how many of them failed (a hang counts as a failure)."""
        return _tally(self.runs)

    def tally_of(self, *, amplified: bool) -> Tally:
        """The tally of the idle runs, or of the runs under contention."""
        return _tally([run for run in self.runs if run.amplified == amplified])

    @property
    def last(self) -> SuiteRun | None:
        return self.runs[-1] if self.runs else None

    def summary(self) -> dict[str, Any]:
        """A flat view for JSON consumers and tables."""
        counts = self.runs[-1].counts if self.runs else TestCounts()
        failing = sorted({name for run in self.runs for name in run.counts.failing})
        tally = self.tally
        return {
            "status": self.status.value,
            "flaky": self.flaky,
            "runs": tally.runs,
            "failures": tally.failures,
            "failure_rate": round(tally.failures / tally.runs, 4) if tally.runs else None,
            "failure_rate_upper_95": _rounded(failure_rate_upper(tally.failures, tally.runs, 0.95)),
            "amplification": self.amplification,
            "idle": _tally_dict(self.tally_of(amplified=False)) if self.amplification else None,
            "amplified": _tally_dict(self.tally_of(amplified=True)) if self.amplification else None,
            "repeats": len(self.runs),
            "statuses": [s.value for s in self.statuses],
            "passed": counts.passed,
            "failed": counts.failed,
            "skipped": counts.skipped,
            "failing_tests": failing,
            "duration_s": round(self.duration_s, 3),
            "log_tail": self.runs[-1].outcome.log_tail if self.runs else "",
            "problems": sorted({f"{run.problem.value}: {run.why}" for run in self.runs if run.problem}),
        }


def _tally(runs: list[SuiteRun]) -> Tally:
    results = [run.status for run in runs if run.status != RunStatus.ERROR]
    return Tally(runs=len(results), failures=sum(s != RunStatus.PASSED for s in results))


def _tally_dict(tally: Tally) -> dict[str, Any]:
    return {"runs": tally.runs, "failures": tally.failures}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class SuitePair(BaseModel):
    """The same suite on base (with the PR's tests laid over it) and on head."""

    name: str
    kind: SuiteKind = "regression"
    command: str
    base: SuiteResult | None = None
    head: SuiteResult | None = None
    stopped_because: str = ""  # why no further round of repeats was run

    def race_on_base(self, confidence: float = DEFAULT_CONFIDENCE) -> bool:
        """Base fails on some runs only, head on none, and base fails significantly more often.

        That is how a race the fix removes shows: proof, not flakiness. The one
        definition the verdict, the ranks and the reproducibility answer share.
        """
        if self.base is None or self.head is None or not self.base.flaky or not self.head.tally.clean:
            return False
        return Evidence(head=self.head.tally, base=self.base.tally, confidence=confidence).significant


class ChangedFiles(BaseModel):
    """The PR's changed paths, split the way the proof needs them."""

    tests: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    manifests: list[str] = Field(default_factory=list)  # dependency manifests and lockfiles among the changes

    @property
    def all(self) -> list[str]:
        return sorted(set(self.tests) | set(self.sources))


class ClaimRun(BaseModel):
    """A command the PR body's Test plan claims to run, as the bot ran it on head."""

    command: str
    status: RunStatus | None = None  # None: not run (see `skipped`)
    counts: TestCounts = Field(default_factory=TestCounts)
    outcome: SandboxOutcome | None = None
    skipped: str = ""  # why the bot did not run it ("needs network", "over the limit of 5")


class Proof(BaseModel):
    """Everything the proof engine established about one head."""

    verdict: Verdict
    reason: str  # one markdown sentence a contributor can act on (untrusted parts in code spans)
    head_sha: str = ""
    base_sha: str = ""  # the tip of the base branch
    merge_base_sha: str = ""  # what "base" means in every base run
    changed: ChangedFiles = Field(default_factory=ChangedFiles)
    suites: list[SuitePair] = Field(default_factory=list)
    overlaid: list[str] = Field(default_factory=list)  # files laid over base from head
    notes: list[str] = Field(default_factory=list)  # markdown sentences; untrusted parts are code spans
    config_source: str = "detected"  # "base:.github/reviewbot.yml", "file:PATH", "inferred", "detected"
    inferred_config: str = ""  # with no config file: the inferred one as `.github/reviewbot.yml` text
    error_cause: RunProblem | None = None  # with verdict `error`: whose problem it is
    confidence: float | None = None  # with adaptive repeats (config `proof:`): of bounds and rate tests
    threshold: float | None = None  # with adaptive repeats: head's failure-rate bound needed for rank S
    stopped_because: str = ""  # per suite, why repeating stopped
    claims: list[ClaimRun] = Field(default_factory=list)  # the PR body's Test plan, run on head
    duration_s: float = 0.0

    def to_json_dict(self) -> dict[str, Any]:
        """The machine-readable form: per-suite base/head summaries, not raw runs."""
        return {
            "verdict": self.verdict.value,
            "reason": self.reason,
            "head_sha": self.head_sha,
            "base_sha": self.base_sha,
            "merge_base_sha": self.merge_base_sha,
            "config_source": self.config_source,
            "inferred_config": self.inferred_config,
            "error_cause": self.error_cause.value if self.error_cause else None,
            "confidence": self.confidence,
            "stopped_because": self.stopped_because,
            "changed": self.changed.model_dump(),
            "overlaid": self.overlaid,
            "notes": self.notes,
            "duration_s": round(self.duration_s, 3),
            "claims": [
                {
                    "command": claim.command,
                    "status": claim.status.value if claim.status else None,
                    "passed": claim.counts.passed,
                    "failed": claim.counts.failed,
                    "skipped_tests": claim.counts.skipped,
                    "exit_code": claim.outcome.exit_code if claim.outcome else None,
                    "duration_s": round(claim.outcome.duration_s, 3) if claim.outcome else 0.0,
                    "not_run": claim.skipped,
                }
                for claim in self.claims
            ],
            "suites": [
                {
                    "name": pair.name,
                    "kind": pair.kind,
                    "command": pair.command,
                    "base": pair.base.summary() if pair.base else None,
                    "head": pair.head.summary() if pair.head else None,
                }
                for pair in self.suites
            ],
        }


class Priority(StrEnum):
    """How much a finding stands in the way of a merge: P0 blocks, P3 is a nit."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Finding(BaseModel):
    """One concern about the patch, anchored to a line a maintainer can click."""

    rule: str  # stable id, e.g. "release-not-guaranteed"
    priority: Priority
    path: str
    line: int  # line in the head version of the file
    title: str
    why: str  # why it matters for a lock
    suggestion: str  # a concrete change
    source: str = "lock-scan"  # "lock-scan" or "model"


class RelatedPerson(BaseModel):
    """Someone who last wrote lines this PR touches: a likely reviewer. Name only, never an email."""

    name: str
    lines: int  # touched lines (on the merge-base) they last changed
    last_commit: str  # full SHA of their most recent commit among those lines
    last_date: str  # its author date, ISO 8601 (YYYY-MM-DD)


class PullRequest(BaseModel):
    """What the review needs to know about the PR itself (from GitHub, or the CLI's flags)."""

    repo: str = "local/repository"  # "owner/name": seeds the PR egg
    number: int = 0
    title: str = ""
    body: str = ""
    author: str = ""
    url: str = ""


class Permission(StrEnum):
    """A collaborator's role on a repository, GitHub's five levels plus none."""

    ADMIN = "admin"
    MAINTAIN = "maintain"
    WRITE = "write"
    TRIAGE = "triage"
    READ = "read"
    NONE = "none"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: Permission) -> bool:
        return self.rank >= other.rank


_RANKS = {
    level: rank
    for rank, level in enumerate(
        (Permission.NONE, Permission.READ, Permission.TRIAGE, Permission.WRITE, Permission.MAINTAIN, Permission.ADMIN)
    )
}


@dataclass(frozen=True)
class Check:
    """A check run or commit status on a head, normalised: "success", "failure" or "pending"."""

    name: str
    state: str
