"""The PR description as facts: what the contributor *claims* they ran and saw.

The review compares these claims with what the bot observed in the sandbox, so
this package only reads; it never decides. Pure: text in, a `PrBody` out - no
I/O, no clock, no randomness, and it never raises for any string.

The markdown is walked as markdown-it tokens, not scraped with regexes, so a
`## Heading` inside a code fence is not a heading and a backtick span is code.
Text inside block quotes is someone else's words (usually the issue reporter),
so nothing is taken from it. HTML comments - PR templates are full of them -
are removed before anything else, placeholder text included. Embedded HTML is
read with the stdlib `HTMLParser` for `src`/`href` attributes only.

Layout: `records` (the returned models and caps), `blocks` (token walk into
headings, prose lines and code blocks), `headings` and `regions` (which section a
block is in), `commands`, `results`, `reproduced` and `media` (what a line or
block claims), `collect` (one pass gathering the claims) and `parse` (the entry).
"""

from reviewbot.review.pr_body.parse import parse_pr_body
from reviewbot.review.pr_body.records import (
    MAX_BODY_CHARS,
    MAX_COMMAND_CHARS,
    MAX_COMMANDS,
    MAX_HEADING_CHARS,
    MAX_LABEL,
    MAX_MEDIA,
    MAX_RESULT_TEXT,
    MAX_RESULTS,
    MAX_URL_CHARS,
    SECTION_KEYS,
    ClaimedResult,
    Media,
    MediaKind,
    PrBody,
)

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_COMMANDS",
    "MAX_COMMAND_CHARS",
    "MAX_HEADING_CHARS",
    "MAX_LABEL",
    "MAX_MEDIA",
    "MAX_RESULTS",
    "MAX_RESULT_TEXT",
    "MAX_URL_CHARS",
    "SECTION_KEYS",
    "ClaimedResult",
    "Media",
    "MediaKind",
    "PrBody",
    "parse_pr_body",
]
