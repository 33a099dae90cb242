"""Comment commands: what a maintainer asks the bot with `@reviewbot <command>` in a PR comment.

Pure (stdlib, pydantic, markdown-it-py; no I/O). `parse_command(body)` returns the first
command in a comment, or None. The webhook router (`reviewbot.service.events`) and the
worker both use it, so there is one definition of "a command".

What counts as a command line
-----------------------------
* A handle (`@reviewbot`, `@reviewbot[bot]`, `/reviewbot`, or the `handles` passed in) at the
  start of a line, after at most 3 columns of indentation (a tab is 4 columns, so a tab is an
  indented code block), or starting a sentence after text on the line (after `.`, `!` or `?`
  and whitespace: "Thanks! @reviewbot re-review"), case-insensitive, optionally followed by
  `:` or `,`, then whitespace or the end of the line: `@reviewbot: status` is a command,
  `@reviewbotx` and `@reviewbot-ci` are not, and neither is a handle inside a sentence
  ("please ask @reviewbot status"). Handles are tried longest first.
* The comment is parsed as CommonMark (markdown-it-py, `commonmark` preset) and only the
  text lines of paragraphs and setext headings outside block quotes are looked at, including
  those inside list items. Nothing in fenced or indented code, block quotes (any depth, lazy
  continuation lines included), HTML blocks or HTML comments ever counts. An ATX heading
  (`# @reviewbot stop`) does not count: its line starts with `#`.
* List items count: `- @reviewbot status` and `1. @reviewbot stop` are commands (the list
  markers that open items on that line are skipped). On a continuation line of a list item
  the 3-column allowance is measured from the item's content column (a lazy continuation
  line, left of that column, from column 0).
* A line that starts inside inline markup does not count, even when its text starts with
  the handle: the second line of a code span or of an inline HTML comment that spans lines
  (`LGTM <!--` / `@reviewbot approve` / `-->`), of a link's text or title, of emphasis
  (`*a` / `@reviewbot stop*`). Inline code at the start of a line (`` `@reviewbot stop` ``)
  starts with a backtick, so it never matches.
* The first command line in document order wins, an unknown word included:
  `@reviewbot frobnicate` followed by `@reviewbot stop` is the unknown command (the bot
  answers with help rather than acting on a later line).

Command words
-------------
* `ALIASES` maps each accepted spelling to its `CommandName`. Matching is case-insensitive,
  on whitespace-separated words (so any run of spaces or tabs between the words of an alias
  is one space), longest alias first ("review again" before "review"). Trailing punctuation
  on the last word of the alias (`status.`, `stop!`, `review again:`) is ignored; punctuation
  anywhere else makes the word unknown (`review, again` is "review" with focus "again").
* `word` is the alias as matched, in lower case with single spaces ("auto merge").
  For an unknown command it is the first word after the handle, in lower case, without
  trailing punctuation (unless that would leave nothing), cut at `MAX_WORD` characters.
  A bare handle gives `word=""`. Polite words are not skipped: `@reviewbot please review`
  is the unknown word "please".
* Focus (re-review only): the rest of the command line after the command words, then every
  following line of the comment as written (line endings normalised to `\\n`), stripped;
  at most `MAX_FOCUS` characters (cut, then trailing whitespace stripped, and
  `focus_truncated` set). Other commands ignore trailing text.

Input handling
--------------
Never raises. `None` or an empty body is no command. The body is cut at `MAX_BODY`
characters before anything else; line endings are normalised the way markdown-it does it
(`\\r\\n` and a lone `\\r` both end a line; other Unicode line separators do not), NULs become
U+FFFD (in `focus` too). `line` is 1-based in that normalised text.
"""

from __future__ import annotations

import itertools
import re
import string
import unicodedata
from collections.abc import Iterator, Sequence
from enum import StrEnum

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field

MAX_BODY = 65536
MAX_FOCUS = 3000
MAX_WORD = 64


class CommandName(StrEnum):
    REREVIEW = "re-review"
    AUTOMERGE = "automerge"
    STOP = "stop"
    RESUME = "resume"  # `approve`, its first name, still works (an alias)
    STATUS = "status"
    HELP = "help"


