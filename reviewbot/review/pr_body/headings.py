"""Which section a heading names: "## Testing", "**Test plan:**" and "How was this tested?" are one key."""

from __future__ import annotations

import re

from reviewbot.review.pr_body.records import MAX_HEADING_CHARS

_ALIASES: dict[str, tuple[str, ...]] = {
    "summary": ("summary", "description", "what", "what changed", "changes", "why"),
    "real_behavior_proof": (
        "real behavior proof",
        "real behaviour proof",
        "proof",
        "evidence",
        "before/after",
        "before and after",
        "reproduction",
        "repro",
        "how to reproduce",
        "screenshots",
        "demo",
    ),
    "test_plan": (
        "test plan",
        "testing",
        "tests",
        "how to test",
        "how was this tested",
        "verification",
        "validation",
    ),
    "not_tested": (
        "what was not tested",
        "not tested",
        "untested",
        "limitations",
        "what is not tested",
        "what's not tested",
    ),
    "risk": ("risk", "risks", "risk assessment", "rollback"),
}
PROOF_KEYS = ("test_plan", "real_behavior_proof")
PSEUDO_LEVEL = 7  # deeper than any real heading: any heading ends a pseudo-heading's section


def _normalize_heading(text: str) -> str:
    """Lower-case words only: emoji, punctuation, markup and "(notes)" don't matter."""
    if len(text) > MAX_HEADING_CHARS:  # no section name is this long; keeps the regexes linear
        return ""
    text = re.sub(r"\([^)]*\)", " ", text.lower()).replace("&", " and ")
    text = re.sub(r"['\u2019]", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_HEADING_KEYS = {_normalize_heading(a): key for key, aliases in _ALIASES.items() for a in aliases}


def section_key(heading: str) -> str | None:
    return _HEADING_KEYS.get(_normalize_heading(heading))
