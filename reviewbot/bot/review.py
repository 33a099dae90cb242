"""The review behaviour: prove a PR head, read its patch and history, decide, and render.

The only place that sequences the proof engine (I/O) and the review core
(pure). The service's worker and `reviewbot review` both come through here,
so a local review and a published one are the same review.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

from reviewbot import __version__
from reviewbot.model import Proof, PullRequest, RelatedPerson, Verdict
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.proof.people import related_people
from reviewbot.proof.workspace import WorkspaceError
from reviewbot.review.build import Review, ReviewInput, build_review
from reviewbot.review.markdown import code_span
from reviewbot.review.markers import Marker
from reviewbot.review.pr_body import parse_pr_body

MAX_DIFF_BYTES = 4 * 1024 * 1024  # the lock scan reads at most this much of a patch
ENGINE = f"reviewbot {__version__} · deterministic review (no model)"


def review_pull_request(
    engine: ProofEngine,
    request: ProofRequest,
    pr: PullRequest,
    previous: Marker | None = None,
    cancel: threading.Event | None = None,
    now: datetime | None = None,
) -> Review:
    """Run the proof (with the PR body's claimed commands) and build the review of its head."""
    claimed = tuple(parse_pr_body(pr.body).commands)
    proof = engine.prove(replace(request, claimed_commands=claimed), cancel)
    diff, people = _patch_facts(engine, request, proof)
    reviewed_at = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return build_review(ReviewInput(pr=pr, proof=proof, diff=diff, reviewed_at=reviewed_at,
                                    people=tuple(people), previous=previous, engine=ENGINE))


def _patch_facts(engine: ProofEngine, request: ProofRequest, proof: Proof) -> tuple[str, list[RelatedPerson]]:
    """The PR's diff and who last wrote the lines it touches; nothing when the proof never got that far."""
    if proof.verdict == Verdict.ERROR and not proof.head_sha:
        return "", []
    mirror = engine.workspace.mirror(request.source, request.mirror_key)
    try:
        diff = mirror.diff(proof.merge_base_sha, proof.head_sha)
    except WorkspaceError as exc:
        proof.notes.append(f"The lock scan was skipped: {code_span(str(exc))}")
        return "", []
    if len(diff) > MAX_DIFF_BYTES:
        proof.notes.append(f"The patch is larger than {MAX_DIFF_BYTES // (1024 * 1024)} MiB; "
                           "the lock scan read its first part only.")
        diff = diff[:MAX_DIFF_BYTES].rsplit("\ndiff --git ", 1)[0]
    people = related_people(mirror.path, proof.merge_base_sha, proof.head_sha)
    return diff, people
