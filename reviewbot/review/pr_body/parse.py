"""The entry point: bound and clean the text, walk it once, and assemble the `PrBody`."""

from __future__ import annotations

import re

from reviewbot.review.pr_body.blocks import parse_tokens, read_blocks
from reviewbot.review.pr_body.collect import collect_claims
from reviewbot.review.pr_body.headings import PROOF_KEYS
from reviewbot.review.pr_body.media import all_media
from reviewbot.review.pr_body.records import MAX_BODY_CHARS, MAX_COMMANDS, MAX_RESULTS, ClaimedResult, PrBody
from reviewbot.review.pr_body.regions import place, section_texts
from reviewbot.review.pr_body.reproduced import reproduction_claim

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)


def _unique(items: list[str], limit: int) -> list[str]:
    return list(dict.fromkeys(items))[:limit]


def _unique_results(results: list[ClaimedResult]) -> list[ClaimedResult]:
    seen: dict[tuple[str, str | None], ClaimedResult] = {}
    for result in results:
        seen.setdefault((result.text, result.command), result)
    return list(seen.values())[:MAX_RESULTS]


def _prepare(body: str | None) -> tuple[str, bool]:
    """Bounded, well-formed text: cut to MAX_BODY_CHARS, LF only, comments gone."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str):
        body = ""
    truncated = len(body) > MAX_BODY_CHARS
    text = body[:MAX_BODY_CHARS].encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    return _HTML_COMMENT.sub("", text), truncated


def parse_pr_body(body: str | None) -> PrBody:
    """Read a PR description into the claims the review checks against its own runs."""
    text, truncated = _prepare(body)
    tokens = parse_tokens(text)
    placed, regions = place(read_blocks(tokens))
    claims = collect_claims(placed)
    commands = [c for key in (*PROOF_KEYS, "other") for c in claims.buckets[key]]
    return PrBody(
        sections=section_texts(regions, text),
        commands=_unique(commands, MAX_COMMANDS),
        results=_unique_results(claims.results),
        media=all_media(tokens),
        claims_reproduced=reproduction_claim(claims.prose),
        truncated=truncated,
    )
