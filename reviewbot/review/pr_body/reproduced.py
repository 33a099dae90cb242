"""Whether the contributor says they reproduced the bug before fixing it (or says they could not)."""

from __future__ import annotations

import re

from reviewbot.review.pr_body.records import collapse

_NOT_REPRODUCED = re.compile(
    r"\b(?:could\s*n[o']t|can\s*not|can't|unable\s+to|did\s*n[o']t|was\s*n[o']t\s+able\s+to"
    r"|not\s+able\s+to|failed\s+to|never)\s+(?:\w+\s+)?re-?produce"
    r"|(?:\bnot|n't)\s+(?:be\s+|been\s+|yet\s+)?reproduc(?:ed|ible)\b|\bno\s+repro\b"
    r"|\b(?:non|un)-?reproducible\b"
)
_FAILURE = r"\b(?:fail\w*|hang\w*|hung|deadlock\w*|time[sd]?\s*out|timeout)"
_BASE = r"(?:without\s+the\s+fix\b|on\s+(?:main|master)\b)"
_REPRODUCED = re.compile(
    r"\breproduced\b|\breproduce\s+it\b|\breproduces\b|\bfail(?:s|ed)\s+before\b|\bbefore\s+the\s+fix\b"
    rf"|\brepro:|\b{_BASE}.{{0,80}}?{_FAILURE}|{_FAILURE}\s+(?:\w+\s+){{0,3}}?{_BASE}"
)
_REPRO_TIERS: tuple[tuple[str | None, ...], ...] = (
    ("real_behavior_proof",),
    ("summary", "test_plan"),
    (None,),  # prose outside any known section, e.g. a body without headings
)


def _repro_verdict(text: str) -> bool | None:
    """False wins: "reproduced on main, could not reproduce on macOS" is not a clean claim."""
    text = collapse(text.lower().replace("\u2019", "'"))
    if _NOT_REPRODUCED.search(text):
        return False
    return True if _REPRODUCED.search(text) else None


def reproduction_claim(prose: dict[str | None, list[str]]) -> bool | None:
    for tier in _REPRO_TIERS:
        verdict = _repro_verdict(" ".join(line for key in tier for line in prose.get(key, [])))
        if verdict is not None:
            return verdict
    return None
