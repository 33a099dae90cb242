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

    model: str  # the model's name, as the server was asked for it
    status: AssessmentStatus
    note: str = ""  # markdown sentence for the comment: why the model is missing (degraded), or ""
    best_solution: str = ""
    reproduce: str = ""
    best_way: str = ""
    findings: list[Finding] = Field(default_factory=list)  # source="model", not already found by the scan
    agreed: list[str] = Field(default_factory=list)  # "path:line" of scan findings the model also reported
    dropped: int = 0  # model findings left out: outside the changed files, duplicates, over the cap
    earlier: list[EarlierCheck] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)  # the context sections sent, in priority order
    left_out: list[str] = Field(default_factory=list)  # what the bound cut ("diff: 3 hunks", ...)
    mode: str = ""  # "json_schema" or "json_object": what the server accepted

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def degraded(model: str, note: str) -> ModelAssessment:
    """The deterministic review stands alone; `note` says why, visibly."""
    return ModelAssessment(model=model, status="degraded", note=note)


def assess(response: ModelResponse, scan: list[Finding], changed_paths: list[str], model: str,
           context: Sequence[str] = (), left_out: Sequence[str] = (), mode: str = "",
           rereview: bool = False) -> ModelAssessment:
    """Turn a validated response into what the review shows, merging its findings with the scan's.

    "Earlier findings" are kept only on a re-review: a first review has none, whatever the model says.
    """
    findings, agreed, dropped = merge_findings(scan, [_to_finding(f) for f in response.findings], changed_paths)
    return ModelAssessment(
        model=model, status="ok", best_solution=response.best_solution, reproduce=response.reproduce,
        best_way=response.best_way, findings=findings, agreed=agreed, dropped=dropped,
        earlier=response.earlier[:MAX_EARLIER] if rereview else [], context=list(context), left_out=list(left_out), mode=mode)


def _to_finding(answer: ModelFinding) -> Finding:
    return Finding(rule=MODEL_RULE, priority=Priority(answer.priority), path=answer.path.strip().removeprefix("./"),
                   line=answer.line, title=answer.title, why=answer.why, suggestion=answer.suggestion,
                   source="model")


def merge_findings(scan: list[Finding], proposed: list[Finding],
                   changed_paths: list[str]) -> tuple[list[Finding], list[str], int]:
    """The model's findings that add something: (new findings, scan findings it agreed with, dropped count).

    A model finding is kept only when it points at a changed file (a line a maintainer can click)
    and is not the same concern as a scan finding or an earlier model finding: same file, within
    `NEAR_LINES` lines, and the same meaning (the same lock concept, or mostly the same words).
    Kept findings are ordered most serious first and capped at `MAX_MODEL_FINDINGS`.
    """
    changed = set(changed_paths)
    kept: list[Finding] = []
    agreed: list[str] = []
    dropped = 0
    for finding in proposed:
        if finding.path not in changed or finding.line < 1:
            dropped += 1
            continue
        twin = next((f for f in scan if same_concern(f, finding)), None)
        if twin is not None:
            where = f"{twin.path}:{twin.line}"
            if where not in agreed:
                agreed.append(where)
            dropped += 1
            continue
        if any(same_concern(f, finding) for f in kept):
            dropped += 1
            continue
        kept.append(finding)
    kept.sort(key=lambda f: (f.priority.value, f.path, f.line))
    dropped += max(0, len(kept) - MAX_MODEL_FINDINGS)
    return kept[:MAX_MODEL_FINDINGS], agreed, dropped


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
