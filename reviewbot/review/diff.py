"""A unified diff (`git diff` output) as per-file facts the lock scan can reason about.

Pure: text in, objects out. Every line a rule may look at carries its line number
in the head version of the file, because a review comment is anchored there.
Context lines are kept next to added lines (in file order) so a rule can see the
code around a change without reading the repository.

Hunks are read by their declared line counts, not by guessing from prefixes, so a
removed line that happens to start with `-- ` is never mistaken for a file header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["python", "js"]
FileStatus = Literal["modified", "added", "deleted", "renamed"]

EXTENSIONS: dict[str, Language] = {
    ".py": "python",
    **{ext: "js" for ext in (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")},
}

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_GIT_HEADER = re.compile(r"^diff --git (.+)$")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "r": "\r", "v": "\v"}


@dataclass(frozen=True)
class Line:
    """One head-side line of a hunk: added by the PR, or unchanged context."""

    number: int  # line number in the head version
    text: str  # without the leading '+' / ' '
    added: bool


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str = ""  # the text after the second @@ (often the enclosing function)
    lines: list[Line] = field(default_factory=list)  # head side, in order
    removed: list[str] = field(default_factory=list)


@dataclass
class FileDiff:
    path: str  # head side; the old path for a deleted file
    old_path: str | None = None  # base side; None for an added file
    status: FileStatus = "modified"
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def language(self) -> Language | None:
        return language_of(self.path)

    @property
    def added_lines(self) -> list[Line]:
        return [line for hunk in self.hunks for line in hunk.lines if line.added]

    @property
    def context_lines(self) -> list[Line]:
        return [line for hunk in self.hunks for line in hunk.lines if not line.added]


def language_of(path: str) -> Language | None:
    """ "python" or "js" (which covers TypeScript) from the extension; None otherwise."""
    dot = path.rfind(".")
    return EXTENSIONS.get(path[dot:]) if dot > path.rfind("/") else None


def parse_unified_diff(text: str) -> list[FileDiff]:
    """Split `git diff` output into files; tolerant of plain `---`/`+++` diffs without git headers."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _GIT_HEADER.match(line)
        if header:
            current = FileDiff(path=_paths_from_git_header(header.group(1)))
            current.old_path = current.path
            files.append(current)
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            if current is None or current.hunks:  # a plain diff without `diff --git`
                current = FileDiff(path="")
                files.append(current)
            _apply_file_names(current, line[4:], lines[i + 1][4:])
            i += 1
        elif current is not None and line.startswith("@@ "):
            i = _read_hunk(current, lines, i)
            continue
        elif current is not None:
            _apply_extended_header(current, line)
        i += 1
    return [f for f in files if f.path]


def _read_hunk(current: FileDiff, lines: list[str], i: int) -> int:
    """Read one hunk by its counts; returns the index of the first line after it."""
    match = _HUNK.match(lines[i])
    if not match:
        return i + 1
    old_start, old_count, new_start, new_count = (
        int(match.group(1)),
        int(match.group(2) or 1),
        int(match.group(3)),
        int(match.group(4) or 1),
    )
    hunk = Hunk(old_start, old_count, new_start, new_count, section=match.group(5).strip())
    current.hunks.append(hunk)
    old_left, new_left, number = old_count, new_count, new_start
    i += 1
    while i < len(lines) and (old_left > 0 or new_left > 0):
        line = lines[i]
        tag, body = line[:1], line[1:]
        if tag == "+":
            hunk.lines.append(Line(number, body, added=True))
            number, new_left = number + 1, new_left - 1
        elif tag == "-":
            hunk.removed.append(body)
            old_left -= 1
        elif tag == " " or line == "":  # some tools strip the space of empty context lines
            hunk.lines.append(Line(number, body, added=False))
            number, new_left, old_left = number + 1, new_left - 1, old_left - 1
        elif tag != "\\":  # "\ No newline at end of file" is not a line of either side
            break  # a truncated hunk: stop rather than swallow the next header
        i += 1
    while i < len(lines) and lines[i].startswith("\\"):
        i += 1
    return i


def _apply_extended_header(current: FileDiff, line: str) -> None:
    if line.startswith("new file mode"):
        current.status, current.old_path = "added", None
    elif line.startswith("deleted file mode"):
        current.status = "deleted"
    elif line.startswith("rename from "):
        current.status, current.old_path = "renamed", _unquote(line[len("rename from ") :])
    elif line.startswith("rename to "):
        current.status, current.path = "renamed", _unquote(line[len("rename to ") :])
    elif line.startswith("Binary files ") or line == "GIT binary patch":
        current.binary = True


def _apply_file_names(current: FileDiff, old: str, new: str) -> None:
    """`---`/`+++` are the most reliable names; /dev/null marks an added or deleted file."""
    old_name, new_name = _strip_prefix(_unquote(old.split("\t")[0])), _strip_prefix(_unquote(new.split("\t")[0]))
    if old_name is None and new_name is not None:
        current.status, current.old_path, current.path = "added", None, new_name
    elif new_name is None and old_name is not None:
        current.status, current.old_path, current.path = "deleted", old_name, old_name
    elif new_name is not None:
        current.path = new_name
        current.old_path = old_name
        if current.status == "modified" and old_name != new_name:
            current.status = "renamed"


def _strip_prefix(name: str) -> str | None:
    if name == "/dev/null":
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


def _paths_from_git_header(rest: str) -> str:
    """The head path from `a/X b/Y`; exact when both sides are equal or quoted, else a best guess."""
    if rest.startswith('"') or rest.endswith('"'):
        parts = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', rest)
        return _strip_prefix(_unquote(parts[-1])) or ""
    half = (len(rest) - 1) // 2
    if rest[half] == " " and rest[:half][2:] == rest[half + 1 :][2:]:
        return _strip_prefix(rest[half + 1 :]) or ""
    match = re.search(r" b/", rest)
    return rest[match.end() :] if match else rest.split(" ")[-1]


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of unusual paths (including octal-escaped UTF-8 bytes)."""
    name = name.strip()
    if not (len(name) >= 2 and name[0] == name[-1] == '"'):
        return name
    out, body, i = bytearray(), name[1:-1], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and re.match(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.extend(_ESCAPES.get(nxt, nxt).encode())
            i += 2
            continue
        out.extend(char.encode())
        i += 1
    return out.decode("utf-8", errors="replace")
