"""The FastAPI app: routing, GitHub's error bodies, pagination and the access checks every endpoint shares.

The endpoints themselves live in `api_*.py`, at GitHub's paths. Handlers are plain functions of
a `Ctx` (caller, JSON body, query) registered with `@route`; they run in the thread pool, one
at a time under the state lock, because most of them shell out to git. Each raises `GitHubError`
for the 4xx answers GitHub gives (404 for anything the caller may not see, 403 "Resource not
accessible by integration" for missing app permissions, 422 with `errors` for bad input).
"""

from __future__ import annotations

import json
import math
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from .auth import AuthError, principal_for
from .render import Renderer
from .state import Issue, IssueComment, Principal, PullRequest, Repo, State, level_at_least, utcnow

if TYPE_CHECKING:
    from .server import FakeGitHub

DOCS = "https://docs.github.com/rest"
UNROUTED = "fakegithub.unrouted"
PRINCIPAL = "fakegithub.principal"


class GitHubError(Exception):
    """An error answer in GitHub's shape: {"message", "documentation_url", "status"[, "errors"]}."""

    def __init__(self, status: int, message: str, errors: list | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message, self.errors, self.headers)


def error_response(status: int, message: str, errors: list | None = None, headers: dict | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


def not_found(message: str = "Not Found") -> GitHubError:
    return GitHubError(404, message)


def invalid(resource: str, field: str, code: str = "invalid") -> GitHubError:
    """422 "Validation Failed" with one `errors` entry, the way GitHub reports a bad field."""
    return GitHubError(422, "Validation Failed", [{"resource": resource, "field": field, "code": code}])


def forbidden_integration() -> GitHubError:
    return GitHubError(403, "Resource not accessible by integration")


@dataclass
class Ctx:
    """One request as the handlers see it."""

    fake: FakeGitHub
    request: Request
    principal: Principal
    body: Any

    @property
    def state(self) -> State:
        return self.fake.state

    @property
    def render(self) -> Renderer:
        return self.fake.render

    @property
    def query(self):
        return self.request.query_params

    def field(self, name: str, kind: type | tuple = str, required: bool = False, default: Any = None) -> Any:
        body = self.body if isinstance(self.body, dict) else {}
        if name not in body or body[name] is None:
            if required:
                raise GitHubError(
                    422,
                    f'Invalid request.\n\n"{name}" wasn\'t supplied.',
                    [{"resource": "", "field": name, "code": "missing_field"}],
                )
            return default
        value = body[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise GitHubError(
                422,
                f"Invalid request.\n\nFor '{name}', {json.dumps(value)} is not a valid value.",
                [{"field": name, "code": "invalid"}],
            )
        return value

    @property
    def actor(self):
        user = self.principal.user
        if user is None:
            raise GitHubError(401, "Requires authentication")
        return user


# -- routing -----------------------------------------------------------------------------------

Handler = Callable[..., Response]
ROUTES: list[tuple[str, str, str, Handler]] = []


def route(method: str, path: str, auth: str = "token") -> Callable[[Handler], Handler]:
    """Register a handler; `auth` is "token" (tokens or anonymous), "jwt" (app JWT only) or "any"."""

    def register(fn: Handler) -> Handler:
        ROUTES.append((method, path, auth, fn))
        return fn

    return register


def spec_template(path: str) -> str:
    """FastAPI path → OpenAPI template (drop `:path` / `:int` converters)."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def json_reply(body: Any, status: int = 200, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def build_app(fake: FakeGitHub) -> FastAPI:
    """The FastAPI application: REST routes, git smart HTTP mount, GitHub-shaped errors."""
    from .githttp import git_endpoint

    register_routes()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    def make_endpoint(auth: str, fn: Handler):
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            try:
                principal = principal_for(fake.state, request.headers.get("authorization"))
            except AuthError as exc:
                return error_response(exc.status, exc.message)
            request.scope[PRINCIPAL] = principal
            if auth == "jwt" and principal.kind != "app":
                return error_response(401, "A JSON web token could not be decoded")
            if auth == "token" and principal.kind == "app":
                return error_response(403, "Resource not accessible by integration")
            body = None
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    return error_response(400, "Problems parsing JSON")
            rejected = fake.contract.check_request(request.method, request.url.path, body)
            if rejected is not None and fake.strict_requests:
                return error_response(422, f"Invalid request.\n\n{rejected.error.removeprefix('request body: ')}")
            ctx = Ctx(fake=fake, request=request, principal=principal, body=body)

            def call() -> Response:
                # One handler at a time: state objects are plain dicts and lists, and git commands
                # on one repository must not interleave. Git smart HTTP runs outside this lock.
                with fake.state.lock:
                    return fn(ctx, **request.path_params)

            try:
                return await run_in_threadpool(call)
            except GitHubError as exc:
                return exc.response()
            except Exception as exc:  # noqa: BLE001 - a bug in the fake: answer like GitHub's 500, and make the test fail
                traceback.print_exc()
                fake.contract.record(request.method, request.url.path, 500, None, f"the fake raised {exc!r}")
                return error_response(500, "Server Error")

        return endpoint

    for method, path, auth, fn in ROUTES:
        app.add_api_route(path, make_endpoint(auth, fn), methods=[method], include_in_schema=False)
    app.add_api_route(
        "/git/{owner}/{repo}/{rest:path}", git_endpoint(fake), methods=["GET", "POST"], include_in_schema=False
    )

    @app.exception_handler(StarletteHTTPException)
    async def unrouted(request: Request, exc: StarletteHTTPException) -> Response:
        request.scope[UNROUTED] = True
        if exc.status_code == 405:
            return error_response(404, "Not Found")
        return error_response(exc.status_code, "Not Found" if exc.status_code == 404 else str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(400, "Problems parsing JSON")

    return app


def served_routes() -> list[tuple[str, str]]:
    return [(method, spec_template(path)) for method, path, _, _ in ROUTES]


# -- shared helpers ----------------------------------------------------------------------------


def paginate(ctx: Ctx, items: list, default: int = 30, maximum: int = 100) -> tuple[list, dict[str, str]]:
    """One page of `items` and GitHub's Link header (prev, next, last, first)."""
    try:
        per_page = int(ctx.query.get("per_page", default))
    except ValueError:
        per_page = default
    per_page = max(1, min(per_page, maximum))
    try:
        page = max(1, int(ctx.query.get("page", 1)))
    except ValueError:
        page = 1
    last = max(1, math.ceil(len(items) / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]

    def url(number: int) -> str:
        return str(ctx.request.url.include_query_params(per_page=per_page, page=number))

    links = []
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
    return chunk, ({"Link": ", ".join(links)} if links else {})


def repo_for(ctx: Ctx, owner: str, name: str, need: str = "read", category: str | None = None) -> Repo:
    """The repository if the caller may see it (404 otherwise) and has `need` (403 otherwise)."""
    repo = ctx.state.find_repo(owner, name)
    if repo is None:
        raise not_found()
    level = ctx.state.repo_level(ctx.principal, repo)
    if not level_at_least(level, "read"):
        raise not_found()
    if category is not None and ctx.principal.kind == "installation":
        granted = ctx.principal.app_permission(category)
        if granted == "none" or (need != "read" and granted != "write"):
            raise forbidden_integration()
    if not level_at_least(level, need):
        if ctx.principal.kind == "installation":
            raise forbidden_integration()
        if ctx.principal.kind == "anonymous":
            raise GitHubError(401, "Requires authentication")
        raise GitHubError(403, "Must have push access to repository")
    return repo


def writable(ctx: Ctx, owner: str, name: str, category: str, need: str = "read") -> Repo:
    """A repository the caller writes to in `category` (comments, labels, ...): tokens only."""
    if ctx.principal.kind == "anonymous":
        repo_for(ctx, owner, name)
        raise GitHubError(401, "Requires authentication")
    if ctx.principal.kind == "installation":
        return installation_write(ctx, owner, name, category)
    return repo_for(ctx, owner, name, need=need)


def installation_write(ctx: Ctx, owner: str, name: str, category: str) -> Repo:
    repo = repo_for(ctx, owner, name, category=category)
    if ctx.principal.app_permission(category) != "write":
        raise forbidden_integration()
    if not level_at_least(ctx.state.repo_level(ctx.principal, repo), "triage"):
        raise forbidden_integration()
    return repo


def issue_for(repo: Repo, number: int) -> Issue:
    issue = repo.issues.get(number)
    if issue is None:
        raise not_found()
    return issue


def pull_for(ctx: Ctx, repo: Repo, number: int) -> PullRequest:
    issue = repo.issues.get(number)
    if not isinstance(issue, PullRequest):
        raise not_found()
    ctx.state.sync_pull(issue)
    return issue


def comment_for(ctx: Ctx, repo: Repo, comment_id: int) -> IssueComment:
    comment = ctx.state.comments.get(comment_id)
    if comment is None or comment.repo is not repo:
        raise not_found()
    return comment


def issue_category(issue: Issue) -> str:
    return "pull_requests" if issue.is_pull else "issues"


def may_edit(ctx: Ctx, repo: Repo, author) -> bool:
    """Authors edit their own things; maintainers (write) edit anyone's."""
    if ctx.principal.user is not None and author is ctx.principal.user:
        return True
    if ctx.principal.kind == "installation":
        return False
    return level_at_least(ctx.state.repo_level(ctx.principal, repo), "write")


def parse_time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(resource="", field=name)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(resource="", field=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def resolve_commit(repo: Repo, ref: str) -> str | None:
    return repo.git.resolve(ref)


def set_issue_state(ctx: Ctx, issue: Issue, new_state: str, reason: str | None = None) -> None:
    if isinstance(issue, PullRequest) and issue.merged and new_state == "open":
        raise GitHubError(
            422,
            "Validation Failed",
            [{"resource": "PullRequest", "code": "custom", "message": "Cannot reopen a merged pull request"}],
        )
    if new_state == issue.state:
        return
    issue.state = new_state
    ctx.state.record(issue, "closed" if new_state == "closed" else "reopened")
    if new_state == "closed":
        issue.closed_at = utcnow()
        issue.closed_by = ctx.principal.user
        issue.state_reason = None if issue.is_pull else (reason or "completed")
    else:
        issue.closed_at = None
        issue.closed_by = None
        issue.state_reason = None if issue.is_pull else "reopened"


def register_routes() -> None:
    """Import the endpoint modules once; their `@route` decorators fill ROUTES."""
    from . import api_apps, api_checks, api_issues, api_pulls, api_repos

    assert api_apps and api_checks and api_issues and api_pulls and api_repos


__all__ = ["Ctx", "GitHubError", "build_app", "route", "served_routes"]
