"""What a model may answer, and what the review keeps of it.

Pure. The model is asked for one JSON object (`ModelResponse`); the same
pydantic model gives the JSON schema sent to the server and validates what
comes back, so the two cannot drift. What survives validation becomes a
`ModelAssessment`: the model's answers for the review details and its findings,
merged with the lock scan's (a concern the scan already reported is not said twice).

Model findings are advisory by design: they are shown, never fed to ranks,
outcome, labels or the merge gate. A model reads untrusted PR text, so a
prompt-injected "all clear" must not unblock anything, and an injected "P0"
must not block anything either; the proof and the lock scan decide.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reviewbot.model import Finding, Priority

MAX_MODEL_FINDINGS = 10
MAX_EARLIER = 20
MAX_ANSWER_CHARS = 3000
MAX_FIELD_CHARS = 600
NEAR_LINES = 3  # two findings this close in one file may be the same concern
MODEL_RULE = "model"

AssessmentStatus = Literal["ok", "degraded"]


def _cut(value: Any, limit: int) -> Any:
    """Over-long text is trimmed, not refused: a verbose model still gives a usable answer."""
    if isinstance(value, str):
        value = value.strip()
        return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
    return value


class _Answer(BaseModel):
    # The schema sent to the server forbids extra keys; validation ignores them (small models add some).
    model_config = ConfigDict(extra="ignore", json_schema_extra={"additionalProperties": False})


class ModelFinding(_Answer):
    path: str
    line: int
    priority: Literal["P0", "P1", "P2", "P3"]
    title: str
    why: str
    suggestion: str

    @field_validator("priority", mode="before")
    @classmethod
    def _priority(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().upper()
            return {"CRITICAL": "P0", "HIGH": "P1", "MEDIUM": "P2", "LOW": "P3"}.get(value, value)
        return value

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        return _cut(value, 200)

    @field_validator("why", "suggestion", mode="before")
    @classmethod
    def _prose(cls, value: Any) -> Any:
        return _cut(value, MAX_FIELD_CHARS)


class EarlierCheck(_Answer):
    concern: str  # an earlier finding, in the model's words
    status: Literal["resolved", "still_present", "unclear"]
    note: str

    @field_validator("concern", "note", mode="before")
    @classmethod
    def _prose(cls, value: Any) -> Any:
        return _cut(value, MAX_FIELD_CHARS)


class ModelResponse(_Answer):
    """The one JSON object the model answers with (every key required: strict json_schema mode)."""

    best_solution: str = Field(description="The best possible fix for this locking bug, concretely.")
    reproduce: str = Field(description="Can the bug be reproduced from what the PR and the proof show, and how.")
    best_way: str = Field(description="Is this patch the best way to solve the issue? If not, what is better.")
    findings: list[ModelFinding] = Field(description="Concerns in the changed code the lock scan did not report.")
    earlier: list[EarlierCheck] = Field(description="Re-review only: each earlier finding, checked on this head.")

    @field_validator("best_solution", "reproduce", "best_way", mode="before")
    @classmethod
    def _answer(cls, value: Any) -> Any:
        return _cut(value, MAX_ANSWER_CHARS)


def response_schema() -> dict[str, Any]:
    """The JSON schema for `response_format`, strict-mode friendly (all keys required, no extras)."""
    return ModelResponse.model_json_schema()


class ModelAssessment(BaseModel):
    """What the review keeps from the model: shown in the comment, never a gate."""

    model: str  # the model's name (configured or served; never a file path), "" when the server was never asked
    status: AssessmentStatus
    note: str = ""  # markdown sentence for the comment: why the model is missing (degraded), or ""
    best_solution: str = ""
    reproduce: str = ""
    best_way: str = ""
    findings: list[Finding] = Field(default_factory=list)  # source="model", checkable, not already found by the scan
    agreed: list[str] = Field(default_factory=list)  # "path:line" of scan findings the model also reported
    disputed: list[str] = Field(default_factory=list)  # "path:line" of scan findings it contradicted (dropped)
    dropped: int = 0  # model findings left out: not at a changed line, duplicates, disputes, over the cap
    withheld: list[str] = Field(default_factory=list)  # model statements dropped for contradicting the proof: why
    earlier: list[EarlierCheck] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)  # the context sections sent, in priority order
    left_out: list[str] = Field(default_factory=list)  # what the bound cut ("diff: 3 hunks", ...)
    mode: str = ""  # "json_schema" or "json_object": what the server accepted

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def advised(self) -> bool:
        """The model said something the review shows: an empty answer is "no advice", not a success."""
        return self.ok and bool(
            self.best_solution or self.reproduce or self.best_way or self.findings or self.earlier or self.agreed
        )


def degraded(model: str, note: str) -> ModelAssessment:
    """The deterministic review stands alone; `note` says why, visibly."""
    return ModelAssessment(model=model, status="degraded", note=note)


Lines = dict[str, list[tuple[int, int]]]


def assess(
    response: ModelResponse,
    scan: list[Finding],
    changed: Lines,
    model: str,
    context: Sequence[str] = (),
    left_out: Sequence[str] = (),
    mode: str = "",
    rereview: bool = False,
    reproducible: str = "",
    outcome: str = "",
) -> ModelAssessment:
    """Turn a validated response into what the review shows, keeping only what can be checked.

    Findings must name a changed line at head (`changed`: each file's hunk ranges). A
    statement that contradicts what the proof observed is dropped with a note:
    `reproducible` is the proof's own answer ("yes", "no", ...), `outcome` the rules'
    outcome ("blocked", ...). "Earlier findings" are kept only on a re-review: a first
    review has none, whatever the model says.
    """
    findings, agreed, disputed, dropped = merge_findings(scan, [_to_finding(f) for f in response.findings], changed)
    withheld: list[str] = []
    reproduce, best_way = response.reproduce, response.best_way
    if reproduce and contradicts_reproducibility(reproduce, reproducible):
        withheld.append(
            f"its reproducibility reading was dropped: it contradicts what the proof observed "
            f"(reproducible: {reproducible})"
        )
        reproduce = ""
    if best_way and outcome == "blocked" and endorses_patch(best_way):
        withheld.append("its view that this patch is the best way was dropped: the rules blocked this PR")
        best_way = ""
    return ModelAssessment(
        model=model,
        status="ok",
        best_solution=response.best_solution,
        reproduce=reproduce,
        best_way=best_way,
        findings=findings,
        agreed=agreed,
        disputed=disputed,
        dropped=dropped,
        withheld=withheld,
        earlier=response.earlier[:MAX_EARLIER] if rereview else [],
        context=list(context),
        left_out=list(left_out),
        mode=mode,
    )


def _to_finding(answer: ModelFinding) -> Finding:
    return Finding(
        rule=MODEL_RULE,
        priority=Priority(answer.priority),
        path=answer.path.strip().removeprefix("./"),
        line=answer.line,
        title=answer.title,
        why=answer.why,
        suggestion=answer.suggestion,
        source="model",
    )


def at_changed_line(finding: Finding, changed: Lines) -> bool:
    """The finding names a line that exists at head inside a changed hunk: a place a person can check."""
    return any(first <= finding.line <= last for first, last in changed.get(finding.path, ()))


def merge_findings(
    scan: list[Finding], proposed: list[Finding], changed: Lines
) -> tuple[list[Finding], list[str], list[str], int]:
    """The model's findings that add something: (new findings, agreed, disputed, dropped count).

    A model finding is kept only when it points at a changed line at head and is not the
    same concern as a scan finding or an earlier model finding. At a scan finding's place
    (same file, within `NEAR_LINES`) on the same concept, the model either makes the same
    claim (agreement: it names a problem, at about the same priority) or not (a dispute:
    it calls the code fine, or ranks it far apart); either way the scan's finding stands
    and the model's is dropped. Kept findings are ordered most serious first and capped.
    """
    kept: list[Finding] = []
    agreed: list[str] = []
    disputed: list[str] = []
    dropped = 0
    for finding in proposed:
        if not at_changed_line(finding, changed):
            dropped += 1
            continue
        twin = next((f for f in scan if same_concern(f, finding)), None)
        if twin is not None:
            where = f"{twin.path}:{twin.line}"
            target = agreed if same_claim(twin, finding) else disputed
            if where not in target:
                target.append(where)
            dropped += 1
            continue
        if any(same_concern(f, finding) for f in kept):
            dropped += 1
            continue
        kept.append(finding)
    kept.sort(key=lambda f: (f.priority.value, f.path, f.line))
    dropped += max(0, len(kept) - MAX_MODEL_FINDINGS)
    return kept[:MAX_MODEL_FINDINGS], [a for a in agreed if a not in disputed], disputed, dropped


# --- what contradicts the observed proof or the scan --------------------------------------------

_ASSURANCE = re.compile(
    r"\b(correctly|properly|safely|is (?:now |already )?(?:correct|fine|safe|guaranteed|handled|released)"
    r"|no (?:issue|problem|bug|leak|risk|deadlock|concern)s?\b|not an? (?:issue|problem|bug|concern|risk)"
    r"|looks (?:good|fine|correct)|well[- ]handled|nothing to (?:fix|change))",
    re.IGNORECASE,
)
_DENIES_REPRO = re.compile(
    r"^\s*(no\b|not\b|cannot\b|can't\b|unclear\b)|\b(not|never|cannot|can't|could not|couldn't|unable to|isn't|"
    r"is not|does not|doesn't|didn't|did not)\b[^.]{0,40}\b(reproduc\w*|shown|proven|observed|what the proof)",
    re.IGNORECASE,
)
_AFFIRMS_REPRO = re.compile(r"^\s*(yes\b|it can\b|it is reproducible|reproducible\b)", re.IGNORECASE)
_ENDORSES = re.compile(
    r"^\s*(yes\b|it is\b|this is the best\b)|\b(is|it's|it is) (?:already |indeed )?(?:the best|a good|the right|"
    r"the correct|an? (?:ideal|optimal))\b|\bbest (?:way|approach|solution)\b(?! would| is to)"
    r"|\bready to merge\b|\blooks good\b|\bno (?:further )?changes? (?:are )?needed\b",
    re.IGNORECASE,
)
_DOUBTS = re.compile(r"\b(not|isn't|no|never|but|however|instead|better|rather|should|would be)\b", re.IGNORECASE)


def says_fine(finding: Finding) -> bool:
    """The finding calls the code fine ("release is guaranteed", "no leak"): the opposite of a concern."""
    return bool(_ASSURANCE.search(f"{finding.title}. {finding.why}"))


def same_claim(scan: Finding, model: Finding) -> bool:
    """Agreement: the model names the problem the scan names, at about the same priority."""
    levels = {p: i for i, p in enumerate(Priority)}
    return not says_fine(model) and abs(levels[scan.priority] - levels[model.priority]) <= 1


def contradicts_reproducibility(text: str, observed: str) -> bool:
    """The model's reproducibility reading says the opposite of the proof's observed answer."""
    if observed == "yes":
        return bool(_DENIES_REPRO.search(text))
    if observed == "no":
        return bool(_AFFIRMS_REPRO.search(text)) and not _DENIES_REPRO.search(text)
    return False


def endorses_patch(text: str) -> bool:
    """The model calls the patch the best way (and does not qualify it): not sayable of a blocked PR."""
    return bool(_ENDORSES.search(text)) and not _DOUBTS.search(text)


# --- "the same concern": location and meaning ------------------------------------------------

# Lock concepts, each named by the words people (and models) use for it. A finding's meaning is
# the set of concepts its text names; the lock scan's rule ids map onto the same concepts.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "release": ("release", "finally", "unlock", "leak", "held forever", "never freed", "stays held"),
    "timeout": ("timeout", "deadline", "forever", "indefinitely", "hang", "blocking acquire", "unbounded wait"),
    "unbounded-work": ("await", "network", "subprocess", "fetch", "long-running", "while holding"),
    "owner": ("stale", "owner", "pid", "hostname", "age", "break the lock", "force", "steal", "expired"),
    "atomic-create": ("check-then", "toctou", "exists", "o_excl", "exclusive", "atomic", "race", "wx"),
    "unlink": ("unlink", "delete", "remove", "handle", "still open"),
    "write": ("in place", "partial", "torn", "rename", "temporary file", "written"),
    "order": ("order", "deadlock", "opposite", "nested"),
    "swallow": ("swallow", "ignored", "silently"),
    "test": ("test", "coverage", "regression"),
}
RULE_CONCEPTS: dict[str, str] = {
    "release-not-guaranteed": "release",
    "acquire-without-timeout": "timeout",
    "lock-held-across-unbounded-await": "unbounded-work",
    "force-release-without-owner-check": "owner",
    "unlink-lock-held-open": "unlink",
    "check-then-create": "atomic-create",
    "non-atomic-lock-write": "write",
    "inconsistent-lock-order": "order",
    "swallowed-release-error": "swallow",
    "lock-change-without-test": "test",
}
_WORD = re.compile(r"[a-z][a-z0-9_-]{3,}")
_STOP = frozenset({"lock", "locks", "file", "with", "that", "this", "from", "when", "without", "code", "line"})


def concepts(finding: Finding) -> set[str]:
    """The lock concepts a finding is about: its rule's, or those its title names."""
    if finding.rule in RULE_CONCEPTS:
        return {RULE_CONCEPTS[finding.rule]}
    title = finding.title.lower()
    found = {rule_concept for rule, rule_concept in RULE_CONCEPTS.items() if rule in title}
    found |= {name for name, words in CONCEPTS.items() if any(word in title for word in words)}
    return found


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - _STOP


def same_concern(a: Finding, b: Finding) -> bool:
    """Same place (file and nearby line) and same meaning (a shared concept, or mostly the same title words)."""
    if a.path != b.path or abs(a.line - b.line) > NEAR_LINES:
        return False
    if concepts(a) & concepts(b):
        return True
    wa, wb = _words(a.title), _words(b.title)
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= 0.5
