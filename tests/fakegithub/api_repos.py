"""Repository endpoints: metadata, collaborator permission, branches, contents and git refs."""

from __future__ import annotations

import base64

from starlette.responses import Response

from .app import Ctx, GitHubError, json_reply, not_found, repo_for, resolve_commit, route

# -- repositories ------------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}")
def get_repo(ctx: Ctx, owner: str, repo: str) -> Response:
    target = repo_for(ctx, owner, repo, category="metadata")
    return json_reply(ctx.render.repository(target, ctx.principal, full=True))


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def collaborator_permission(ctx: Ctx, owner: str, repo: str, username: str) -> Response:
    target = repo_for(ctx, owner, repo, category="metadata")
    user = ctx.state.users.get(username.lower())
    if user is None:
        raise not_found()
    level = ctx.state.user_level(user, target)
    if user.type == "Bot":
        installed = any(
            inst.app.bot is user and ctx.state.installation_includes(inst, target)
            for inst in ctx.state.installations.values()
        )
        level = "write" if installed else "none"
    if level == "none" and not target.private:
        level = "read"
    coarse = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
    coarse = coarse.get(level, "none")
    return json_reply(
        {
            "permission": coarse,
            "role_name": level,
            "user": {**ctx.render.user(user), "permissions": ctx.render.permissions(level), "role_name": level},
        }
    )


@route("GET", "/repos/{owner}/{repo}/rules/branches/{branch:path}")
def branch_rules(ctx: Ctx, owner: str, repo: str, branch: str) -> Response:
    target = repo_for(ctx, owner, repo, category="metadata")
    return json_reply(ctx.render.branch_rules(target, branch))


@route("GET", "/repos/{owner}/{repo}/branches/{branch:path}")
def get_branch(ctx: Ctx, owner: str, repo: str, branch: str) -> Response:
    target = repo_for(ctx, owner, repo, category="contents")
    sha = target.git.rev_parse(f"refs/heads/{branch}")
    if sha is None:
        raise not_found("Branch not found")
    return json_reply(ctx.render.branch(target, branch, target.git.commit(sha)))


@route("GET", "/repos/{owner}/{repo}/contents/{path:path}")
def get_contents(ctx: Ctx, owner: str, repo: str, path: str) -> Response:
    target = repo_for(ctx, owner, repo, category="contents")
    ref = ctx.query.get("ref") or target.default_branch
    sha = resolve_commit(target, ref)
    if sha is None:
        raise not_found(f"No commit found for the ref {ref}")
    path = path.strip("/")
    entry = target.git.tree_entry(sha, path)
    if entry is None:
        raise not_found()
    render = ctx.render
    if entry.type == "tree":
        items = []
        for child in target.git.list_tree(sha, path):
            blob_kind = "symlink" if child.mode == "120000" else "file"
            kind = {"tree": "dir", "commit": "submodule"}.get(child.type, blob_kind)
            items.append(render.content_item(target, child.path, ref, kind, child.sha, child.size))
        return json_reply(items)
    if entry.type == "commit":
        item = render.content_item(target, path, ref, "submodule", entry.sha, 0)
        item["submodule_git_url"] = ""
        return json_reply(item)
    data = target.git.blob(entry.sha)
    if entry.mode == "120000":
        item = render.content_item(target, path, ref, "symlink", entry.sha, len(data))
        item["target"] = data.decode(errors="replace")
        return json_reply(item)
    item = render.content_item(target, path, ref, "file", entry.sha, len(data))
    if len(data) > 1024 * 1024:
        item.update({"encoding": "none", "content": ""})
    else:
        item.update({"encoding": "base64", "content": base64.encodebytes(data).decode()})
    return json_reply(item)


# -- git refs ----------------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/git/ref/{ref:path}")
def get_ref(ctx: Ctx, owner: str, repo: str, ref: str) -> Response:
    target = repo_for(ctx, owner, repo, category="contents")
    full = f"refs/{ref}"
    sha = target.git.ref_sha(full) if ref.startswith(("heads/", "tags/", "pull/")) else None
    if sha is None:
        raise not_found()
    return json_reply(ctx.render.git_ref(target, full, sha))


@route("POST", "/repos/{owner}/{repo}/git/refs")
def create_ref(ctx: Ctx, owner: str, repo: str) -> Response:
    target = repo_for(ctx, owner, repo, need="write", category="contents")
    ref = ctx.field("ref", str, required=True)
    sha = ctx.field("sha", str, required=True)
    if not ref.startswith("refs/") or ref.count("/") < 2 or ref.startswith("refs/pull/"):
        raise GitHubError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    if target.git.ref_sha(ref) is not None:
        raise GitHubError(422, "Reference already exists")
    if target.git.object_type(sha) is None:
        raise GitHubError(422, "Object does not exist")
    target.git.update_ref(ref, sha)
    ctx.state.refresh_after_push(target)
    return json_reply(ctx.render.git_ref(target, ref, sha), 201)


@route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref:path}")
def update_ref(ctx: Ctx, owner: str, repo: str, ref: str) -> Response:
    target = repo_for(ctx, owner, repo, need="write", category="contents")
    sha = ctx.field("sha", str, required=True)
    force = ctx.field("force", bool, default=False)
    full = f"refs/{ref}"
    current = target.git.ref_sha(full)
    if current is None or ref.startswith("pull/"):
        raise GitHubError(422, "Reference does not exist")
    if target.git.object_type(sha) is None:
        raise GitHubError(422, "Object does not exist")
    if not force and not target.git.is_ancestor(current, sha):
        raise GitHubError(422, "Update is not a fast forward")
    target.git.update_ref(full, sha, current)
    ctx.state.refresh_after_push(target)
    return json_reply(ctx.render.git_ref(target, full, sha))


@route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref:path}")
def delete_ref(ctx: Ctx, owner: str, repo: str, ref: str) -> Response:
    target = repo_for(ctx, owner, repo, need="write", category="contents")
    full = f"refs/{ref}"
    if target.git.ref_sha(full) is None or ref.startswith("pull/"):
        raise GitHubError(422, "Reference does not exist")
    target.git.delete_ref(full)
    return Response(status_code=204)