ALIASES: dict[str, CommandName] = {
    "re-review": CommandName.REREVIEW,
    "rereview": CommandName.REREVIEW,
    "review again": CommandName.REREVIEW,
    "rerun": CommandName.REREVIEW,
    "re-run": CommandName.REREVIEW,
    "review": CommandName.REREVIEW,
    "automerge": CommandName.AUTOMERGE,
    "auto-merge": CommandName.AUTOMERGE,
    "auto merge": CommandName.AUTOMERGE,
    "merge when ready": CommandName.AUTOMERGE,
    "stop": CommandName.STOP,
    "pause": CommandName.STOP,
    "human review": CommandName.STOP,
    "resume": CommandName.RESUME,
    "approve": CommandName.RESUME,
    "status": CommandName.STATUS,
    "help": CommandName.HELP,
}

# What each command does, and an example a person would write: the help answer and the docs read these.
DESCRIPTIONS: dict[CommandName, tuple[str, str]] = {
    CommandName.REREVIEW: (
        "Reviews the current head again; text after it (and on the next lines) is focus for the reviewer.",
        "@reviewbot re-review the retry loop in acquire()",
    ),
    CommandName.AUTOMERGE: (
        "Merges the PR once its review passes and every check is green, pinned to the "
        "reviewed head; updates the branch (or opens a replacement PR) when it falls behind.",
        "@reviewbot automerge",
    ),
    CommandName.STOP: (
        "Pauses the bot on this PR and leaves it to human review (label "
        "`reviewbot:human-review`); reviews still run, nothing is merged.",
        "@reviewbot stop",
    ),
    CommandName.RESUME: (
        "Ends a pause started with `stop` (the old word `approve` still works; it is not GitHub's Approve).",
        "@reviewbot resume",
    ),
    CommandName.STATUS: ("Answers with the PR's review, proof, automerge state and next step.", "@reviewbot status"),
    CommandName.HELP: ("Answers with this list.", "@reviewbot help"),
}

DEFAULT_HANDLES: tuple[str, ...] = ("@reviewbot", "@reviewbot[bot]", "/reviewbot")


class Command(BaseModel):
    """One command from a comment."""

    model_config = ConfigDict(frozen=True)

    name: CommandName | None  # None: the handle was addressed with a word we do not know (answer with help)
    word: str  # the command words as written, lower case, single spaces; "" for a bare handle
    focus: str = ""  # re-review only: what to look at, from the rest of the comment
    focus_truncated: bool = False
    line: int = Field(ge=1)  # 1-based line of the command in the comment


def handles_for(handle: str) -> tuple[str, ...]:
    """The handles of a bot called `handle` (an App slug): "lockbot" -> @lockbot, @lockbot[bot], /lockbot.

    A leading `@` or `/` and a trailing `[bot]` are accepted and dropped; the result is lower case.
    Raises ValueError for a name that is empty or contains whitespace.
    """
    slug = handle.strip()
    if slug[:1] in ("@", "/"):
        slug = slug[1:]
    if slug.lower().endswith("[bot]"):
        slug = slug[: -len("[bot]")]
    slug = slug.lower()
    if not slug or any(ch.isspace() for ch in slug):
        raise ValueError(f"not a bot handle: {handle!r}")
    return (f"@{slug}", f"@{slug}[bot]", f"/{slug}")


def parse_command(body: str | None, handles: Sequence[str] = DEFAULT_HANDLES) -> Command | None:
    """The first command in the comment `body`, or None when it has none (see the module docstring)."""
    if not isinstance(body, str) or not body:
        return None
    folded_handles = _handles(handles)
    text = _NULS.sub("\ufffd", _NEWLINES.sub("\n", body[:MAX_BODY]))
    folded = text.casefold()
    if not folded_handles or not any(handle in folded for handle in folded_handles):
        return None
    tokens = _tokens(text)
    lines = text.split("\n")
    for first, end, items in _text_blocks(tokens, len(lines)):
        starts = [_line_start(lines, i, items) for i in range(first, end)]
        candidates: dict[int, tuple[int, int]] = {}  # line index -> (where the handle starts, its length)
        for i, start in zip(range(first, end), starts, strict=True):
            found = _find_handle(start, folded_handles) if start is not None else None
            if found is not None:
                candidates[i] = found
        if not candidates:
            continue
        inline = [
            lines[i].lstrip(" \t") if start is None else start
            for i, start in zip(range(first, end), starts, strict=True)
        ]
        for i in _top_level(inline, first, candidates):
            start = starts[i - first]
            if start is not None:  # always: only such lines are candidates
                where, length = candidates[i]
                return _command(start[where + length :], i, lines)
    return None


