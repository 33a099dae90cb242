"""Route a verified webhook delivery to actions: parsed JSON in, `Action`s out.

Pure: no I/O, no clock, no settings. The endpoint verifies the signature, parses
the body, calls `route(event, payload)` with the `X-GitHub-Event` header, and
queues / cancels / acknowledges what comes back. A `PayloadError` becomes a 400
carrying its message. Unknown events and unhandled actions are not errors: they
are acknowledged with an `Ignore` whose reason says why.

The models read only what the bot needs and ignore every other field, so GitHub
adding fields never breaks routing. They are strict about the fields they read
(a PR number is an int, a head SHA is a hex object name) because those values
become job keys and, later, arguments to git.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reviewbot.names import CHECK_NAME, valid_full_name
from reviewbot.review.commands import parse_command
from reviewbot.store.jobs import Action, Cancel, Enqueue, Ignore, JobKind, JobSpec
from reviewbot.store.queue import REREVIEW

DEFAULT_BOT_LOGIN = "reviewbot[bot]"
DEFAULT_COMMAND_PREFIXES: tuple[str, ...] = ("@reviewbot", "/reviewbot")

REVIEW_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
COMMENT_ACTIONS = frozenset({"created", "edited"})
EDIT_FIELDS_THAT_REVIEW = ("base", "body")  # a new body re-checks the proof claims; a new base re-proves
INSTALLATION_ACTIONS = frozenset({"created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"})
INSTALLATION_REPOSITORIES_ACTIONS = frozenset({"added", "removed"})
DRAFT_REASON = "draft PR: reviewed when ready for review"
AUTOMERGE_NOTE = "recorded, automerge not armed"
INSTALL_NOTE = "logged, no per-installation state is kept"

_SHA = r"^[0-9a-f]{40}([0-9a-f]{24})?$"  # SHA-1 or SHA-256 object name
# GitHub's rules: an owner is letters, digits and hyphens, not starting with a hyphen, at most 39 characters
# (Enterprise Managed Users add `_shortcode`); a repository name is letters, digits, `.`, `_`, `-`, at most 100,
# never `.` or `..`. Both become git URLs, paths and column values (repo: String(200)).
MAX_PR_NUMBER = 2**31 - 1  # jobs.pr_number is an INTEGER column
MAX_ID = 2**63 - 1  # installation and comment ids: BIGINT columns
MAX_LOGIN = 100  # pull_states.paused_by / armed_by
MAX_REF = 255  # git refuses longer ref names on most filesystems
MAX_COMMENT = 262_144  # GitHub caps a comment at 65,536 characters


class PayloadError(ValueError):
    """A handled event's payload lacks (or garbles) what the bot needs; the message says what."""


# --------------------------------------------------------------------------- models


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class _Repository(_Model):
    full_name: str

    @field_validator("full_name")
    @classmethod
    def _github_name(cls, value: str) -> str:
        if not valid_full_name(value):
            raise ValueError("not an owner/name GitHub allows")
        return value


class _Installation(_Model):
    id: int = Field(gt=0, le=MAX_ID)


class _Ref(_Model):
    ref: str = Field(min_length=1, max_length=MAX_REF)
    sha: str = Field(pattern=_SHA)


class _PullRequest(_Model):
    number: int = Field(gt=0, le=MAX_PR_NUMBER)
    draft: bool | None = None
    merged: bool | None = None
    head: _Ref
    base: _Ref


class _PullRequestEvent(_Model):
    pull_request: _PullRequest
    repository: _Repository
    installation: _Installation | None = None
    changes: dict[str, Any] | None = None


class _ClosedPullRequest(_Model):
    number: int = Field(gt=0, le=MAX_PR_NUMBER)
    merged: bool | None = None


class _ClosedPullRequestEvent(_Model):
    pull_request: _ClosedPullRequest
    repository: _Repository


class _User(_Model):
    login: str = Field(min_length=1, max_length=MAX_LOGIN)
    type: str = Field(default="", max_length=40)


class _Comment(_Model):
    id: int = Field(gt=0, le=MAX_ID)
    body: str | None = Field(default=None, max_length=MAX_COMMENT)
    user: _User
    author_association: str = Field(default="", max_length=40)


class _Issue(_Model):
    number: int = Field(gt=0, le=MAX_PR_NUMBER)
    pull_request: dict[str, Any] | None = None  # present (an object) only on pull requests


