"""Git smart HTTP at /git/<owner>/<repo>.git/..., served by the real `git http-backend` (CGI).

Authentication and authorization happen here, the way GitHub does them: reads need a token
that reaches the repository unless it is public; pushes need push rights — write access to
the repository, or "allow edits by maintainers" on an open PR whose head branch is the ref
being pushed — and are refused with 403 otherwise. The receive-pack request's command list is
read before git sees it, so a push is authorized ref by ref. After a push, the `refs/pull/N/head`
of every PR whose head branch moved is refreshed.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .auth import AuthError, principal_for
from .gitrepo import git_env
from .state import Principal, Repo, level_at_least

if TYPE_CHECKING:
    from .server import FakeGitHub

SERVICES = ("git-upload-pack", "git-receive-pack")
PRINCIPAL = "fakegithub.principal"


def challenge() -> Response:
    message = "Invalid username or token. Password authentication is not supported for Git operations.\n"
    return PlainTextResponse(message, status_code=401, headers={"WWW-Authenticate": 'Basic realm="GitHub"'})


def repository_not_found() -> Response:
    return PlainTextResponse("Repository not found.\n", status_code=404)


def denied(full_name: str, who: Principal) -> Response:
    login = who.user.login if who.user else "anonymous"
    return PlainTextResponse(f"Permission to {full_name}.git denied to {login}.\n", status_code=403)


def pushed_refs(body: bytes, encoding: str | None) -> list[str]:
    """The refs a receive-pack request updates, from its pkt-line command list."""
    if encoding and "gzip" in encoding.lower():
        body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, 1 << 20)
    refs = []
    pos = 0
    while pos + 4 <= len(body):
        try:
            size = int(body[pos : pos + 4], 16)
        except ValueError:
            break
        if size == 0:
            break
        line = body[pos + 4 : pos + size]
        pos += size
        command = line.split(b"\x00", 1)[0].rstrip(b"\n").decode(errors="replace")
        parts = command.split(" ")
        if len(parts) == 3 and len(parts[0]) == 40:
            refs.append(parts[2])
    return refs


async def _parse_cgi_headers(stream: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status = 200
    headers: dict[str, str] = {}
    while True:
        line = await stream.readline()
        if not line or not line.strip():
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip(), value.strip()
        if name.lower() == "status":
            status = int(value.split()[0])
        else:
            headers[name] = value
    return status, headers


def git_endpoint(fake: FakeGitHub):
    """The ASGI endpoint for every /git/... request."""
    state = fake.state

    async def endpoint(request: Request) -> Response:
        owner = request.path_params["owner"]
        name = request.path_params["repo"]
        rest = request.path_params["rest"]
        try:
            principal = principal_for(state, request.headers.get("authorization"), allow_jwt=False)
        except AuthError:
            return challenge()
        request.scope[PRINCIPAL] = principal

        if rest == "info/refs" and request.method == "GET":
            service = request.query_params.get("service", "")
        elif rest in SERVICES and request.method == "POST":
            service = rest
        else:
            return PlainTextResponse("Not Found\n", status_code=404)
        if service not in SERVICES:
            return PlainTextResponse("Only the smart HTTP protocol is supported.\n", status_code=403)

        body = b""
        if service == "git-receive-pack" and request.method == "POST":
            body = await request.body()

        def authorize() -> tuple[Repo | None, Response | None]:
            with state.lock:  # the access rules walk repositories and PRs other threads change
                repo = state.find_repo(owner, name)
                readable = repo is not None and (
                    level_at_least(state.repo_level(principal, repo), "read") or state.can_push(principal, repo)
                )
                if not readable:
                    return None, challenge() if principal.kind == "anonymous" else repository_not_found()
                if service == "git-receive-pack":
                    if principal.kind == "anonymous":
                        return None, challenge()
                    if not state.can_push(principal, repo):
                        return None, denied(repo.full_name, principal)
                    for ref in pushed_refs(body, request.headers.get("content-encoding")):
                        if not state.can_push(principal, repo, ref):
                            return None, denied(repo.full_name, principal)
                return repo, None

        repo, refusal = await run_in_threadpool(authorize)
        if refusal is not None or repo is None:
            return refusal or repository_not_found()

        env = git_env(
            {
                "GIT_PROJECT_ROOT": str(state.git_root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": f"/{repo.owner.login}/{repo.name}.git/{rest}",
                "REQUEST_METHOD": request.method,
                "QUERY_STRING": request.url.query,
                "CONTENT_TYPE": request.headers.get("content-type", ""),
                "REMOTE_ADDR": request.client.host if request.client else "127.0.0.1",
            }
        )
        if principal.user is not None:
            env["REMOTE_USER"] = principal.user.login
        for header, variable in (("content-encoding", "HTTP_CONTENT_ENCODING"), ("git-protocol", "HTTP_GIT_PROTOCOL")):
            if header in request.headers:
                env[variable] = request.headers[header]
        if service == "git-receive-pack" and request.method == "POST":
            env["CONTENT_LENGTH"] = str(len(body))

        proc = await asyncio.create_subprocess_exec(
            "git",
            "http-backend",
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdin and proc.stdout and proc.stderr

        async def feed() -> None:
            try:
                if request.method == "POST":
                    if body:
                        proc.stdin.write(body)
                    else:
                        async for chunk in request.stream():
                            proc.stdin.write(chunk)
                            await proc.stdin.drain()
                    await proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                proc.stdin.close()

        feeder = asyncio.create_task(feed())
        errors = asyncio.create_task(proc.stderr.read())
        status, headers = await _parse_cgi_headers(proc.stdout)

        async def stream() -> AsyncIterator[bytes]:
            try:
                while chunk := await proc.stdout.read(65536):
                    yield chunk
                await feeder
                await proc.wait()
                await errors
                if service == "git-receive-pack" and request.method == "POST":
                    await run_in_threadpool(state.refresh_after_push, repo)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()

        headers.pop("Content-Length", None)
        return CGIResponse(status, headers, stream())

    return endpoint


class CGIResponse(Response):
    """Streams http-backend's output as it comes.

    Unlike Starlette's StreamingResponse it does not listen for a client disconnect on `receive`
    meanwhile: the request body may still be flowing into git's stdin through that same channel.
    """

    def __init__(self, status: int, headers: dict[str, str], chunks: AsyncIterator[bytes]):
        self.status_code = status
        self.background = None
        self.chunks = chunks
        self.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