# --------------------------------------------------------------------------- blocks

_MD = MarkdownIt("commonmark")
_NEWLINES = re.compile(r"\r\n?")  # as markdown-it's normalize: only these end a line besides \n
_NULS = re.compile("\0")
_CONTAINERS = frozenset({"bullet_list_open", "ordered_list_open", "list_item_open"})
_TEXT_BLOCKS = frozenset({"paragraph_open", "heading_open"})
_MARKER = re.compile(r"[ \t]*(?:[-+*]|[0-9]{1,9}[.)])(?=[ \t]|$)")
_BLANKS = re.compile(r"[ \t]*")


def _tokens(text: str) -> list[Token]:
    try:
        return _MD.parse(text)
    except Exception:  # noqa: BLE001 - a parser bug must not take the webhook down: no command
        return []


def _text_blocks(tokens: list[Token], line_count: int) -> Iterator[tuple[int, int, list[Token]]]:
    """(first line, end line, enclosing list items) of each paragraph or heading's text lines
    whose only containers are lists and list items, in document order."""
    stack: list[Token] = []
    for index, tok in enumerate(tokens):
        if tok.type in _TEXT_BLOCKS and all(t.type in _CONTAINERS for t in stack):
            inline = tokens[index + 1] if index + 1 < len(tokens) else None
            where = inline.map if inline is not None and inline.type == "inline" else None
            items = [t for t in stack if t.type == "list_item_open"]
            if where and all(t.map for t in items):
                first, end = max(0, where[0]), min(line_count, where[1])
                if first < end:
                    yield first, end, items
        if tok.nesting == 1:
            stack.append(tok)
        elif tok.nesting == -1 and stack:
            stack.pop()


def _line_start(lines: list[str], i: int, items: list[Token]) -> str | None:
    """Line i from where a command could start (after list markers and indentation), or None
    when the line is indented 4 or more columns past where its block's text starts."""
    line = lines[i]
    opening = sum(1 for item in items if item.map and item.map[0] == i)
    if opening:  # the first line of one or more list items: skip their markers
        end = _skip_markers(line, opening)
        return None if end is None else line[_BLANKS.match(line, end).end() :]  # type: ignore[union-attr]
    blanks = _BLANKS.match(line).end()  # type: ignore[union-attr]
    indent = _columns(line[:blanks])
    content = _content_column(lines, items) if items else 0
    relative = indent - content if indent >= content else indent  # left of the content column: a lazy line
    return line[blanks:] if relative <= 3 else None


def _skip_markers(line: str, count: int) -> int | None:
    end = 0
    for _ in range(count):
        marker = _MARKER.match(line, end)
        if marker is None:
            return None
        end = marker.end()
    return end


def _content_column(lines: list[str], items: list[Token]) -> int:
    """The column where the text of the innermost list item starts (CommonMark's W + N rule)."""
    first = items[-1].map[0] if items[-1].map else 0
    line = lines[first] if 0 <= first < len(lines) else ""
    end = _skip_markers(line, sum(1 for item in items if item.map and item.map[0] == first)) or 0
    marker_end = _columns(line[:end])
    blanks_end = _BLANKS.match(line, end).end()  # type: ignore[union-attr]
    spaces = _columns(line[:blanks_end]) - marker_end
    if blanks_end == len(line) or spaces >= 5:
        return marker_end + 1
    return marker_end + spaces


def _columns(prefix: str) -> int:
    column = 0
    for ch in prefix:
        column = column + 4 - column % 4 if ch == "\t" else column + 1
    return column


# --------------------------------------------------------------------------- handles and inline


_SENTINEL = 0xF0000  # Supplementary Private Use Area-A: one mark per candidate line
_SENTINELS = re.compile("[\U000f0000-\U000ffffd]")
_MAX_SENTINELS = 0xFFFD


def _handles(handles: Sequence[str]) -> tuple[str, ...]:
    if isinstance(handles, str):
        handles = (handles,)
    folded = {h.strip().casefold() for h in handles if isinstance(h, str) and h.strip()}
    return tuple(sorted(folded, key=lambda h: (-len(h), h)))


_SENTENCE_END = re.compile(r"[.!?][ \t]+")


