"""Pull request endpoints: list/create/read/edit, files, commits, merge, update-branch, reviews."""

from __future__ import annotations

from starlette.responses import Response

from . import operations
from .app import (
    Ctx,
    GitHubError,
    forbidden_integration,
    invalid,
    json_reply,
    may_edit,
    not_found,
    paginate,
    pull_for,
    repo_for,
    route,
    set_issue_state,
    writable,
)
from .state import Review, level_at_least, utcnow

# -- pull requests -----------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(ctx: Ctx, owner: str, repo: str) -> Response:
    target = repo_for(ctx, owner, repo, category="pull_requests")
    wanted = ctx.query.get("state", "open")
    if wanted not in ("open", "closed", "all"):
        raise invalid(resource="PullRequest", field="state")
    pulls = [p for p in target.pulls() if wanted == "all" or p.state == wanted]
    if head := ctx.query.get("head"):
        owner_login, _, branch = head.rpartition(":")
        pulls = [
            p
            for p in pulls
            if p.head_ref == branch and (not owner_login or p.head_repo.owner.login.lower() == owner_login.lower())
        ]
    if base := ctx.query.get("base"):
        pulls = [p for p in pulls if p.base_ref == base]
    sort = ctx.query.get("sort", "created")
    direction = ctx.query.get("direction", "desc" if sort == "created" else "asc")
    key = {"updated": lambda p: (p.updated_at, p.number)}.get(sort, lambda p: (p.created_at, p.number))
    pulls.sort(key=key, reverse=direction == "desc")
    for pull in pulls:
        ctx.state.sync_pull(pull)
    page, headers = paginate(ctx, pulls)
    return json_reply([ctx.render.pull(p, full=False) for p in page], headers=headers)


