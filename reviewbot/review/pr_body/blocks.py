"""The body as markdown-it tokens, then as headings, prose lines and code blocks outside quotes.

Walking tokens instead of scraping with regexes means a `## Heading` inside a code
fence is not a heading and a backtick span is code. Text inside block quotes is
someone else's words (usually the issue reporter), so nothing is taken from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from reviewbot.review.pr_body.headings import PSEUDO_LEVEL, section_key
from reviewbot.review.pr_body.records import collapse

_MD = MarkdownIt("commonmark")


def parse_tokens(text: str) -> list[Token]:
    try:
        return _MD.parse(text)
    except Exception:  # noqa: BLE001 - a parser bug must not take the review down
        return []


def unquoted(tokens: list[Token]) -> Iterator[tuple[Token, bool]]:
    """Tokens outside block quotes, each with whether it sits in a list item."""
    quotes = items = 0
    for tok in tokens:
        if tok.type in ("blockquote_open", "blockquote_close"):
            quotes = max(0, quotes + (1 if tok.type.endswith("open") else -1))
        elif tok.type in ("list_item_open", "list_item_close"):
            items = max(0, items + (1 if tok.type.endswith("open") else -1))
        elif quotes == 0:
            yield tok, items > 0


def split_lines(children: list[Token]) -> list[list[Token]]:
    """Inline tokens split at line breaks: "the same line" for commands and results."""
    lines: list[list[Token]] = [[]]
    for tok in children:
        if tok.type in ("softbreak", "hardbreak"):
            lines.append([])
        else:
            lines[-1].append(tok)
    return lines


def render(line: list[Token]) -> str:
    """The line's text: code keeps its backticks, emphasis markers and link targets go."""
    parts: list[str] = []
    for tok in line:
        if tok.type in ("text", "html_inline"):
            parts.append(tok.content)
        elif tok.type == "code_inline":
            parts.append(f"{tok.markup}{tok.content}{tok.markup}")
        elif tok.type == "image":
            parts.append(render(tok.children or []))
    return "".join(parts)


def visible(line: list[Token]) -> list[Token]:
    return [tok for tok in line if tok.type != "text" or tok.content.strip()]


def _pseudo_heading(line: list[Token]) -> str | None:
    """`**Test plan**`, `**Test plan:**` or `Test plan:` alone on a line, if a known section."""
    toks = visible(line)
    if toks and toks[-1].type == "text" and toks[-1].content.strip() == ":":
        toks = toks[:-1]
    opens = [tok for tok in toks if tok.type == "strong_open"]
    if len(toks) >= 3 and toks[0].type == "strong_open" and toks[-1].type == "strong_close" and len(opens) == 1:
        return section_key(render(toks))
    text = render(toks).strip()
    if toks and all(tok.type == "text" for tok in toks) and text.endswith(":"):
        return section_key(text[:-1])
    return None


@dataclass
class Heading:
    line: int  # first line of the heading itself
    body: int  # first line of the section's text
    level: int  # 1-6, or PSEUDO_LEVEL
    key: str | None


@dataclass
class Prose:
    text: str  # one rendered line of a paragraph / list item
    codes: list[str]  # inline code spans on that line
    in_list: bool


@dataclass
class Code:
    info: str  # first word of the fence's info string, lower-cased
    lines: list[str]


Block = Heading | Prose | Code


def _inline_blocks(tok: Token, in_list: bool) -> list[Block]:
    start = tok.map[0] if tok.map else 0
    out: list[Block] = []
    for index, line in enumerate(split_lines(tok.children or [])):
        key = None if in_list else _pseudo_heading(line)
        if key is not None:
            out.append(Heading(start + index, start + index + 1, PSEUDO_LEVEL, key))
        elif visible(line):
            codes = [t.content for t in line if t.type == "code_inline"]
            out.append(Prose(collapse(render(line)), codes, in_list))
    return out


def _code_info(tok: Token) -> str:
    words = tok.info.strip().lower().split()
    return words[0] if words else ""


def read_blocks(tokens: list[Token]) -> list[Block]:
    """The unquoted document as headings, prose lines and code blocks, in order."""
    out: list[Block] = []
    heading: Token | None = None
    for tok, in_list in unquoted(tokens):
        if tok.type == "heading_open":
            heading = tok
        elif tok.type == "inline" and heading is not None:
            line, body = heading.map if heading.map else (0, 0)
            out.append(Heading(line, body, int(heading.tag[1:] or 1), section_key(tok.content)))
            heading = None
        elif tok.type == "inline":
            out.extend(_inline_blocks(tok, in_list))
        elif tok.type in ("fence", "code_block"):
            out.append(Code(_code_info(tok), tok.content.split("\n")))
    return out
