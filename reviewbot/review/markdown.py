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
import re

ZERO_WIDTH = "\u200b"


def _defuse_marker(text: str) -> str:
    return text.replace("<!--", f"<{ZERO_WIDTH}!--")


# Escaped wherever they are: code, emphasis, links and images (`(`, `)` and `!` only act after
# a bracket, so escaping brackets is enough), table cells, strikethrough.
_ACTIVE = re.compile(r"[\\`*\[\]|~]")
_ACTIVE_PROSE = re.compile(r"[\\`\[\]|~]")  # contributor prose keeps its *emphasis*
_WORD_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # snake_case never emphasises
# What would start a heading, a list item or a rule if the text began a line (`#2`, `-1`, `0.5 s` would not).
_BLOCK_START = re.compile(r"^([ \t]*)(#{1,6}(?=[ \t]|$)|[-+](?=[ \t]|$)|-{3,}|[0-9]{1,9}(?=[.)](?:[ \t]|$)))")


def escape_inline(text: str, *, emphasis: bool = False) -> str:
    """Neutralise markdown, HTML and @mentions in untrusted one-line text.

    Only characters that would change the rendering are escaped, so the raw text (in email
    notifications and the API) reads as written: `(no model)`, `fix(lock)`, `#2` stay as they
    are. `emphasis=True` lets a contributor's `*older*` render as emphasis in quoted prose.
    """
    text = html.escape(text.replace("\r", " ").replace("\n", " "), quote=False)
    text = (_ACTIVE_PROSE if emphasis else _ACTIVE).sub(lambda m: "\\" + m.group(), text)
    if not emphasis:
        text = _WORD_EDGE_UNDERSCORE.sub(r"\\_", text)
    text = _BLOCK_START.sub(
        lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2).isdigit() else m.group(1) + m.group(2) + "\\",
        text,
        count=1,
    )
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