class _IssueCommentEvent(_Model):
    issue: _Issue
    comment: _Comment
    repository: _Repository
    installation: _Installation | None = None


class _RepositoryEvent(_Model):
    """What check and status events need: the repository, and the installation when there is one."""

    repository: _Repository
    installation: _Installation | None = None


_M = TypeVar("_M", bound=_Model)


def _parse(model: type[_M], event: str, payload: dict[str, Any]) -> _M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise PayloadError(_describe(event, exc)) from None


def _describe(event: str, exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    path = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in error["loc"]).replace(".[", "[")
    if error["type"] == "missing" or error.get("input", ...) is None:
        return f"{event} payload has no `{path}`"
    return f"{event} payload has an invalid `{path}`: {error['msg']}"


# --------------------------------------------------------------------------- routing


def route(
    event: str,
    payload: dict[str, Any],
    *,
    bot_login: str = DEFAULT_BOT_LOGIN,
    command_prefixes: tuple[str, ...] = DEFAULT_COMMAND_PREFIXES,
) -> list[Action]:
    """The actions one delivery asks for (usually exactly one)."""
    if event == "ping":
        return [Ignore(reason="ping")]
    handler = _HANDLERS.get(event)
    if handler is None:
        return [Ignore(reason=f"event {_show(event)} is not handled")]
    if not isinstance(payload, dict):
        raise PayloadError(f"{event} payload is not a JSON object")
    if event in _EVENTS_WITH_ACTION:
        action = payload.get("action")
        if action is None:
            raise PayloadError(f"{event} payload has no `action`")
        if not isinstance(action, str):
            raise PayloadError(f"{event} payload has an invalid `action`: not a string")
    return handler(event, payload, bot_login=bot_login, command_prefixes=command_prefixes)


def _pull_request(event: str, payload: dict[str, Any], **_: Any) -> list[Action]:
    action: str = payload["action"]
    if action == "closed":
        closed = _parse(_ClosedPullRequestEvent, event, payload)
        return [
            Cancel(
                repo=closed.repository.full_name,
                pr_number=closed.pull_request.number,
                reason="merged" if closed.pull_request.merged else "closed",
            )
        ]
    if action not in REVIEW_ACTIONS and action != "edited":
        return [Ignore(reason=f"pull_request action {_show(action)} is not handled")]

    parsed = _parse(_PullRequestEvent, event, payload)
    pr = parsed.pull_request
    extra: dict[str, Any] = {}
    if action == "edited":
        changed = sorted(key for key in (parsed.changes or {}) if key in EDIT_FIELDS_THAT_REVIEW)
        if not changed:
            fields = ", ".join(sorted(parsed.changes or {})) or "nothing"
            return [Ignore(reason=f"pull_request edited ({fields}): neither the body nor the base changed")]
        extra["edited_fields"] = changed
    if pr.draft and action != "ready_for_review":
        return [Ignore(reason=DRAFT_REASON)]
    job = JobSpec(
        kind=JobKind.REVIEW,
        repo=parsed.repository.full_name,
        pr_number=pr.number,
        head_sha=pr.head.sha,
        installation_id=parsed.installation.id if parsed.installation else None,
        reason=action,
        payload={
            "base_ref": pr.base.ref,
            "head_ref": pr.head.ref,
            "draft": bool(pr.draft),
            "delivery_reason": action,
            **extra,
            **_pusher(action, payload),
        },
    )
    return [Enqueue(job=job)]


def _pusher(action: str, payload: dict[str, Any]) -> dict[str, str]:
    """Who pushed a new head: an armed automerge pauses when it is someone without write access."""
    sender = payload.get("sender")
    login = sender.get("login") if isinstance(sender, dict) else None
    usable = isinstance(login, str) and 0 < len(login) <= MAX_LOGIN
    return {"pushed_by": login} if action == "synchronize" and usable else {}


