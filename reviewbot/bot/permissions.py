"""Who may run which maintainer command: one table, decided without touching GitHub.

A comment's author is checked in this order:

1. the bot itself: never (its own replies must not trigger anything);
2. any other bot (`type` "Bot", or a login ending in `[bot]`): ignored unless its login is on
   the allow list; an allow-listed bot is then held to the same rules as a person;
3. the command's row: anyone, the PR's author, or a collaborator with at least write access.

An unknown command (none, or one the bot does not know) gets the help answer, which anyone
may have. A permission that could not be looked up counts as none. Logins compare
case-insensitively, as GitHub treats them.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.model import Permission


@dataclass(frozen=True)
class Actor:
    login: str
    type: str  # "User" | "Bot" | "Organization", as GitHub's `user.type`


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # one short sentence; the refusal reply when not allowed


@dataclass(frozen=True)
class _Rule:
    minimum: Permission | None  # None: anyone
    author: bool = False  # the PR's author may run it whatever their permission

    def who(self) -> str:
        if self.minimum is None:
            return "anyone"
        levels = [level.value for level in reversed(Permission) if level.at_least(self.minimum)]
        collaborators = (
            f"collaborators with {', '.join(levels[:-1])} or {levels[-1]} access"
            if len(levels) > 1
            else f"collaborators with {levels[0]} access"
        )
        return f"the PR's author, or {collaborators}" if self.author else collaborators


_RULES: dict[str, _Rule] = {
    "re-review": _Rule(Permission.WRITE, author=True),
    "automerge": _Rule(Permission.WRITE),
    "stop": _Rule(Permission.WRITE),
    "resume": _Rule(Permission.WRITE),
    "status": _Rule(None),
    "help": _Rule(None),
}

COMMANDS: tuple[str, ...] = tuple(_RULES)
PERMISSION_TABLE: list[tuple[str, str]] = [(command, rule.who()) for command, rule in _RULES.items()]

SELF_REASON = "The bot never runs commands from its own comments."
BOT_REASON = "Comments by bots are ignored unless the bot is on the allow list."


def is_bot(actor: Actor) -> bool:
    return actor.type == "Bot" or actor.login.lower().endswith("[bot]")


def decide(
    command: str | None,
    actor: Actor,
    pr_author: str,
    permission: Permission | None,
    allowed_bots: frozenset[str] = frozenset(),
    *,
    self_login: str,
) -> Decision:
    """May `actor` run `command` on a PR opened by `pr_author`, holding `permission` (None: unknown)?"""
    login = actor.login.lower()
    if self_login and login == self_login.lower():
        return Decision(False, SELF_REASON)
    if is_bot(actor) and login not in {bot.lower() for bot in allowed_bots}:
        return Decision(False, BOT_REASON)
    name = (command or "").strip().lower()
    rule = _RULES.get(name)
    if rule is None:
        return Decision(True, "Anyone may get the help answer.")
    if rule.minimum is None:
        return Decision(True, f"`@reviewbot {name}` can be run by anyone.")
    level = Permission(permission) if permission is not None else Permission.NONE
    if rule.author and pr_author and login == pr_author.lower():
        return Decision(True, f"`@reviewbot {name}` can be run by the PR's author.")
    if level.at_least(rule.minimum):
        return Decision(True, f"`@reviewbot {name}` can be run by collaborators with {level.value} access.")
    return Decision(False, f"`@reviewbot {name}` can be run by {rule.who()}.")


def table_markdown() -> str:
    """The table of commands and who may run them (docs/automerge-and-replacements.md)."""
    lines = ["| Command | Who may run it |", "| --- | --- |"]
    lines += [f"| `@reviewbot {command}` | {who} |" for command, who in PERMISSION_TABLE]
    return "\n".join(lines) + "\n"
