"""App authentication endpoints and the caller's own identity: /app, installation tokens, /user, /rate_limit."""

from __future__ import annotations

from starlette.responses import Response

from .app import Ctx, GitHubError, forbidden_integration, json_reply, not_found, route

# -- app endpoints -----------------------------------------------------------------------------


@route("GET", "/app", auth="jwt")
def get_app(ctx: Ctx) -> Response:
    return json_reply(ctx.render.app(ctx.principal.app))


@route("POST", "/app/installations/{installation_id:int}/access_tokens", auth="jwt")
def create_access_token(ctx: Ctx, installation_id: int) -> Response:
    inst = ctx.state.installations.get(installation_id)
    if inst is None or inst.app is not ctx.principal.app:
        raise not_found()
    wanted = ctx.field("permissions", dict, default={}) or {}
    for category, level in wanted.items():
        granted = inst.permissions.get(category)
        if level not in ("read", "write") or granted is None or (level == "write" and granted != "write"):
            raise GitHubError(422, "The permissions requested are not granted to this installation.")
    permissions = dict(wanted) if wanted else dict(inst.permissions)
    permissions.setdefault("metadata", "read")
    names = ctx.field("repositories", list, default=None)
    ids = ctx.field("repository_ids", list, default=None)
    repos = None
    if names is not None or ids is not None:
        repos = set()
        for value in (names or []) + (ids or []):
            repo = None
            if isinstance(value, int):
                repo = next((r for r in ctx.state.repos.values() if r.id == value), None)
            elif isinstance(value, str):
                repo = ctx.state.find_repo(inst.account.login, value)
            if repo is None or not ctx.state.installation_includes(inst, repo):
                raise GitHubError(
                    422,
                    "There is at least one repository that does not exist or is not accessible "
                    "to the parent installation.",
                )
            repos.add(repo.key)
    token = ctx.state.mint_installation_token(inst, permissions, repos)
    body = {
        "token": token.value,
        "expires_at": token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "permissions": token.permissions,
        "repository_selection": "selected" if repos is not None else inst.repository_selection,
    }
    if repos is not None:
        body["repositories"] = [ctx.render.repository(ctx.state.repos[key]) for key in sorted(repos)]
    return json_reply(body, 201)


@route("GET", "/repos/{owner}/{repo}/installation", auth="jwt")
def repo_installation(ctx: Ctx, owner: str, repo: str) -> Response:
    target = ctx.state.find_repo(owner, repo)
    if target is not None:
        for inst in ctx.state.installations.values():
            if inst.app is not ctx.principal.app:
                continue
            if ctx.state.installation_includes(inst, target):
                return json_reply(ctx.render.installation(inst))
    raise not_found()


@route("GET", "/user")
def get_user(ctx: Ctx) -> Response:
    if ctx.principal.kind == "anonymous":
        raise GitHubError(401, "Requires authentication")
    if ctx.principal.kind != "user":
        raise forbidden_integration()
    return json_reply(ctx.render.private_user(ctx.principal.user))


@route("GET", "/rate_limit", auth="any")
def rate_limit(ctx: Ctx) -> Response:
    key = str(ctx.principal.call_id)
    limit = ctx.state.rate_limit if ctx.principal.kind != "anonymous" else 60
    used = ctx.state.rate_used.get(key, 0)
    reset = int(ctx.state.rate_reset.timestamp())
    core = {"limit": limit, "remaining": max(0, limit - used), "reset": reset, "used": used, "resource": "core"}

    def other(name: str, size: int) -> dict:
        return {"limit": size, "remaining": size, "reset": reset, "used": 0, "resource": name}

    return json_reply(
        {
            "resources": {
                "core": core,
                "search": other("search", 30),
                "graphql": other("graphql", 5000),
                "integration_manifest": other("integration_manifest", 5000),
                "code_search": other("code_search", 10),
            },
            "rate": core,
        }
    )
