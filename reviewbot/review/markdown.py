"""Markdown primitives for untrusted text: every string from a PR, a test run or a model goes through one.

Three ways to show such text, each unable to break out of where it is put:

* `escape_inline` - prose in a sentence or table cell: HTML and markdown
  neutralised, no line breaks, no `@mention` pings (code never pings);
* `code_span` - a name or command in backticks longer than any run inside it;
* `fence` - a block (log tails) in a fence longer than any inside it.

All three also defuse `<!--`, so text copied from a PR can never forge the
hidden markers that carry the bot's machine state.
"""

from __future__ import annotations

import html

ZERO_WIDTH = "\u200b"


def _defuse_marker(text: str) -> str:
    return text.replace("<!--", f"<{ZERO_WIDTH}!--")


def escape_inline(text: str) -> str:
    """Neutralise markdown, HTML and @mentions in untrusted one-line text."""
    text = html.escape(text.replace("\r", " ").replace("\n", " "), quote=False)
    for char in "\\`*_{}[]()#+!|~":
        text = text.replace(char, "\\" + char)
    return text.replace("@", f"@{ZERO_WIDTH}")


def code_span(text: str, in_table: bool = False) -> str:
    """Inline code for untrusted text: backslash escapes do not apply inside, so pick a longer fence.

    In a table cell a `|` would still end the cell, so there it is escaped (GFM shows `\\|` as `|`).
    """
    text = _defuse_marker(text.replace("\r", " ").replace("\n", " "))
    if in_table:
        text = text.replace("|", "\\|")
    run = 1
    while "`" * run in text:
        run += 1
    ticks = "`" * run
    if not text:
        return "` `"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str, lang: str = "text") -> str:
    """A code fence longer than any backtick run inside the text, so it cannot be closed early."""
    text = _defuse_marker(text)
    run = 3
    while "`" * run in text:
        run += 1
    ticks = "`" * run
    return f"{ticks}{lang}\n{text}\n{ticks}"