def _issue_comment(
    event: str, payload: dict[str, Any], *, bot_login: str, command_prefixes: tuple[str, ...]
) -> list[Action]:
    action: str = payload["action"]
    if action not in COMMENT_ACTIONS:
        return [Ignore(reason=f"issue_comment action {_show(action)} is not handled")]
    parsed = _parse(_IssueCommentEvent, event, payload)
    if parsed.issue.pull_request is None:
        return [Ignore(reason=f"issue_comment {action} on issue #{parsed.issue.number}, not a pull request")]
    comment = parsed.comment
    if comment.user.login.casefold() == bot_login.casefold():
        return [Ignore(reason=f"issue_comment {action} by the bot itself")]
    body = comment.body or ""
    if not has_command(body, bot_login=bot_login, command_prefixes=command_prefixes):
        return [Ignore(reason=f"issue_comment {action}: no command line in comment {comment.id}")]
    job = JobSpec(
        kind=JobKind.COMMAND,
        repo=parsed.repository.full_name,
        pr_number=parsed.issue.number,
        installation_id=parsed.installation.id if parsed.installation else None,
        reason=action,
        payload={
            "comment_id": comment.id,
            "comment_body": body,
            "author": comment.user.login,
            "author_type": comment.user.type,
            "author_association": comment.author_association,
        },
    )
    return [Enqueue(job=job)]


def _checks(event: str, payload: dict[str, Any], **_: Any) -> list[Action]:
    """A completed check may open the last gate of an armed automerge: advance the PRs it names.
    "Re-run" on the bot's check asks for a new review of that head."""
    action: str = payload["action"]
    if action == "rerequested":
        return _rerun(event, payload)
    if action != "completed":
        return [Ignore(reason=f"{event} action {_show(action)} is not handled")]
    repo, installation = _repository_and_installation(event, payload)
    numbers = _checked_prs(event, payload)
    if not numbers:
        return [Ignore(reason=f"{event} completed: {AUTOMERGE_NOTE}")]
    return [
        Enqueue(
            job=JobSpec(
                kind=JobKind.AUTOMERGE,
                repo=repo,
                pr_number=number,
                installation_id=installation,
                reason=f"{event} completed",
            )
        )
        for number in numbers
    ]


def _rerun(event: str, payload: dict[str, Any]) -> list[Action]:
    """GitHub's "Re-run" button on the bot's check run or suite (GitHub sends these only to the app that
    made the check, and only people with write access may press it): a maintainer's re-review of that head."""
    repo, installation = _repository_and_installation(event, payload)
    body = payload.get(event) if isinstance(payload.get(event), dict) else {}
    if event == "check_run" and body.get("name") != CHECK_NAME:
        return [Ignore(reason=f"check_run rerequested for {_show(body.get('name'))}, not {CHECK_NAME!r}")]
    head = body.get("head_sha")
    if not isinstance(head, str) or not re.fullmatch(_SHA, head):
        raise PayloadError(f"{event} payload has an invalid `{event}.head_sha`")
    numbers = _checked_prs(event, payload)
    if not numbers:
        return [Ignore(reason=f"{event} rerequested: it names no pull request of this repository")]
    sender = payload.get("sender")
    login = sender.get("login") if isinstance(sender, dict) else None
    who = {"requested_by": login} if isinstance(login, str) and 0 < len(login) <= MAX_LOGIN else {}
    return [
        Enqueue(
            job=JobSpec(
                kind=JobKind.REVIEW,
                repo=repo,
                pr_number=number,
                head_sha=head,
                installation_id=installation,
                reason=REREVIEW,
                payload=who,
            )
        )
        for number in numbers
    ]


def _checked_prs(event: str, payload: dict[str, Any]) -> list[int]:
    body = payload.get(event) if isinstance(payload.get(event), dict) else {}
    pulls = body.get("pull_requests") or (body.get("check_suite") or {}).get("pull_requests") or []
    return sorted({p["number"] for p in pulls if isinstance(p, dict) and _is_pr_number(p.get("number"))})


def _status(event: str, payload: dict[str, Any], **_: Any) -> list[Action]:
    """A commit status names a SHA, not a PR: advance every armed automerge of the repository (pr_number 0)."""
    state = payload.get("state")
    if state == "pending":
        return [Ignore(reason="status pending: nothing can merge on a pending check")]
    repo, installation = _repository_and_installation(event, payload)
    return [
        Enqueue(
            job=JobSpec(
                kind=JobKind.AUTOMERGE,
                repo=repo,
                pr_number=0,
                installation_id=installation,
                reason=f"status {_clean(str(state), 20)}",
            )
        )
    ]


def _repository_and_installation(event: str, payload: dict[str, Any]) -> tuple[str, int | None]:
    parsed = _parse(_RepositoryEvent, event, payload)
    return parsed.repository.full_name, parsed.installation.id if parsed.installation else None


def _is_pr_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_PR_NUMBER


