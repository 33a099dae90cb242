"""Issue endpoints: issues, comments (paginated), reactions and labels."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.responses import Response

from .app import (
    Ctx,
    GitHubError,
    comment_for,
    forbidden_integration,
    invalid,
    issue_category,
    issue_for,
    json_reply,
    may_edit,
    not_found,
    paginate,
    parse_time,
    repo_for,
    route,
    set_issue_state,
    writable,
)
from .render import REACTION_KEYS
from .state import Issue, IssueComment, Label, Reaction, Repo, level_at_least, utcnow

MAX_COMMENT = 65536  # GitHub's limit on comment bodies, in characters


# -- issues and comments -----------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}")
def get_issue(ctx: Ctx, owner: str, repo: str, issue_number: int) -> Response:
    target = repo_for(
        ctx, owner, repo, category="issues" if ctx.principal.app_permission("issues") != "none" else "pull_requests"
    )
    return json_reply(ctx.render.issue(issue_for(target, issue_number)))


@route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number:int}")
def update_issue(ctx: Ctx, owner: str, repo: str, issue_number: int) -> Response:
    target = repo_for(ctx, owner, repo)
    issue = issue_for(target, issue_number)
    writable(ctx, owner, repo, issue_category(issue))
    triage = level_at_least(ctx.state.repo_level(ctx.principal, target), "triage")
    if not triage and ctx.principal.user is not issue.user:
        raise GitHubError(403, "Must have push access to repository")
    with ctx.state.lock:
        if (title := ctx.field("title", (str, int))) is not None:
            issue.title = str(title)
        if "body" in (ctx.body or {}):
            issue.body = ctx.field("body", str)
        if (labels := ctx.field("labels", list)) is not None and triage:
            wanted = {name.lower() for name in label_names(labels)}
            for label in [label for label in issue.labels if label.name.lower() not in wanted]:
                issue.labels.remove(label)
                ctx.state.record(issue, "unlabeled", label=label.name)
            add_labels(ctx, target, issue, labels)
        if (new_state := ctx.field("state", str)) is not None:
            if new_state not in ("open", "closed"):
                raise invalid(resource="Issue", field="state")
            set_issue_state(ctx, issue, new_state, ctx.field("state_reason", str))
        issue.updated_at = utcnow()
    return json_reply(ctx.render.issue(issue))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}/comments")
def list_comments(ctx: Ctx, owner: str, repo: str, issue_number: int) -> Response:
    target = repo_for(ctx, owner, repo)
    issue_for(target, issue_number)
    comments = sorted(ctx.render.issue_comments_of(target, issue_number), key=lambda c: c.id)
    if since := ctx.query.get("since"):
        moment = parse_time(since, "since")
        comments = [c for c in comments if c.updated_at >= moment]
    page, headers = paginate(ctx, comments)
    return json_reply([ctx.render.comment(c) for c in page], headers=headers)


def check_comment_body(ctx: Ctx) -> str:
    body = ctx.field("body", str, required=True)
    if len(body) > MAX_COMMENT:
        raise GitHubError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "IssueComment",
                    "code": "unprocessable",
                    "field": "data",
                    "message": f"Body is too long (maximum is {MAX_COMMENT} characters)",
                }
            ],
        )
    return body


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number:int}/comments")
def create_comment(ctx: Ctx, owner: str, repo: str, issue_number: int) -> Response:
    target = repo_for(ctx, owner, repo)
    issue = issue_for(target, issue_number)
    writable(ctx, owner, repo, issue_category(issue))
    body = check_comment_body(ctx)
    if issue.locked and not level_at_least(ctx.state.repo_level(ctx.principal, target), "write"):
        raise GitHubError(403, "Unable to create comment because issue is locked.")
    comment = IssueComment(
        id=ctx.state.next_id("comment"),
        repo=target,
        issue_number=issue.number,
        body=body,
        user=ctx.actor,
        app=ctx.principal.installation.app if ctx.principal.installation else None,
    )
    with ctx.state.lock:
        ctx.state.comments[comment.id] = comment
        issue.updated_at = comment.created_at
    return json_reply(
        ctx.render.comment(comment),
        201,
        headers={"Location": f"{ctx.render.api}/repos/{target.full_name}/issues/comments/{comment.id}"},
    )


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}")
def get_comment(ctx: Ctx, owner: str, repo: str, comment_id: int) -> Response:
    target = repo_for(ctx, owner, repo)
    return json_reply(ctx.render.comment(comment_for(ctx, target, comment_id)))


def _comment_for_write(ctx: Ctx, owner: str, repo: str, comment_id: int) -> tuple[Repo, IssueComment]:
    target = repo_for(ctx, owner, repo)
    comment = comment_for(ctx, target, comment_id)
    issue = target.issues.get(comment.issue_number)
    writable(ctx, owner, repo, issue_category(issue) if issue else "issues")
    if not may_edit(ctx, target, comment.user):
        raise (
            forbidden_integration()
            if ctx.principal.kind == "installation"
            else GitHubError(403, "Must have push access to repository")
        )
    return target, comment


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}")
def edit_comment(ctx: Ctx, owner: str, repo: str, comment_id: int) -> Response:
    _, comment = _comment_for_write(ctx, owner, repo, comment_id)
    body = check_comment_body(ctx)
    with ctx.state.lock:
        comment.body = body
        comment.updated_at = utcnow()
    return json_reply(ctx.render.comment(comment))


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}")
def delete_comment(ctx: Ctx, owner: str, repo: str, comment_id: int) -> Response:
    _, comment = _comment_for_write(ctx, owner, repo, comment_id)
    with ctx.state.lock:
        ctx.state.comments.pop(comment.id, None)
    return Response(status_code=204)


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions")
def list_reactions(ctx: Ctx, owner: str, repo: str, comment_id: int) -> Response:
    target = repo_for(ctx, owner, repo)
    comment = comment_for(ctx, target, comment_id)
    reactions = list(comment.reactions)
    if content := ctx.query.get("content"):
        reactions = [r for r in reactions if r.content == content]
    page, headers = paginate(ctx, reactions)
    return json_reply([ctx.render.reaction(r) for r in page], headers=headers)


@route("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions")
def create_reaction(ctx: Ctx, owner: str, repo: str, comment_id: int) -> Response:
    target = repo_for(ctx, owner, repo)
    comment = comment_for(ctx, target, comment_id)
    issue = target.issues.get(comment.issue_number)
    writable(ctx, owner, repo, issue_category(issue) if issue else "issues")
    content = ctx.field("content", str, required=True)
    if content not in REACTION_KEYS:
        raise invalid(resource="Reaction", field="content")
    with ctx.state.lock:
        for reaction in comment.reactions:
            if reaction.user is ctx.actor and reaction.content == content:
                return json_reply(ctx.render.reaction(reaction), 200)
        reaction = Reaction(id=ctx.state.next_id("reaction"), content=content, user=ctx.actor)
        comment.reactions.append(reaction)
    return json_reply(ctx.render.reaction(reaction), 201)


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions/{reaction_id:int}")
def delete_reaction(ctx: Ctx, owner: str, repo: str, comment_id: int, reaction_id: int) -> Response:
    target = repo_for(ctx, owner, repo)
    comment = comment_for(ctx, target, comment_id)
    issue = target.issues.get(comment.issue_number)
    writable(ctx, owner, repo, issue_category(issue) if issue else "issues")
    with ctx.state.lock:
        reaction = next((r for r in comment.reactions if r.id == reaction_id), None)
        if reaction is None:
            raise not_found()
        if reaction.user is not ctx.principal.user:
            raise forbidden_integration() if ctx.principal.kind == "installation" else GitHubError(403, "Forbidden")
        comment.reactions.remove(reaction)
    return Response(status_code=204)


# -- labels ------------------------------------------------------------------------------------


def repo_label(ctx: Ctx, repo: Repo, name: str, create: bool = True) -> Label | None:
    label = repo.labels.get(name.lower())
    if label is None and create:
        label = Label(id=ctx.state.next_id("label"), name=name)
        repo.labels[name.lower()] = label
    return label


def label_names(value: Any) -> list[str]:
    """The label list of a POST/PUT body: ["a"], {"labels": ["a"]} or {"labels": [{"name": "a"}]}."""
    items = value.get("labels", []) if isinstance(value, dict) else value
    if items is None:
        return []
    if not isinstance(items, list):
        raise invalid(resource="Label", field="labels")
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise invalid(resource="Label", field="name")
        names.append(name.strip())
    return names


def add_labels(ctx: Ctx, repo: Repo, issue: Issue, names: list) -> None:
    for name in label_names(names):
        label = repo_label(ctx, repo, name)
        if label not in issue.labels:
            issue.labels.append(label)
            ctx.state.record(issue, "labeled", label=label.name)


def labels_reply(ctx: Ctx, repo: Repo, issue: Issue) -> Response:
    return json_reply([ctx.render.label(label, repo) for label in issue.labels])


def _labels_target(ctx: Ctx, owner: str, repo: str, issue_number: int) -> tuple[Repo, Issue]:
    target = repo_for(ctx, owner, repo)
    issue = issue_for(target, issue_number)
    writable(ctx, owner, repo, issue_category(issue), need="triage")
    if not level_at_least(ctx.state.repo_level(ctx.principal, target), "triage"):
        raise GitHubError(403, "Must have triage access to repository")
    return target, issue


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}/labels")
def list_issue_labels(ctx: Ctx, owner: str, repo: str, issue_number: int) -> Response:
    target = repo_for(ctx, owner, repo)
    issue = issue_for(target, issue_number)
    page, headers = paginate(ctx, issue.labels)
    return json_reply([ctx.render.label(label, target) for label in page], headers=headers)


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number:int}/labels")
def add_issue_labels(ctx: Ctx, owner: str, repo: str, issue_number: int) -> Response:
    target, issue = _labels_target(ctx, owner, repo, issue_number)
    with ctx.state.lock:
        add_labels(ctx, target, issue, ctx.body)
        issue.updated_at = utcnow()
    return labels_reply(ctx, target, issue)


@route("PUT", "/repos/{owner}/{repo}/issues/{issue_number:int}/labels")
def set_issue_labels(ctx: Ctx, owner: str, repo: str, issue_number: int) -> Response:
    target, issue = _labels_target(ctx, owner, repo, issue_number)
    with ctx.state.lock:
        wanted = {name.lower() for name in label_names(ctx.body)}
        for label in [label for label in issue.labels if label.name.lower() not in wanted]:
            issue.labels.remove(label)
            ctx.state.record(issue, "unlabeled", label=label.name)
        add_labels(ctx, target, issue, ctx.body)
        issue.updated_at = utcnow()
    return labels_reply(ctx, target, issue)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number:int}/labels/{name:path}")
def remove_issue_label(ctx: Ctx, owner: str, repo: str, issue_number: int, name: str) -> Response:
    target, issue = _labels_target(ctx, owner, repo, issue_number)
    name = unquote(name)
    with ctx.state.lock:
        match = next((label for label in issue.labels if label.name.lower() == name.lower()), None)
        if match is None:
            raise not_found("Label does not exist")
        issue.labels.remove(match)
        ctx.state.record(issue, "unlabeled", label=match.name)
        issue.updated_at = utcnow()
    return labels_reply(ctx, target, issue)


@route("GET", "/repos/{owner}/{repo}/labels")
def list_repo_labels(ctx: Ctx, owner: str, repo: str) -> Response:
    target = repo_for(ctx, owner, repo, category="metadata")
    labels = sorted(target.labels.values(), key=lambda label: label.id)
    page, headers = paginate(ctx, labels)
    return json_reply([ctx.render.label(label, target) for label in page], headers=headers)


@route("POST", "/repos/{owner}/{repo}/labels")
def create_repo_label(ctx: Ctx, owner: str, repo: str) -> Response:
    target = writable(ctx, owner, repo, "issues", need="write")
    if not level_at_least(ctx.state.repo_level(ctx.principal, target), "write"):
        raise GitHubError(403, "Must have push access to repository")
    name = ctx.field("name", str, required=True).strip()
    color = ctx.field("color", str, default="ededed").lstrip("#")
    if len(color) != 6 or any(c not in "0123456789abcdefABCDEF" for c in color):
        raise invalid(resource="Label", field="color")
    with ctx.state.lock:
        if name.lower() in target.labels:
            raise GitHubError(
                422, "Validation Failed", [{"resource": "Label", "code": "already_exists", "field": "name"}]
            )
        label = Label(
            id=ctx.state.next_id("label"), name=name, color=color.lower(), description=ctx.field("description", str)
        )
        target.labels[name.lower()] = label
    return json_reply(ctx.render.label(label, target), 201)