@route("POST", "/repos/{owner}/{repo}/pulls")
def create_pull(ctx: Ctx, owner: str, repo: str) -> Response:
    target = writable(ctx, owner, repo, "pull_requests")
    title = ctx.field("title", str, required=True)
    head = ctx.field("head", str, required=True)
    base = ctx.field("base", str, required=True)
    body = ctx.field("body", str)
    draft = ctx.field("draft", bool, default=False)
    head_owner, _, branch = head.rpartition(":")
    head_repo = target
    if head_owner and head_owner.lower() != target.owner.login.lower():
        forks = [f for f in ctx.state.forks_of(target) if f.owner.login.lower() == head_owner.lower()]
        head_repo = forks[0] if forks else None
    if head_repo is None or head_repo.git.rev_parse(f"refs/heads/{branch}") is None:
        raise invalid(resource="PullRequest", field="head")
    if target.git.rev_parse(f"refs/heads/{base}") is None:
        raise invalid(resource="PullRequest", field="base")
    for pull in target.pulls():
        if pull.state == "open" and pull.head_repo is head_repo and pull.head_ref == branch and pull.base_ref == base:
            raise GitHubError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {head_repo.owner.login}:{branch}.",
                    }
                ],
            )
    with ctx.state.lock:
        if head_repo is not target:
            tmp = "refs/fakegithub/compare"
            target.git.fetch_ref(head_repo.git.path, f"refs/heads/{branch}", tmp)
            head_sha = target.git.ref_sha(tmp)
            target.git.delete_ref(tmp)
        else:
            head_sha = target.git.rev_parse(f"refs/heads/{branch}")
        base_sha = target.git.rev_parse(f"refs/heads/{base}")
        if not target.git.rev_list(base_sha, head_sha):
            raise GitHubError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"No commits between {base} and {branch}",
                    }
                ],
            )
        default_mcm = head_repo is not target
        pull = ctx.state.open_pull(
            target,
            head_repo,
            branch,
            base,
            title,
            body,
            ctx.actor,
            maintainer_can_modify=ctx.field("maintainer_can_modify", bool, default=default_mcm),
            draft=draft,
        )
    return json_reply(ctx.render.pull(pull), 201)


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}")
def get_pull(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = repo_for(ctx, owner, repo, category="pull_requests")
    return json_reply(ctx.render.pull(pull_for(ctx, target, pull_number)))


@route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number:int}")
def update_pull(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = writable(ctx, owner, repo, "pull_requests")
    pull = pull_for(ctx, target, pull_number)
    triage = level_at_least(ctx.state.repo_level(ctx.principal, target), "triage")
    if not may_edit(ctx, target, pull.user) and not triage:
        raise GitHubError(403, "Must have push access to repository")
    with ctx.state.lock:
        if (title := ctx.field("title", str)) is not None:
            pull.title = title
        if "body" in (ctx.body or {}):
            pull.body = ctx.field("body", str)
        if (base := ctx.field("base", str)) is not None:
            if target.git.rev_parse(f"refs/heads/{base}") is None:
                raise invalid(resource="PullRequest", field="base")
            pull.base_ref = base
        mcm = ctx.field("maintainer_can_modify", bool)
        if mcm is not None:
            if ctx.principal.user is not pull.user:
                raise GitHubError(422, "Only the pull request author can change maintainer_can_modify")
            pull.maintainer_can_modify = mcm and pull.head_repo is not target
        if (new_state := ctx.field("state", str)) is not None:
            if new_state not in ("open", "closed"):
                raise invalid(resource="PullRequest", field="state")
            set_issue_state(ctx, pull, new_state)
        pull.updated_at = utcnow()
        ctx.state.sync_pull(pull)
    return json_reply(ctx.render.pull(pull))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/files")
def pull_files(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = repo_for(ctx, owner, repo, category="pull_requests")
    pull = pull_for(ctx, target, pull_number)
    base = target.git.merge_base(pull.base_sha, pull.head_sha) or pull.base_sha
    files = target.git.diff_files(base, pull.head_sha)[:3000]
    page, headers = paginate(ctx, files)
    return json_reply([ctx.render.diff_entry(f, pull.head_repo, pull.head_sha) for f in page], headers=headers)


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/commits")
def pull_commits(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = repo_for(ctx, owner, repo, category="pull_requests")
    pull = pull_for(ctx, target, pull_number)
    shas = target.git.rev_list(pull.base_sha, pull.head_sha)[:250]
    page, headers = paginate(ctx, shas)
    infos = target.git.commits(page)
    return json_reply([ctx.render.commit(info, target) for info in infos], headers=headers)


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/merge")
def pull_merged(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = repo_for(ctx, owner, repo, category="pull_requests")
    if pull_for(ctx, target, pull_number).merged:
        return Response(status_code=204)
    raise not_found()


@route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number:int}/merge")
def merge_pull(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = repo_for(ctx, owner, repo, need="write", category="contents")
    if ctx.principal.kind == "installation" and ctx.principal.app_permission("contents") != "write":
        raise forbidden_integration()
    pull = pull_for(ctx, target, pull_number)
    method = ctx.field("merge_method", str, default="merge")
    if method not in operations.MERGE_METHODS:
        raise invalid(resource="PullRequest", field="merge_method")
    outcome = operations.merge_pull(
        ctx.state,
        pull,
        ctx.actor,
        method=method,
        commit_title=ctx.field("commit_title", str),
        commit_message=ctx.field("commit_message", str),
        sha=ctx.field("sha", str),
    )
    if outcome.status != 200:
        raise GitHubError(outcome.status, outcome.message)
    return json_reply({"sha": outcome.sha, "merged": True, "message": outcome.message})


@route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number:int}/update-branch")
def update_branch(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = writable(ctx, owner, repo, "pull_requests")
    pull = pull_for(ctx, target, pull_number)
    assert pull.head_repo is not None
    if not ctx.state.can_push(ctx.principal, pull.head_repo, f"refs/heads/{pull.head_ref}"):
        raise (
            forbidden_integration()
            if ctx.principal.kind == "installation"
            else GitHubError(403, "You do not have permission to update this pull request branch.")
        )
    outcome = operations.update_branch(ctx.state, pull, ctx.actor, ctx.field("expected_head_sha", str))
    if outcome.status != 202:
        raise GitHubError(outcome.status, outcome.message)
    return json_reply(
        {"message": outcome.message, "url": f"{ctx.render.web}/{target.full_name}/pull/{pull.number}"}, 202
    )


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/reviews")
def list_reviews(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = repo_for(ctx, owner, repo, category="pull_requests")
    pull = pull_for(ctx, target, pull_number)
    visible = [r for r in pull.reviews if r.state != "PENDING" or r.user is ctx.principal.user]
    page, headers = paginate(ctx, visible)
    return json_reply([ctx.render.review(r, pull) for r in page], headers=headers)


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number:int}/reviews")
def create_review(ctx: Ctx, owner: str, repo: str, pull_number: int) -> Response:
    target = writable(ctx, owner, repo, "pull_requests")
    pull = pull_for(ctx, target, pull_number)
    event = ctx.field("event", str)
    body = ctx.field("body", str, default="")
    commit_id = ctx.field("commit_id", str, default=pull.head_sha)
    states = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED", None: "PENDING"}
    if event not in states:
        raise GitHubError(422, "Unprocessable Entity", ["Event must be one of APPROVE, REQUEST_CHANGES, COMMENT"])
    if event in ("REQUEST_CHANGES", "COMMENT") and not body and not ctx.field("comments", list):
        raise GitHubError(422, "Unprocessable Entity", [f"Review Body is required for {event.lower()} reviews"])
    if event in ("APPROVE", "REQUEST_CHANGES") and ctx.actor is pull.user:
        verb = "approve" if event == "APPROVE" else "request changes on"
        raise GitHubError(422, "Unprocessable Entity", [f"Can not {verb} your own pull request"])
    review = Review(
        id=ctx.state.next_id("review"),
        user=ctx.actor,
        body=body,
        state=states[event],
        commit_id=commit_id,
        submitted_at=None if event is None else utcnow(),
        app=ctx.principal.installation.app if ctx.principal.installation else None,
    )
    with ctx.state.lock:
        pull.reviews.append(review)
    return json_reply(ctx.render.review(review, pull))
