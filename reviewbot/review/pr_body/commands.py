"""Test commands the contributor says they ran: inline code spans and shell/console blocks.

A command is only taken when it names a known test runner or sits in a proof
section; pasted output next to it (check marks, TAP, summaries) is told apart
so "4 passing" is a result, not a command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewbot.review.pr_body.records import MAX_COMMAND_CHARS, collapse
from reviewbot.review.pr_body.results import claimed_result

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
OUTPUT_INFOS = frozenset({"", "text", "txt", "plaintext", "output", "log"}) | _CONSOLE_INFOS
CODE_INFOS = _COMMAND_INFOS | OUTPUT_INFOS


def clean_command(text: str) -> str | None:
    """A command as the caller would run it: one line, bounded, non-empty."""
    text = collapse(text)
    return text if 0 < len(text) <= MAX_COMMAND_CHARS else None


def is_runner(command: str) -> bool:
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


def inline_command(code: str) -> str | None:
    """An inline code span that names a known test runner (prompt stripped), else None."""
    code = code.strip()
    command = clean_command(code[_prompt_end(code) or 0 :])
    return command if command and is_runner(command) else None


def _looks_like_output(line: str) -> bool:
    """Pasted output next to commands: check marks, TAP, summaries, npm banners."""
    return bool(_OUTPUT_START.match(line) or _OUTPUT_WORD.search(line) or claimed_result(line))


@dataclass
class CodeLine:
    text: str
    is_command: bool


def code_lines(info: str, raw: list[str]) -> list[CodeLine]:
    """Split a code block into commands and output lines, joining `\\` continuations.

    In console blocks only prompt lines are commands; a block of any shell info with
    a `$`/`%` prompt is a pasted transcript too. `> ` counts as a prompt only when the
    block has no `$`/`%` prompt, because npm echoes `> pkg@1.0.0 test` as output.
    """
    stripped = [line.strip() for line in raw]
    if info not in _COMMAND_INFOS:
        return [CodeLine(line, False) for line in stripped]
    strong = any(_prompt_end(line) is not None for line in stripped)
    console = strong or info in _CONSOLE_INFOS
    out: list[CodeLine] = []
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
        out.append(CodeLine(command if is_command else line, is_command))
    return out
