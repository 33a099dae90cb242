"""The PR description as facts: what the contributor *claims* they ran and saw.

The review compares these claims with what the bot observed in the sandbox, so
this module only reads; it never decides. Pure: text in, a `PrBody` out - no
I/O, no clock, no randomness, and it never raises for any string.

The markdown is walked as markdown-it tokens, not scraped with regexes, so a
`## Heading` inside a code fence is not a heading and a backtick span is code.
Text inside block quotes is someone else's words (usually the issue reporter),
so nothing is taken from it. HTML comments - PR templates are full of them -
are removed before anything else, placeholder text included. Embedded HTML is
read with the stdlib `HTMLParser` for `src`/`href` attributes only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import BaseModel

MAX_BODY_CHARS = 65536
MAX_COMMANDS = 20
MAX_RESULTS = 20
MAX_MEDIA = 20
MAX_COMMAND_CHARS = 500
MAX_RESULT_TEXT = 200
MAX_LABEL = 120
MAX_URL_CHARS = 2048
MAX_HEADING_CHARS = 200

SECTION_KEYS = ("summary", "real_behavior_proof", "test_plan", "not_tested", "risk")

MediaKind = Literal["image", "video", "log", "artifact"]


class Media(BaseModel):
    """A screenshot, video, log or CI artifact the contributor linked as evidence."""

    kind: MediaKind
    url: str
    label: str = ""  # alt text / link text, stripped, at most 120 chars


class ClaimedResult(BaseModel):
    """One "N passed"-style claim, tied to the command it was about when we can tell."""

    text: str  # the line, whitespace-collapsed, at most 200 chars
    passed: int | None = None
    failed: int | None = None
    total: int | None = None
    command: str | None = None  # one of the claimed commands, or None


class PrBody(BaseModel):
    """Everything the review needs from the description to compare claimed vs observed."""

    sections: dict[str, str]  # canonical key (SECTION_KEYS) -> raw markdown, stripped
    commands: list[str]  # Test plan first, then Real behavior proof, then elsewhere
    results: list[ClaimedResult]
    media: list[Media]
    claims_reproduced: bool | None
    truncated: bool = False


# --------------------------------------------------------------------------- sections

_ALIASES: dict[str, tuple[str, ...]] = {
    "summary": ("summary", "description", "what", "what changed", "changes", "why"),
    "real_behavior_proof": (
        "real behavior proof", "real behaviour proof", "proof", "evidence", "before/after",
        "before and after", "reproduction", "repro", "how to reproduce", "screenshots", "demo",
    ),
    "test_plan": (
        "test plan", "testing", "tests", "how to test", "how was this tested", "verification",
        "validation",
    ),
    "not_tested": (
        "what was not tested", "not tested", "untested", "limitations", "what is not tested",
        "what's not tested",
    ),
    "risk": ("risk", "risks", "risk assessment", "rollback"),
}
_PROOF_KEYS = ("test_plan", "real_behavior_proof")
_PSEUDO_LEVEL = 7  # deeper than any real heading: any heading ends a pseudo-heading's section


def _normalize_heading(text: str) -> str:
    """Lower-case words only: emoji, punctuation, markup and "(notes)" don't matter."""
    if len(text) > MAX_HEADING_CHARS:  # no section name is this long; keeps the regexes linear
        return ""
    text = re.sub(r"\([^)]*\)", " ", text.lower()).replace("&", " and ")
    text = re.sub(r"['\u2019]", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_HEADING_KEYS = {_normalize_heading(a): key for key, aliases in _ALIASES.items() for a in aliases}


def _section_key(heading: str) -> str | None:
    return _HEADING_KEYS.get(_normalize_heading(heading))


# --------------------------------------------------------------------------- commands

_RUNNER = re.compile(
    r"""^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*        # FOO=1 BAR=2 npm test
    (?:pytest|py\.test|python(?:3(?:\.\d+)?)?\s+-m\s+pytest|uv\s+run\s+pytest|poetry\s+run\s+pytest
      |node\s+--test[\w=-]*|npm\s+(?:test|t|run\s+test[\w:.-]*)|pnpm\s+(?:test|run\s+test[\w:.-]*)
      |yarn\s+test[\w:.-]*|npx\s+(?:vitest|jest|mocha|tap)|vitest|jest|mocha|tap|tox|nox
      |make\s+test[\w.-]*|go\s+test|cargo\s+test|bun\s+test|deno\s+test
    )(?=\s|$)""",
    re.X,
)
_PROMPT_HEAD = re.compile(r"(\(\S+\)\s+)?(\S+)(?:\s+|$)")
_ANGLE_PROMPT = re.compile(r"^>(?:\s+|$)")
_OUTPUT_START = re.compile(
    r"""^(?:[✓✔✗✖×√ℹ▶•●○⚠✅❌]|ok\b|not\ ok\b|PASS\b|FAIL\b|\#|={3}|-{3}|\.\.\.|\.[.FEsx]*(?:\s|$)
    |TAP\ version|\d|\[|Error\b|at\ |Tests?:|Test\ Suites:|Snapshots:|Time:|Ran\ \d|OK\b|npm\ (?:ERR|WARN|warn)
    |(?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\S*\s)""",
    re.X,
)
_OUTPUT_WORD = re.compile(r"\b(?:PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
_CONSOLE_INFOS = frozenset({"console", "shell-session", "shellsession", "sh-session"})
_COMMAND_INFOS = frozenset({"", "sh", "bash", "shell", "zsh", "text"}) | _CONSOLE_INFOS
_OUTPUT_INFOS = frozenset({"", "text", "txt", "plaintext", "output", "log"}) | _CONSOLE_INFOS
_CODE_INFOS = _COMMAND_INFOS | _OUTPUT_INFOS


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _clean_command(text: str) -> str | None:
    """A command as the caller would run it: one line, bounded, non-empty."""
    text = _collapse(text)
    return text if 0 < len(text) <= MAX_COMMAND_CHARS else None


def _is_runner(command: str) -> bool:
    return _RUNNER.match(command) is not None


def _prompt_end(line: str) -> int | None:
    """Where the command starts after `$ `, `% `, `(venv) $ ` or `me@host:~/repo$ `, if any.

    Checked on the first word in Python rather than by one clever regex, so a long
    line of `/` or `@` cannot make the matcher backtrack quadratically.
    """
    match = _PROMPT_HEAD.match(line)
    if match is None:
        return None
    word = match[2]
    if word in ("$", "%") or (word.endswith("$") and any(c in word for c in "@~:/")):
        return match.end()
    return None


def _inline_command(code: str) -> str | None:
    """An inline code span that names a known test runner (prompt stripped), else None."""
    code = code.strip()
    command = _clean_command(code[_prompt_end(code) or 0 :])
    return command if command and _is_runner(command) else None


def _looks_like_output(line: str) -> bool:
    """Pasted output next to commands: check marks, TAP, summaries, npm banners."""
    return bool(_OUTPUT_START.match(line) or _OUTPUT_WORD.search(line) or _result(line))


@dataclass
class _CodeLine:
    text: str
    is_command: bool


def _code_lines(info: str, raw: list[str]) -> list[_CodeLine]:
    """Split a code block into commands and output lines, joining `\\` continuations.

    In console blocks only prompt lines are commands; a block of any shell info with
    a `$`/`%` prompt is a pasted transcript too. `> ` counts as a prompt only when the
    block has no `$`/`%` prompt, because npm echoes `> pkg@1.0.0 test` as output.
    """
    stripped = [line.strip() for line in raw]
    if info not in _COMMAND_INFOS:
        return [_CodeLine(line, False) for line in stripped]
    strong = any(_prompt_end(line) is not None for line in stripped)
    console = strong or info in _CONSOLE_INFOS
    out: list[_CodeLine] = []
    for line in stripped:
        if out and out[-1].is_command and out[-1].text.endswith("\\"):
            out[-1].text = out[-1].text[:-1] + " " + _ANGLE_PROMPT.sub("", line, count=1)
            continue
        end = _prompt_end(line)
        if end is None and not strong and (angle := _ANGLE_PROMPT.match(line)):
            end = angle.end()
        command = line[end:] if end is not None else line
        is_command = bool(command) and (end is not None or not console)
        is_command = is_command and not _looks_like_output(command)
        out.append(_CodeLine(command if is_command else line, is_command))
    return out


# --------------------------------------------------------------------------- results

_N = r"\b(\d{1,9})\b"
_PASS_WORD = r"(?:pass(?:ed|ing|es)?|green|ok|succeed(?:ed|s)?|successful)\b"
_RATIO = re.compile(
    rf"{_N}\s*(?:/|\s+of\s+)\s*{_N}\s+(?:[a-z-]+\s+){{0,2}}?(?:are\s+|were\s+)?{_PASS_WORD}", re.I
)
_RATIO_AFTER = re.compile(rf"\bpass(?:ed|ing|es)?\s*:?\s*\(?{_N}\s*/\s*{_N}", re.I)
_COUNT = re.compile(
    rf"{_N}\s+(?:(?:unit|integration|e2e|new|existing)\s+)?(?:(?:tests?|specs?|cases?)\s+)?"
    r"(passed|passing|pass|passes|failed|failing|fail|fails|failures?|errors?|errored|skipped|pending)\b",
    re.I,
)
_TOTAL = re.compile(rf"{_N}\s+total\b", re.I)
_ALL_N = re.compile(rf"(?<!not\s)\ball\s+{_N}\s+(?:[a-z-]+\s+){{0,2}}?(?:(?:now|still|are|were)\s+)*{_PASS_WORD}", re.I)
_ALL = re.compile(
    rf"(?<!not\s)\ball\s+(?:[a-z-]+\s+){{0,2}}?(?:tests?|specs?)\s+(?:(?:now|still|are|were)\s+)*{_PASS_WORD}",
    re.I,
)
_CHECKMARK = re.compile(rf"(?:✅|✔️?|✓|☑️?|🟢)\s*{_N}\s+(?:tests?|specs?)\b", re.I)
_PAIR = re.compile(rf"\b(tests|pass|fail|skipped)\s+{_N}", re.I)
_TAP_LINE = re.compile(r"^(?:#|ℹ)\s*(?:tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)\s+\d", re.I)
_NOT_A_RESULT = re.compile(r"^(?:Test Suites|Snapshots|Time):", re.I)
_PAIR_FIELDS = {"tests": "total", "pass": "passed", "fail": "failed", "skipped": "skipped"}

_Counts = dict[str, int]


def _fill(counts: _Counts, **values: int | None) -> None:
    """Earlier, more specific rules win: only fill what is still unknown."""
    for name, value in values.items():
        if value is not None and name not in counts:
            counts[name] = value


def _tap_counts(text: str, counts: _Counts) -> None:
    pairs = _PAIR.findall(text)
    if len(pairs) >= 2 or (pairs and _TAP_LINE.match(text)):
        for word, number in pairs:
            _fill(counts, **{_PAIR_FIELDS[word.lower()]: int(number)})


def _ratio_counts(text: str, counts: _Counts) -> None:
    match = _RATIO.search(text) or _RATIO_AFTER.search(text)
    if match and int(match[1]) <= int(match[2]):
        passed, total = int(match[1]), int(match[2])
        _fill(counts, passed=passed, total=total, failed=total - passed)


def _word_counts(text: str, counts: _Counts) -> None:
    found: _Counts = {}
    for number, word in _COUNT.findall(text):
        word = word.lower()
        name = "skipped" if word in ("skipped", "pending") else "passed" if word.startswith("pass") else "failed"
        found[name] = found.get(name, 0) + int(number)
    total = _TOTAL.search(text)
    _fill(counts, **found, total=int(total[1]) if total else None)


def _all_pass_counts(text: str, counts: _Counts) -> None:
    match = _ALL_N.search(text)
    if match:
        _fill(counts, passed=int(match[1]), total=int(match[1]), failed=0)
    elif _ALL.search(text):
        _fill(counts, failed=0)
    check = _CHECKMARK.search(text)
    if check:
        _fill(counts, passed=int(check[1]))


def _derive(counts: _Counts) -> None:
    """Fill total/failed when the other numbers pin them down."""
    passed, failed, total = counts.get("passed"), counts.get("failed"), counts.get("total")
    skipped = counts.get("skipped", 0)
    if total is None and passed is not None and failed is not None:
        counts["total"] = passed + failed + skipped
    elif failed is None and passed is not None and total is not None and total >= passed + skipped:
        counts["failed"] = total - passed - skipped


def _result(line: str) -> ClaimedResult | None:
    """The pass/fail claim a line makes, if any."""
    text = _collapse(line)
    if not text or _NOT_A_RESULT.match(text):
        return None
    counts: _Counts = {}
    for rule in (_tap_counts, _ratio_counts, _word_counts, _all_pass_counts):
        rule(text, counts)
    if not counts.keys() & {"passed", "failed", "total"}:
        return None
    _derive(counts)
    return ClaimedResult(
        text=text[:MAX_RESULT_TEXT],
        passed=counts.get("passed"),
        failed=counts.get("failed"),
        total=counts.get("total"),
    )


# --------------------------------------------------------------------------- reproduced?

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
    text = _collapse(text.lower().replace("\u2019", "'"))
    if _NOT_REPRODUCED.search(text):
        return False
    return True if _REPRODUCED.search(text) else None


def _claims_reproduced(prose: dict[str | None, list[str]]) -> bool | None:
    for tier in _REPRO_TIERS:
        verdict = _repro_verdict(" ".join(line for key in tier for line in prose.get(key, [])))
        if verdict is not None:
            return verdict
    return None


# --------------------------------------------------------------------------- media

_VIDEO_EXT = (".mp4", ".mov", ".webm")
_ASSET = re.compile(
    r"^https://github\.com/(?:user-attachments/assets|[\w.-]+/[\w.-]+/assets/\d+)/[0-9a-fA-F-]{16,}/?$"
)
_BARE_URL = re.compile(r"https?://[^\s<>\"'`()\[\]{}]+", re.I)


def _http_url(url: str) -> str | None:
    """Only plain http(s) URLs; `javascript:`, `data:` and malformed ones are dropped."""
    url = url.strip().rstrip(".,;:!?")
    if not url or len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _path(url: str) -> str:
    return urlsplit(url).path.lower()


def _link_kind(url: str) -> MediaKind | None:
    host, path = (urlsplit(url).hostname or "").lower(), _path(url)
    if path.endswith((".log", ".txt")) or host in ("gist.github.com", "gist.githubusercontent.com"):
        return "log"
    if host == "asciinema.org" or host.endswith(".asciinema.org"):
        return "log"
    if any(part in path for part in ("/actions/runs/", "/suites/", "/artifacts/")):
        return "artifact"
    return "artifact" if path.endswith((".zip", ".tar.gz", ".tgz", ".json", ".xml")) else None


def _media(kind: MediaKind | None, url: str, label: str = "") -> list[Media]:
    clean = _http_url(url)
    if kind is None or clean is None:
        return []
    return [Media(kind=kind, url=clean, label=_collapse(label)[:MAX_LABEL])]


def _image(url: str, alt: str) -> list[Media]:
    clean = _http_url(url) or ""
    return _media("video" if _path(clean).endswith(_VIDEO_EXT) else "image", clean, alt)


def _link(url: str, label: str = "") -> list[Media]:
    clean = _http_url(url)
    return _media(_link_kind(clean), clean, label) if clean else []


def _lone_url(url: str) -> list[Media]:
    """A URL alone on a line: GitHub embeds uploaded videos exactly like this."""
    clean = _http_url(url)
    if clean and (_ASSET.match(clean) or _path(clean).endswith(_VIDEO_EXT)):
        return _media("video", clean)
    return _link(url)


class _HtmlMedia(HTMLParser):
    """Reads `src`/`href` attributes of embedded HTML; nothing is rendered or trusted."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Media] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "img":
            self.found += _image(values.get("src", ""), values.get("alt", ""))
        elif tag in ("video", "source") and values.get("src"):
            self.found += _media("video", values["src"])
        elif tag == "a":
            self.found += _link(values.get("href", ""))


def _html_media(html: str) -> list[Media]:
    parser = _HtmlMedia()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed HTML is data, not an error
        pass
    return parser.found


# --------------------------------------------------------------------------- token walk

_MD = MarkdownIt("commonmark")


def _tokens(text: str) -> list[Token]:
    try:
        return _MD.parse(text)
    except Exception:  # noqa: BLE001 - a parser bug must not take the review down
        return []


def _unquoted(tokens: list[Token]) -> Iterator[tuple[Token, bool]]:
    """Tokens outside block quotes, each with whether it sits in a list item."""
    quotes = items = 0
    for tok in tokens:
        if tok.type in ("blockquote_open", "blockquote_close"):
            quotes = max(0, quotes + (1 if tok.type.endswith("open") else -1))
        elif tok.type in ("list_item_open", "list_item_close"):
            items = max(0, items + (1 if tok.type.endswith("open") else -1))
        elif quotes == 0:
            yield tok, items > 0


def _lines(children: list[Token]) -> list[list[Token]]:
    """Inline tokens split at line breaks: "the same line" for commands and results."""
    lines: list[list[Token]] = [[]]
    for tok in children:
        if tok.type in ("softbreak", "hardbreak"):
            lines.append([])
        else:
            lines[-1].append(tok)
    return lines


def _render(line: list[Token]) -> str:
    """The line's text: code keeps its backticks, emphasis markers and link targets go."""
    parts: list[str] = []
    for tok in line:
        if tok.type in ("text", "html_inline"):
            parts.append(tok.content)
        elif tok.type == "code_inline":
            parts.append(f"{tok.markup}{tok.content}{tok.markup}")
        elif tok.type == "image":
            parts.append(_render(tok.children or []))
    return "".join(parts)


def _visible(line: list[Token]) -> list[Token]:
    return [tok for tok in line if tok.type != "text" or tok.content.strip()]


def _pseudo_heading(line: list[Token]) -> str | None:
    """`**Test plan**`, `**Test plan:**` or `Test plan:` alone on a line, if a known section."""
    toks = _visible(line)
    if toks and toks[-1].type == "text" and toks[-1].content.strip() == ":":
        toks = toks[:-1]
    opens = [tok for tok in toks if tok.type == "strong_open"]
    if len(toks) >= 3 and toks[0].type == "strong_open" and toks[-1].type == "strong_close" and len(opens) == 1:
        return _section_key(_render(toks))
    text = _render(toks).strip()
    if toks and all(tok.type == "text" for tok in toks) and text.endswith(":"):
        return _section_key(text[:-1])
    return None


# --------------------------------------------------------------------------- blocks


@dataclass
class _Heading:
    line: int  # first line of the heading itself
    body: int  # first line of the section's text
    level: int  # 1-6, or _PSEUDO_LEVEL
    key: str | None


@dataclass
class _Prose:
    text: str  # one rendered line of a paragraph / list item
    codes: list[str]  # inline code spans on that line
    in_list: bool


@dataclass
class _Code:
    info: str  # first word of the fence's info string, lower-cased
    lines: list[str]


_Block = _Heading | _Prose | _Code


def _inline_blocks(tok: Token, in_list: bool) -> list[_Block]:
    start = tok.map[0] if tok.map else 0
    out: list[_Block] = []
    for index, line in enumerate(_lines(tok.children or [])):
        key = None if in_list else _pseudo_heading(line)
        if key is not None:
            out.append(_Heading(start + index, start + index + 1, _PSEUDO_LEVEL, key))
        elif _visible(line):
            codes = [t.content for t in line if t.type == "code_inline"]
            out.append(_Prose(_collapse(_render(line)), codes, in_list))
    return out


def _code_info(tok: Token) -> str:
    words = tok.info.strip().lower().split()
    return words[0] if words else ""


def _blocks(tokens: list[Token]) -> list[_Block]:
    """The unquoted document as headings, prose lines and code blocks, in order."""
    out: list[_Block] = []
    heading: Token | None = None
    for tok, in_list in _unquoted(tokens):
        if tok.type == "heading_open":
            heading = tok
        elif tok.type == "inline" and heading is not None:
            line, body = heading.map if heading.map else (0, 0)
            out.append(_Heading(line, body, int(heading.tag[1:] or 1), _section_key(tok.content)))
            heading = None
        elif tok.type == "inline":
            out.extend(_inline_blocks(tok, in_list))
        elif tok.type in ("fence", "code_block"):
            out.append(_Code(_code_info(tok), tok.content.split("\n")))
    return out


# --------------------------------------------------------------------------- regions


@dataclass
class _Region:
    """A stretch of the body under one heading; key None for unknown/no heading."""

    id: int
    key: str | None
    level: int
    body: int
    end: int | None = None


def _next_region(current: _Region, heading: _Heading, new_id: int) -> _Region:
    """Known headings always open a section; an unknown deeper one stays inside the current."""
    if heading.key is not None:
        return _Region(new_id, heading.key, heading.level, heading.body)
    if current.key is not None and heading.level > current.level:
        return current
    return _Region(new_id, None, heading.level, heading.body)


def _place(blocks: list[_Block]) -> tuple[list[tuple[_Prose | _Code, _Region]], list[_Region]]:
    current = _Region(0, None, 0, 0)
    regions: list[_Region] = [current]
    placed: list[tuple[_Prose | _Code, _Region]] = []
    for block in blocks:
        if not isinstance(block, _Heading):
            placed.append((block, current))
            continue
        following = _next_region(current, block, len(regions))
        if following is not current:
            current.end = block.line
            current = following
            regions.append(current)
    return placed, regions


def _sections(regions: list[_Region], text: str) -> dict[str, str]:
    lines = text.split("\n")
    sections: dict[str, str] = {}
    for region in regions:
        if region.key is None:
            continue
        chunk = "\n".join(lines[region.body : region.end]).strip()
        previous = sections.get(region.key)
        sections[region.key] = "\n\n".join(p for p in (previous, chunk) if p) if previous is not None else chunk
    return sections


# --------------------------------------------------------------------------- claims


@dataclass
class _Claims:
    """Commands, results and prose gathered in one pass over the placed blocks."""

    buckets: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in (*_PROOF_KEYS, "other")})
    results: list[ClaimedResult] = field(default_factory=list)
    prose: dict[str | None, list[str]] = field(default_factory=dict)
    last: dict[int, str] = field(default_factory=dict)  # region id -> latest command there

    def command(self, command: str, region: _Region) -> None:
        if region.key == "not_tested":  # listed as *not* run: not a claim to check
            return
        self.buckets[region.key if region.key in _PROOF_KEYS else "other"].append(command)
        self.last[region.id] = command

    def result(self, result: ClaimedResult | None, region: _Region, same_line: str | None = None) -> None:
        if result is not None:
            result.command = same_line or self.last.get(region.id)
            self.results.append(result)


