"""Which of the PR body's claimed test commands the bot runs on head, and which it skips.

Pure: commands in, a plan out. The commands come from the PR description, so
they are as untrusted as the PR's code and run in the same sandbox with the
same limits; what this module decides is only which are worth running. The
sandbox has no network, so install and fetch commands would fail for reasons
that say nothing about the claim: they are skipped with that reason, and the
setup step (which may have network) is what installs dependencies.
"""

from __future__ import annotations

import re
import shlex

from reviewbot.model import ClaimRun

MAX_CLAIM_RUNS = 5
MAX_COMMAND_CHARS = 500

_NETWORK = re.compile(
    r"^(?:npm|pnpm|yarn|bun)\s+(?:ci|i|install|add|update|upgrade)\b"
    r"|^(?:pip3?|python3?\s+-m\s+pip|uv\s+pip|pipx)\s+install\b"
    r"|^(?:uv\s+sync|poetry\s+install|pdm\s+install|bundle\s+install|cargo\s+fetch|go\s+mod\s+download)\b"
    r"|^(?:curl|wget|ssh|scp|docker|podman|gh)\b"
    r"|^git\s+(?:clone|fetch|pull|push|submodule)\b"
)
_NEEDS_HOST = re.compile(r"^(?:sudo|su|doas|apt(?:-get)?|brew|systemctl)\b")


def plan_claim_runs(commands: list[str], max_runs: int = MAX_CLAIM_RUNS) -> list[ClaimRun]:
    """One entry per claimed command, in order; those to run have an empty `skipped`."""
    plan: list[ClaimRun] = []
    runnable = 0
    for command in commands:
        reason = skip_reason(command)
        if not reason and runnable >= max_runs:
            reason = f"over the limit of {max_runs} claimed commands per review"
        if not reason:
            runnable += 1
        plan.append(ClaimRun(command=command, skipped=reason))
    return plan


def skip_reason(command: str) -> str:
    """Why a claimed command is not run, or "" to run it."""
    if not command.strip():
        return "empty command"
    if len(command) > MAX_COMMAND_CHARS:
        return f"longer than {MAX_COMMAND_CHARS} characters"
    for part in _segments(command):
        if _NETWORK.search(part):
            return "needs network, which the sandbox does not have (the setup step installs dependencies)"
        if _NEEDS_HOST.search(part):
            return "needs the host (root or a system service), which the sandbox does not give"
    return ""


def _segments(command: str) -> list[str]:
    """The simple commands of a shell line (`cd x && npm ci; pytest`), env assignments dropped."""
    parts = re.split(r"&&|\|\||;|\|", command)
    segments = []
    for part in parts:
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]
        if words:
            segments.append(" ".join(words))
    return segments
