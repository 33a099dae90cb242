"""Code shape without a parser: what a rule can see of one hunk of Python or JS/TS.

A diff hunk is a fragment - unbalanced braces, a function whose head is cut off -
so no real parser applies. This module reads just enough shape from it: Python
blocks from indentation, JS/TS blocks from brace depth (strings and trailing
comments blanked first), function extents, enclosing block headers and call
arguments. Every walk is bounded (LOOKAHEAD/LOOKBEHIND) so the work per line is
too. Each answer is "as far as the hunk shows"; the rules stay quiet when it is
not enough.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from reviewbot.review.diff import Language, Line
from reviewbot.review.lock_scan.patterns import LOCKISH

LOOKAHEAD = 12  # lines after a trigger a rule may look at (still inside the hunk)
LOOKBEHIND = 60  # how far back a rule looks for the acquire or the enclosing block (bounds the work per line)
MAX_LINE = 400  # longer lines are minified or generated code: nothing a reviewer would anchor on


@dataclass(frozen=True)
class Window:
    """One hunk of one scanned file: what a rule can see."""

    path: str
    lang: Language
    lines: list[Line]
    section: str = ""
    cache: dict[str, list[tuple[tuple[str, str], ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )  # per-hunk derived facts


def added_lines(w: Window) -> Iterator[tuple[int, Line]]:
    for i, line in enumerate(w.lines):
        if line.added and not is_comment(line.text) and len(line.text) <= MAX_LINE:
            yield i, line


def texts(w: Window, start: int, stop: int) -> str:
    return "\n".join(line.text for line in w.lines[start:stop] if not is_comment(line.text))


def is_comment(text: str) -> bool:
    return text.lstrip().startswith(("//", "#", "*", "/*"))


def indent(text: str) -> int:
    return len(text.expandtabs(4)) - len(text.expandtabs(4).lstrip())


def is_blank(text: str) -> bool:
    return not text.strip() or is_comment(text)


_JS_DEF = re.compile(
    r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\b"
    r"|^\s*(?:(?:public|private|protected|static|async|override|readonly)\s+)*(?!(?:if|for|while|switch|catch|return|await)\b)[\w$]+\s*\([^)]*\)\s*(?::[^={]*)?\{\s*$"
    r"|^\s*(?:export\s+)?(?:const|let|var)\s+[\w$]+\s*=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]*)?=>)"
    r"|^\s*[\w$]+\??\s*\([^)]*\)\s*:\s*[^;{]+;\s*$"
)


def is_definition(text: str, lang: Language) -> bool:
    if lang == "python":
        return bool(re.match(r"\s*(?:async\s+)?def\s", text))
    return bool(_JS_DEF.search(text))


def call_args(w: Window, i: int, paren: int) -> str | None:
    """The argument text of the call whose '(' is at `paren` on line i, across lines; None if cut off by the hunk."""
    depth = 0
    out: list[str] = []
    for k, line in enumerate(w.lines[i : i + 8]):
        text = line.text[paren:] if k == 0 else line.text
        for char in text:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                return "".join(out)[1:]
            out.append(char)
        out.append("\n")
    return None


def function_lines(w: Window, i: int) -> set[int]:
    """Indexes of lines that (as far as the hunk shows) belong to the same function as line i."""
    before = set()
    for j in range(i - 1, max(-1, i - 1 - LOOKBEHIND), -1):
        text = w.lines[j].text
        if is_definition(text, w.lang) and indent(text) < indent(w.lines[i].text):
            break
        before.add(j)
    return before | {i} | set(same_function(w, i))


def same_function(w: Window, i: int) -> list[int]:
    """Indexes after line i, up to the end of its enclosing block or function as far as the hunk shows."""
    out: list[int] = []
    if w.lang == "python":
        base = indent(w.lines[i].text)
        for j in range(i + 1, min(len(w.lines), i + 1 + LOOKAHEAD * 3)):
            text = w.lines[j].text
            if is_blank(text):
                continue
            if indent(text) < base and not re.match(r"\s*(?:finally|except|else|elif)\b", text):
                if (indent(text) < base and re.match(r"\s*(?:async\s+)?(?:def|class)\s", text)) or indent(text) == 0:
                    break
                base = indent(text)
            out.append(j)
        return out
    depth = brace_delta(w.lines[i].text)
    for j in range(i + 1, min(len(w.lines), i + 1 + LOOKAHEAD * 3)):
        text = w.lines[j].text
        stripped = strip_js(text).strip()
        depth += brace_delta(text)
        if (
            depth < 0
            and not re.match(r"\}\s*(?:finally|catch|else)\b", stripped)
            and (depth < -1 or _closes_function(w, j))
        ):
            break
        out.append(j)
    return out


def _closes_function(w: Window, j: int) -> bool:
    """A closing brace whose line is followed by a new definition (or nothing): the function ended."""
    for k in range(j + 1, len(w.lines)):
        if not is_blank(w.lines[k].text):
            return is_definition(w.lines[k].text, w.lang) or indent(w.lines[k].text) <= indent(w.lines[j].text) - 2
    return True


def blank_strings(text: str) -> str:
    """The line with string contents blanked (same length), so `"lock.acquire()"` in a message is not a call."""
    return re.sub(
        r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`",
        lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1],
        text,
    )


def strip_js(text: str) -> str:
    """Code without string contents and trailing comments, so braces in strings don't count."""
    text = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`", "''", text)
    return re.sub(r"//.*$", "", text)


def brace_delta(text: str) -> int:
    code = strip_js(text)
    return code.count("{") - code.count("}")


def js_blocks(w: Window, i: int, column: int | None = None) -> list[tuple[str, str]]:
    """The blocks enclosing line i (up to `column`): (kind, text before the brace), outermost first."""
    if "blocks" not in w.cache:  # the stack at the start of every line, computed once per hunk
        starts: list[tuple[tuple[str, str], ...]] = []
        stack: list[tuple[str, str]] = []
        for j in range(len(w.lines)):
            starts.append(tuple(stack))
            stack = _push_braces(w, j, list(stack), None)
        w.cache["blocks"] = starts
    return _push_braces(w, i, list(w.cache["blocks"][i]), column)


def _push_braces(w: Window, j: int, stack: list[tuple[str, str]], column: int | None) -> list[tuple[str, str]]:
    text = strip_js(w.lines[j].text if column is None else w.lines[j].text[:column])
    start = 0
    for k, char in enumerate(text):
        if char == "{":
            prefix = text[start:k]
            if j > 0 and not prefix.strip():
                prefix = strip_js(w.lines[j - 1].text)  # `finally\n{` style
            stack.append((_block_kind(prefix), prefix))
            start = k + 1
        elif char == "}":
            if stack:
                stack.pop()
            start = k + 1
        elif char == ";":
            start = k + 1
    return stack


def _block_kind(prefix: str) -> str:
    stripped = prefix.strip()
    if re.search(r"\bfinally\s*$", stripped):
        return "finally"
    if re.search(r"\bcatch\s*(?:\([^)]*\))?\s*$", stripped):
        return "catch"
    if re.search(r"\btry\s*$", stripped):
        return "try"
    if LOCKISH.LOCK_CALLBACK.search(prefix) and re.search(r"(?:=>|\))\s*$", stripped):
        return "lock"
    if re.search(r"=>\s*$|\bfunction\b[^{]*\)\s*$", stripped):
        return "function"
    return "block"


def py_headers(w: Window, i: int) -> list[str]:
    """Block headers enclosing line i (innermost first), read from indentation."""
    return [w.lines[j].text.strip() for j in py_header_indexes(w, i)]


def py_header_indexes(w: Window, i: int) -> list[int]:
    out: list[int] = []
    level = indent(w.lines[i].text)
    if level == 0:
        return out
    for j in range(i - 1, max(-1, i - 1 - 4 * LOOKBEHIND), -1):
        text = w.lines[j].text
        if is_blank(text) or indent(text) >= level:
            continue
        level = indent(text)
        out.append(j)
        if level == 0:
            break
    return out