def _prose_claims(block: _Prose, region: _Region, claims: _Claims) -> None:
    claims.prose.setdefault(region.key, []).append(block.text)
    counted = region.key in _PROOF_KEYS or block.in_list
    commands = [c for c in map(_inline_command, block.codes) if c] if counted else []
    for command in commands:
        claims.command(command, region)
    same_line = commands[0] if commands and region.key != "not_tested" else None
    claims.result(_result(block.text), region, same_line)


def _flush_tap(tap: list[str], region: _Region, claims: _Claims) -> None:
    """Consecutive `# tests 3` / `# pass 3` / `# fail 0` lines are one result."""
    if tap:
        claims.result(_result(" ".join(tap)), region)
        tap.clear()


def _code_claims(block: _Code, region: _Region, claims: _Claims) -> None:
    """Commands from shell-ish blocks; results from output lines of console/text blocks."""
    if block.info not in _CODE_INFOS:
        return
    scan_output = block.info in _OUTPUT_INFOS
    tap: list[str] = []
    for line in _code_lines(block.info, block.lines):
        if scan_output and not line.is_command and _TAP_LINE.match(line.text):
            tap.append(line.text)
            continue
        _flush_tap(tap, region, claims)
        command = _clean_command(line.text) if line.is_command else None
        if command and (region.key in _PROOF_KEYS or _is_runner(command)):
            claims.command(command, region)
        elif scan_output and not line.is_command:
            claims.result(_result(line.text), region)
    _flush_tap(tap, region, claims)


