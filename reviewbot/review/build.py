"""The review: every pure decision about one PR head, taken once, in one place.

Facts in (the PR, its proof, its diff, who wrote the touched lines, the
previous marker), one `Review` out. The comment, the labels, the JSON output
and the hidden marker are all views of this object, so they cannot disagree.
No clock: the caller passes the review time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from reviewbot.model import Finding, Proof, PullRequest, RelatedPerson
from reviewbot.review.claims import ClaimCheck, compare_claims
from reviewbot.review.diff import parse_unified_diff
from reviewbot.review.lock_scan import scan, touches_lock_code
from reviewbot.review.markers import HistoryEntry, Marker, next_history
from reviewbot.review.model_answer import ModelAssessment
from reviewbot.review.outcome import Label, Outcome, decide_outcome, labels_for
from reviewbot.review.pr_body import PrBody, parse_pr_body
from reviewbot.review.ranks import Evidence, Rating, rate
from reviewbot.review.reproduce import Reproducibility, reproducibility
from reviewbot.review.scan_proof import agree_with_proof
from reviewbot.review.security import SecurityNote, security_notes

DETERMINISTIC_ENGINE = "reviewbot (deterministic rules, no model)"


@dataclass(frozen=True)
class ReviewInput:
    pr: PullRequest
    proof: Proof
    diff: str  # unified diff, merge-base..head
    reviewed_at: str  # ISO 8601 UTC, from the caller's clock
    people: tuple[RelatedPerson, ...] = ()
    previous: Marker | None = None  # the marker of the comment this review replaces
    engine: str = DETERMINISTIC_ENGINE
    focus: str = ""  # a maintainer's note from `@reviewbot re-review`: context, never instructions
    body: PrBody | None = None  # `pr.body` already read (the proof took its claimed commands); None: read here


class Review(BaseModel):
    pr: PullRequest
    proof: Proof
    body: PrBody
    findings: list[Finding]
    touches_lock_code: bool
    rating: Rating
    claims: list[ClaimCheck]
    reproducible: Reproducibility
    security: list[SecurityNote]
    outcome: Outcome
    labels: list[Label]
    people: list[RelatedPerson]
    history: list[HistoryEntry]  # the last cycles, this one last
    reviewed_at: str
    engine: str
    focus: str = ""
    model: ModelAssessment | None = None  # a configured model's advisory view; never an input to a decision

    @property
    def merged_findings(self) -> list[Finding]:
        """The lock scan's findings, then the model's that add something (deduplicated when assessed)."""
        return self.findings + (self.model.findings if self.model else [])

    @property
    def marker(self) -> Marker:
        return Marker(
            head=self.proof.head_sha,
            merge_base=self.proof.merge_base_sha,
            verdict=self.proof.verdict.value,
            outcome=self.outcome.kind.value,
            rank=self.rating.overall.tier.value,
            score=self.rating.score,
            labels=[label.name for label in self.labels],
            history=self.history,
        )

    def to_json_dict(self) -> dict[str, Any]:
        """`reviewbot review --format json`: the proof beside the review's decisions."""
        return {
            "proof": self.proof.to_json_dict(),
            "review": {
                "outcome": self.outcome.model_dump(mode="json"),
                "labels": [label.model_dump() for label in self.labels],
                "rating": self.rating.to_dict(),
                "findings": [
                    finding.model_dump(mode="json") for finding in self.findings
                ],  # the model's: under "model"
                "touches_lock_code": self.touches_lock_code,
                "claims": [claim.model_dump(mode="json") for claim in self.claims],
                "reproducible": self.reproducible.model_dump(),
                "pr_body": self.body.model_dump(mode="json", exclude={"sections"}),
                "security": [note.model_dump() for note in self.security],
                "related_people": [person.model_dump() for person in self.people],
                "history": [entry.model_dump() for entry in self.history],
                "reviewed_at": self.reviewed_at,
                "engine": self.engine,
                "focus": self.focus,
                "model": self.model.model_dump(mode="json") if self.model else None,
                "marker": self.marker.model_dump(mode="json"),
            },
        }


def build_review(facts: ReviewInput) -> Review:
    proof = facts.proof
    body = facts.body if facts.body is not None else parse_pr_body(facts.pr.body)
    files = parse_unified_diff(facts.diff)
    findings = agree_with_proof(scan(files, proof.changed.tests), proof)  # the proof outranks a guess
    lock_code = touches_lock_code(files, proof.changed.tests)
    evidence = Evidence(media=len(body.media), claims_reproduced=body.claims_reproduced, touches_lock_code=lock_code)
    rating = rate(facts.pr.repo, facts.pr.number, proof, evidence, findings)
    claims = compare_claims(body, proof.claims)
    security = security_notes(proof)
    outcome = decide_outcome(proof, findings, claims, rating, security)
    labels = labels_for(outcome, proof, rating, findings)
    entry = HistoryEntry(
        head=proof.head_sha[:12],
        at=facts.reviewed_at,
        verdict=proof.verdict.value,
        outcome=outcome.kind.value,
        rank=rating.overall.tier.value,
    )
    return Review(
        pr=facts.pr,
        proof=proof,
        body=body,
        findings=findings,
        touches_lock_code=lock_code,
        rating=rating,
        claims=claims,
        reproducible=reproducibility(proof, claims),
        security=security,
        outcome=outcome,
        labels=labels,
        people=list(facts.people),
        history=next_history(facts.previous, entry),
        reviewed_at=facts.reviewed_at,
        engine=facts.engine,
        focus=facts.focus,
    )
