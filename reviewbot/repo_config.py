"""`.github/reviewbot.yml`: the repository's own say in what the bot runs.

Read from the base revision, so a PR cannot switch its own checks off. Errors
name the bad key and its line, because the maintainer reads them in a PR
comment, far from any traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pathspec import GitIgnoreSpec
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reviewbot.model import SuiteKind

CONFIG_PATH = ".github/reviewbot.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Suite(_Strict):
    """One test command the proof runs on head and on base+PR-tests."""

    name: str
    run: str
    paths: list[str] = Field(default_factory=list)  # globs; empty = always run
    kind: SuiteKind = "regression"
    timeout: int = Field(default=120, ge=1, le=3600)  # seconds; a hang is a possible deadlock
    repeat: int = Field(default=1, ge=1, le=20)  # lock bugs race: repeat and report flakiness
    junit: str | None = None  # path of a JUnit XML report the command writes, if any

    @field_validator("run")
    @classmethod
    def _run_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty shell command")
        return value

    @field_validator("paths")
    @classmethod
    def _globs_usable(cls, value: list[str]) -> list[str]:
        """A glob that can never match would silently switch its suite off: say so instead."""
        for pattern in value:
            problem = glob_problem(pattern)
            if problem:
                raise ValueError(f"{pattern!r} is not a usable glob: {problem}")
        return value


class Setup(_Strict):
    """A step before the suites, e.g. `npm ci --ignore-scripts`; the only one that may have network."""

    run: str
    network: bool = False
    cache: list[str] = Field(default_factory=list)  # accepted, unused: setup runs fresh on each side
    cache_key: list[str] = Field(default_factory=list)  # accepted, unused (see docs/proof.md)
    timeout: int = Field(default=600, ge=1, le=7200)


class FixCommand(_Strict):
    """A command that fixes the PR in place (a formatter): run in the sandbox, its diff committed by the bot."""

    run: str
    timeout: int = Field(default=300, ge=1, le=3600)


class Automerge(_Strict):
    method: Literal["merge", "squash", "rebase"] = "squash"
    close_replaced: bool = False  # close a source PR once the replacement the bot opened for it merges


class Amplify(_Strict):
    """Contention for regression suites: copies of the suite at once, and busy CPU beside them."""

    copies: int = Field(default=2, ge=1, le=8)
    stressors: int = Field(default=1, ge=0, le=4)


class ProofSettings(_Strict):
    """Adaptive repeats: run both sides round by round until the answer is clear, within a budget."""

    confidence: float = Field(default=0.95, ge=0.5, lt=1.0)  # of the failure-rate bounds and the rate test
    max_runs: int = Field(default=30, ge=1, le=500)  # per suite and side
    budget_s: int = Field(default=300, ge=1, le=7200)  # all repeats of one review, both sides
    threshold: float = Field(default=0.10, gt=0.0, lt=1.0)  # head's bound must fall under it: rank S, early stop
    amplify: Amplify | None = None  # run regression suites under contention (proof/amplify.py)


class RepoConfig(_Strict):
    suites: list[Suite] = Field(default_factory=list)
    setup: Setup | None = None
    changed_tests: Literal["auto", "off"] = "auto"  # also run test files the PR adds or changes
    automerge: Automerge = Field(default_factory=Automerge)
    fix: list[FixCommand] = Field(default_factory=list)  # run on `@reviewbot automerge` and on fix-only drafts
    proof: ProofSettings | None = None  # adaptive repeats; without it each suite runs `repeat` times

    @field_validator("changed_tests", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: object) -> object:
        """YAML reads a bare `off`/`on` as a boolean; accept what maintainers naturally write."""
        if value is False:
            return "off"
        if value is True:
            return "auto"
        return value


def glob_problem(pattern: str) -> str:
    """Why a `paths` glob cannot match repository files, or "" when it can."""
    stripped = pattern.strip()
    if not stripped or stripped in ("/", "./"):
        return "it is empty"
    parts = stripped.strip("/").split("/")
    if ".." in parts:
        return "`..` would leave the repository; globs are relative to its root"
    for part in parts:
        depth = 0
        for index, char in enumerate(part):
            if char == "[" and (index == 0 or part[index - 1] != "\\"):
                depth += 1
            elif char == "]" and depth:
                depth -= 1
        if depth:
            return "a `[` is never closed by `]`"
    [line] = GitIgnoreSpec.from_lines([stripped]).patterns  # read as pathspec will match it (selection.path_matches)
    if line.include is None:
        return "a leading `#` makes it a comment (write `\\#` for a file name starting with `#`)"
    if line.include is False:
        return "a leading `!` excludes in .gitignore, and `paths` lists only what to include"
    return ""


class ConfigError(ValueError):
    """A config file that cannot be used, with a message fit for a PR comment."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source} is invalid:\n" + "\n".join(f"  - {p}" for p in problems))


def parse_config(text: str, source: str = CONFIG_PATH) -> RepoConfig:
    """Parse and validate config text; every problem names its key path and line."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}YAML syntax error: {problem}"]) from None
    if data is None:
        return RepoConfig()
    if not isinstance(data, dict):
        raise ConfigError(source, ["line 1: the top level must be a mapping (suites:, setup:, ...)"])
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = list(error["loc"])
            line = _line_of(root, loc)
            key = ".".join(str(part) for part in loc) or "(top level)"
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "value_error":
                message = message.removeprefix("Value error, ")
            prefix = f"line {line}: " if line else ""
            problems.append(f"{prefix}`{key}`: {message}")
        raise ConfigError(source, problems) from None


def load_config_file(path: Path) -> RepoConfig:
    return parse_config(path.read_text(encoding="utf-8"), source=str(path))


def _line_of(node: yaml.Node | None, loc: list) -> int | None:
    """Walk the YAML node tree along a pydantic error location to find its line (1-based)."""
    best = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == part), None)
            if match is None:
                break
            key_node, node = match
            best = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            best = node.start_mark.line + 1
        else:
            break
    return best