def _installation(event: str, payload: dict[str, Any], **_: Any) -> list[Action]:
    action: str = payload["action"]
    handled = INSTALLATION_ACTIONS if event == "installation" else INSTALLATION_REPOSITORIES_ACTIONS
    if action not in handled:
        return [Ignore(reason=f"{event} action {_show(action)} is not handled")]
    account = _account(payload)
    if event == "installation_repositories":
        key = "repositories_added" if action == "added" else "repositories_removed"
        repos = payload.get(key)
        count = len(repos) if isinstance(repos, list) else 0
        noun = "repository" if count == 1 else "repositories"
        return [Ignore(reason=f"installation_repositories {action} for {account} ({count} {noun}): {INSTALL_NOTE}")]
    return [Ignore(reason=f"installation {action} for {account}: {INSTALL_NOTE}")]


def _account(payload: dict[str, Any]) -> str:
    installation = payload.get("installation")
    account = installation.get("account") if isinstance(installation, dict) else None
    login = account.get("login") if isinstance(account, dict) else None
    return _clean(login) if isinstance(login, str) and login else "an unknown account"


_HANDLERS = {
    "pull_request": _pull_request,
    "issue_comment": _issue_comment,
    "check_suite": _checks,
    "check_run": _checks,
    "status": _status,
    "installation": _installation,
    "installation_repositories": _installation,
}
_EVENTS_WITH_ACTION = frozenset(_HANDLERS) - {"status"}


# --------------------------------------------------------------------------- commands


def command_handles(
    *, bot_login: str = DEFAULT_BOT_LOGIN, command_prefixes: tuple[str, ...] = DEFAULT_COMMAND_PREFIXES
) -> tuple[str, ...]:
    """The handles a command may start with: each command prefix, and `@<bot_login>`.

    With the defaults that is `reviewbot.review.commands.DEFAULT_HANDLES`. No slug is derived
    from the login: a custom bot is addressed by the prefixes it is given plus `@<login>`.
    """
    login = bot_login.strip().lstrip("@")
    handles = [prefix.strip() for prefix in command_prefixes if prefix.strip()]
    if login:
        handles.append("@" + login)
    return tuple(dict.fromkeys(handles))


def has_command(
    body: str | None,
    *,
    bot_login: str = DEFAULT_BOT_LOGIN,
    command_prefixes: tuple[str, ...] = DEFAULT_COMMAND_PREFIXES,
) -> bool:
    """Whether the comment carries a command (`parse_command` decides), an unknown word or a
    bare handle included: the worker answers those with help."""
    handles = command_handles(bot_login=bot_login, command_prefixes=command_prefixes)
    return parse_command(body, handles) is not None


# --------------------------------------------------------------------------- logs


def delivery_summary(event: str, payload: dict[str, Any]) -> str:
    """`owner/name#12 pull_request.opened` for logs; never raises, whatever the payload."""
    name = _clean(event) if isinstance(event, str) and event else "?"
    if not isinstance(payload, dict):
        return f"- {name}"
    action = payload.get("action")
    if isinstance(action, str) and action:
        name = f"{name}.{_clean(action)}"
    repository = payload.get("repository")
    repo = repository.get("full_name") if isinstance(repository, dict) else None
    where = _clean(repo) if isinstance(repo, str) and repo else "-"
    number = _number(payload)
    if number is not None:
        where = f"{where}#{number}"
    return f"{where} {name}"[:300]  # deliveries.summary


def _number(payload: dict[str, Any]) -> int | None:
    candidates: list[Any] = [payload.get("number")]
    for key in ("pull_request", "issue"):
        obj = payload.get(key)
        if isinstance(obj, dict):
            candidates.append(obj.get("number"))
    for key in ("check_suite", "check_run"):
        obj = payload.get(key)
        prs = obj.get("pull_requests") if isinstance(obj, dict) else None
        if isinstance(prs, list) and prs and isinstance(prs[0], dict):
            candidates.append(prs[0].get("number"))
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _clean(text: str, limit: int = 100) -> str:
    """Printable, bounded: payload strings end up in log lines and HTTP replies."""
    cleaned = text[:limit]
    if not cleaned.isprintable():  # the usual case skips the walk over each character
        cleaned = "".join(ch if ch.isprintable() else "?" for ch in cleaned)
    return cleaned + ("..." if len(text) > limit else "")


def _show(value: Any) -> str:
    return repr(_clean(value)) if isinstance(value, str) else repr(value)[:100]
