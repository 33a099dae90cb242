"""The source PR's description as a replacement PR carries it: attributed, as written, and inert.

Carried as-is (not quoted): the review reads the replacement's body like any PR's,
and it takes nothing from block quotes, so a quoted Test plan would be lost and
the replacement's own review would ask for one. Two things are made inert: the
replacement marker (only the bot may name a source PR; its own marker comes
first and is the one read) and @mentions outside code (the bot re-publishing the
text must not notify everyone it names a second time). Code is left byte for
byte, since the review runs the Test plan's commands from it.
"""

from __future__ import annotations

import re

from reviewbot.names import REPLACEMENT_MARKER_TAG
from reviewbot.review.markdown import ZERO_WIDTH, escape_inline

MAX_CARRIED = 50_000  # GitHub refuses a PR body over 65,536 characters; the bot's own lines need the rest
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MENTION = re.compile(r"(?<![\w`/.@-])@(?=[A-Za-z0-9])")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def carried_description(number: int, author: str, body: str) -> str:
    """ "From #N by @author:" and the source's description, or "" when it has none."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        return ""
    cut = len(text) > MAX_CARRIED
    text = _inert(text[:MAX_CARRIED])
    lines = [f"From #{number} by {escape_inline('@' + author)}:", "", text]
    if cut:
        lines += ["", f"(cut at {MAX_CARRIED:,} characters: the full description is on #{number})"]
    return "\n".join(lines)


def _inert(text: str) -> str:
    text = text.replace(REPLACEMENT_MARKER_TAG, REPLACEMENT_MARKER_TAG.replace(":", "-"))
    out, fence = [], ""
    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            out.append(line)
        elif opened:
            fence = opened.group(1)
            out.append(line)
        elif line.startswith(("    ", "\t")):  # an indented code block (or a continuation): left as written
            out.append(line)
        else:
            out.append(_quiet_mentions(line))
    return "\n".join(out)


def _quiet_mentions(line: str) -> str:
    """`@name` outside code spans becomes `@\u200bname`: it reads the same and notifies no one."""
    pieces, last = [], 0
    for span in _CODE_SPAN.finditer(line):
        pieces += [_MENTION.sub("@" + ZERO_WIDTH, line[last : span.start()]), span.group()]
        last = span.end()
    pieces.append(_MENTION.sub("@" + ZERO_WIDTH, line[last:]))
    return "".join(pieces)