def _claims(placed: list[tuple[_Prose | _Code, _Region]]) -> _Claims:
    claims = _Claims()
    for block, region in placed:
        if isinstance(block, _Prose):
            _prose_claims(block, region, claims)
        else:
            _code_claims(block, region, claims)
    return claims


def _unique(items: list[str], limit: int) -> list[str]:
    return list(dict.fromkeys(items))[:limit]


def _unique_results(results: list[ClaimedResult]) -> list[ClaimedResult]:
    seen: dict[tuple[str, str | None], ClaimedResult] = {}
    for result in results:
        seen.setdefault((result.text, result.command), result)
    return list(seen.values())[:MAX_RESULTS]


# --------------------------------------------------------------------------- media walk


def _line_media(line: list[Token]) -> list[Media]:
    toks = _visible(line)
    if len(toks) == 1 and toks[0].type == "text" and _BARE_URL.fullmatch(toks[0].content.strip()):
        return _lone_url(toks[0].content)
    if len(toks) == 3 and toks[0].type == "link_open" and toks[0].markup == "autolink":
        return _lone_url(str(toks[0].attrs.get("href", "")))
    found: list[Media] = []
    link: Token | None = None
    label: list[str] = []
    for tok in line:
        if tok.type == "image":
            found += _image(str(tok.attrs.get("src", "")), _render(tok.children or []))
        elif tok.type == "link_open":
            link, label = tok, []
        elif tok.type == "link_close" and link is not None:
            found += _link(str(link.attrs.get("href", "")), "".join(label))
            link = None
        elif tok.type == "html_inline":
            found += _html_media(tok.content)
        elif tok.type in ("text", "code_inline") and link is not None:
            label.append(tok.content)
        elif tok.type == "text":
            found += [m for url in _BARE_URL.findall(tok.content) for m in _link(url)]
    return found


def _all_media(tokens: list[Token]) -> list[Media]:
    found: list[Media] = []
    for tok, _ in _unquoted(tokens):
        if tok.type == "inline":
            found += [m for line in _lines(tok.children or []) for m in _line_media(line)]
        elif tok.type == "html_block":
            found += _html_media(tok.content)
    unique: dict[str, Media] = {}
    for media in found:
        unique.setdefault(media.url, media)
    return list(unique.values())[:MAX_MEDIA]


# --------------------------------------------------------------------------- entry point

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)


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
    tokens = _tokens(text)
    placed, regions = _place(_blocks(tokens))
    claims = _claims(placed)
    commands = [c for key in (*_PROOF_KEYS, "other") for c in claims.buckets[key]]
    return PrBody(
        sections=_sections(regions, text),
        commands=_unique(commands, MAX_COMMANDS),
        results=_unique_results(claims.results),
        media=_all_media(tokens),
        claims_reproduced=_claims_reproduced(claims.prose),
        truncated=truncated,
    )