def _find_handle(start: str, handles: tuple[str, ...]) -> tuple[int, int] | None:
    """(offset, length) of the handle that starts the line or, failing that, the first sentence after
    text on it ("Thanks! @reviewbot re-review"); a handle inside a sentence ("ask @reviewbot") is talk."""
    length = _handle_at(start, handles)
    if length is not None:
        return 0, length
    for sentence in _SENTENCE_END.finditer(start):
        length = _handle_at(start[sentence.end() :], handles)
        if length is not None:
            return sentence.end(), length
    return None


def _handle_at(start: str, handles: tuple[str, ...]) -> int | None:
    """The length of the handle `start` begins with (with a `:` or `,` right after it, as people address
    someone), if whitespace or nothing follows."""
    for handle in handles:
        size = len(handle)
        if start[:size].casefold() != handle:
            continue
        if size < len(start) and start[size] in ":,":
            size += 1
        if len(start) == size or start[size].isspace():
            return size
    return None


def _top_level(inline: list[str], first: int, candidates: dict[int, tuple[int, int]]) -> Iterator[int]:
    """The candidate lines (in order) whose handle is plain text, outside code spans, inline
    HTML, links, images and emphasis: the block's text is parsed inline with a private-use
    mark before each candidate handle, and a mark counts when it opens a top-level text token
    right after a line break (a handle at the start of a line) or sits in a top-level text
    token (a handle that starts a sentence after text)."""
    marked = {i: n for n, i in enumerate(sorted(candidates)[:_MAX_SENTINELS])}
    source = []
    for offset, text in enumerate(inline):
        text = _SENTINELS.sub("\ufffd", text)
        n = marked.get(first + offset)
        where = candidates[first + offset][0] if n is not None else 0
        source.append(text if n is None else text[:where] + chr(_SENTINEL + n) + text[where:])
    try:
        children = _MD.parseInline("\n".join(source))[0].children or []
    except Exception:  # noqa: BLE001 - as in _tokens
        return
    order = sorted(marked, key=marked.__getitem__)
    found: set[int] = set()
    previous: Token | None = None
    for tok in children:
        if tok.type == "text" and tok.level == 0 and tok.content:
            at_line_start = previous is None or previous.type in ("softbreak", "hardbreak")
            for index, char in enumerate(tok.content):
                if _SENTINEL <= ord(char) < _SENTINEL + len(order):
                    line = order[ord(char) - _SENTINEL]
                    if candidates[line][0] > 0 or (index == 0 and at_line_start):
                        found.add(line)
        previous = tok
    yield from (i for i in order if i in found)


# --------------------------------------------------------------------------- words

_WORD = re.compile(r"\S+")
_ALIAS_WORDS: list[tuple[tuple[str, ...], CommandName]] = sorted(
    ((tuple(alias.split()), name) for alias, name in ALIASES.items()),
    key=lambda pair: (-len(pair[0]), -len(" ".join(pair[0]))),
)
_MOST_WORDS = max(len(words) for words, _ in _ALIAS_WORDS)


def _strip_punctuation(word: str) -> str:
    end = len(word)
    while end and (word[end - 1] in string.punctuation or unicodedata.category(word[end - 1]).startswith("P")):
        end -= 1
    return word[:end]


def _command(after: str, i: int, lines: list[str]) -> Command:
    """The command whose text after the handle is `after`, on line index i."""
    words = list(itertools.islice(_WORD.finditer(after), _MOST_WORDS))
    if not words:
        return Command(name=None, word="", line=i + 1)
    lowered = [match.group().lower() for match in words]
    for alias, name in _ALIAS_WORDS:
        size = len(alias)
        if (
            len(lowered) >= size
            and tuple(lowered[: size - 1]) == alias[:-1]
            and _strip_punctuation(lowered[size - 1]) == alias[-1]
        ):
            if name is not CommandName.REREVIEW:
                return Command(name=name, word=" ".join(alias), line=i + 1)
            focus = "\n".join([after[words[size - 1].end() :], *lines[i + 1 :]]).strip()
            truncated = len(focus) > MAX_FOCUS
            if truncated:
                focus = focus[:MAX_FOCUS].rstrip()
            return Command(name=name, word=" ".join(alias), focus=focus, focus_truncated=truncated, line=i + 1)
    unknown = _strip_punctuation(lowered[0]) or lowered[0]
    return Command(name=None, word=unknown[:MAX_WORD], line=i + 1)
