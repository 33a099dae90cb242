"""The ASGI layer around every request: faults first, then the app, then the call log and contract check.

The log entry and the contract check are made before the last byte of the response goes out,
so by the time a client has its answer, `fake.calls` and `fake.contract_violations` already
include it — a test can assert on them right after a call without racing the server.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from .auth import identify
from .faults import APPLIED

if TYPE_CHECKING:
    from .server import FakeGitHub

PRINCIPAL = "fakegithub.principal"
UNROUTED = "fakegithub.unrouted"


@dataclass(frozen=True)
class Call:
    """One request the fake answered (status 0: the connection was dropped on purpose)."""

    method: str
    path: str
    status: int
    installation_or_token_id: int | str | None  # installation id, "user:<login>", "app:<id>", "invalid" or None
    at: datetime
    query: str = ""
    duration: float = 0.0
    fault: str | None = None


class GitHubMiddleware:
    def __init__(self, app: Any, fake: FakeGitHub):
        self.app = app
        self.fake = fake
        self._request_ids = itertools.count(1)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fake = self.fake
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        at = datetime.now(UTC)
        started = time.monotonic()
        is_git = path.startswith("/git/")
        headers_in = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

        def caller() -> int | str | None:
            principal = scope.get(PRINCIPAL)
            if principal is not None:
                return principal.call_id
            return identify(fake.state, headers_in.get("authorization"))

        def log(status: int, fault: str | None = None) -> None:
            fake._record_call(Call(method, path, status, caller(), at, query, time.monotonic() - started, fault))

        rule = fake.faults.pick(method, path)
        fault_kind = rule.kind if rule else None
        if rule is not None and rule.kind == "drop":
            log(0, "drop")
            self._drop(receive)
            return
        if rule is not None and rule.kind == "slow":
            await asyncio.sleep(rule.seconds)

        response: dict[str, Any] = {"status": 0, "content_type": "", "body": bytearray()}
        request_id = f"FAKE:{next(self._request_ids):08X}"

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                headers = list(message.get("headers", []))
                names = {k.decode("latin-1").lower() for k, _ in headers}
                for k, v in headers:
                    if k.decode("latin-1").lower() == "content-type":
                        response["content_type"] = v.decode("latin-1")
                if not is_git:
                    for name, value in self._github_headers(scope, request_id).items():
                        if name.lower() not in names:
                            headers.append((name.encode("latin-1"), value.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                if not is_git:
                    response["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    if not is_git:
                        self._check(method, path, response, scope)
                    log(response["status"], fault_kind)
            await send(message)

        if rule is not None and rule.kind in APPLIED:
            await self._apply_then_lose_answer(rule, scope, receive, send, log)
            return
        if rule is not None and rule.kind not in ("slow", "drop"):
            status, headers, body = rule.response()
            await JSONResponse(body, status_code=status, headers=headers)(scope, receive, capture)
            return
        await self.app(scope, receive, capture)

    async def _apply_then_lose_answer(self, rule: Any, scope: dict, receive: Any, send: Any, log: Any) -> None:
        """Route and apply the request, throw its answer away, then drop the connection or answer a 5xx."""

        async def swallow(message: dict) -> None:
            pass

        await self.app(scope, receive, swallow)
        if rule.kind == "applied_drop":
            log(0, rule.kind)
            self._drop(receive)
            return
        status, headers, body = rule.response()
        log(status, rule.kind)
        await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)

    def _check(self, method: str, path: str, response: dict, scope: dict) -> None:
        contract = self.fake.contract
        if scope.get(UNROUTED):
            contract.record(
                method, path, response["status"], None, "not implemented by the fake: no route for this method and path"
            )
            return
        contract.check(method, path, response["status"], response["content_type"], bytes(response["body"]))

    def _github_headers(self, scope: dict, request_id: str) -> dict[str, str]:
        headers = {
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": request_id,
            "Server": "github.com",
        }
        principal = scope.get(PRINCIPAL)
        if principal is not None and scope["path"] != "/rate_limit":
            anonymous = principal.kind == "anonymous"
            key = str(principal.call_id)
            limit, remaining, reset = self.fake.state.count_request(key)
            if anonymous:
                limit, remaining = 60, max(0, 60 - (limit - remaining))
            headers.update(
                {
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Reset": str(reset),
                    "X-RateLimit-Used": str(limit - remaining),
                    "X-RateLimit-Resource": "core",
                }
            )
        return headers

    @staticmethod
    def _drop(receive: Any) -> None:
        """Close the client connection without an answer (uvicorn's cycle owns the transport)."""
        cycle = getattr(receive, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if cycle is not None and hasattr(cycle, "disconnected"):
            cycle.disconnected = True
        if transport is None:
            raise ConnectionAbortedError("fault: drop (transport not reachable)")
        transport.close()
