"""The webhook service: verify, deduplicate, enqueue, answer in milliseconds.

GitHub gives up on a delivery after 10 s and never redelivers it by itself, so
the endpoint does no GitHub or git work: it checks the signature over the raw
body, turns the event into actions (pure, `events.route`), stores jobs, and
answers. Workers do the rest; a periodic reconcile covers deliveries that never
arrived.

Answers: 202 with the job ids (or the reason it was ignored), 200 for a delivery
already seen, 401 for a bad signature, 400 with the reason for malformed input,
408 for a body that does not arrive in time, 413 past the body limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

from reviewbot.review.commands import handles_for
from reviewbot.service.events import PayloadError, delivery_summary, route
from reviewbot.service.intake import IntakeError, read_delivery
from reviewbot.service.observe import DeliveryObserver
from reviewbot.service.signature import verify
from reviewbot.store.jobs import Action, Cancel, Enqueue, Ignore, JobKind
from reviewbot.store.metrics import CONTENT_TYPE, Metrics
from reviewbot.store.queue import Accepted, Queue

BODY_TIMEOUT_S = 10.0
NO_INSTALLATION = "no installation"


@dataclass
class ServiceState:
    engine: Engine
    queue: Queue
    metrics: Metrics
    secrets: Sequence[str]
    max_body_bytes: int
    bot_login: Callable[[], str]
    handled: set[JobKind]
    body_timeout_s: float
    command_handles: tuple[str, ...]
    require_installation: bool = False


def create_app(
    engine: Engine,
    secrets: Sequence[str],
    *,
    max_body_bytes: int = 25 * 1024 * 1024,
    bot_login: str | Callable[[], str] = "reviewbot[bot]",
    queue: Queue | None = None,
    metrics: Metrics | None = None,
    handled: set[JobKind] | None = None,
    body_timeout_s: float = BODY_TIMEOUT_S,
    command_handle: str = "reviewbot",
    pages: APIRouter | None = None,
    require_installation: bool = False,
    github_status: Callable[[], dict] | None = None,
) -> FastAPI:
    """The app; `handled` names the job kinds some worker runs (others are acknowledged and ignored).

    `bot_login`: the login, or a function that returns it without waiting on GitHub (`BotLogin.current`).
    `require_installation`: App mode, where a job without an installation could never run.
    `github_status`: what /readyz reports about GitHub (reported, not required: deliveries are stored either way).

    `pages`: the proof pages' routes (`service.pages`), when they are on.
    """
    if not [s for s in secrets if s]:
        raise ValueError("a webhook secret is required (REVIEWBOT_WEBHOOK_SECRETS)")
    queue = queue or Queue(engine)
    state = ServiceState(
        engine=engine,
        queue=queue,
        metrics=metrics or Metrics(queue.counts),
        secrets=list(secrets),
        max_body_bytes=max_body_bytes,
        bot_login=bot_login if callable(bot_login) else (lambda: bot_login),
        handled=set(JobKind) if handled is None else handled,
        body_timeout_s=body_timeout_s,
        command_handles=handles_for(command_handle),
        require_installation=require_installation,
    )
    app = FastAPI(title="reviewbot", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = state

    app.add_middleware(DeliveryObserver, metrics=state.metrics)

    async def webhook(request: Request) -> Response:
        return await _handle(state, request, request.headers.get("x-github-event", ""))

    # A plain Starlette route: the handler takes the raw request and nothing else, so FastAPI's per-request
    # dependency solving and response validation would only add to every delivery's cost.
    app.router.add_route("/webhook", webhook, methods=["POST"])

    @app.get("/healthz")
    def healthz() -> dict:
        """Alive: the process answers. Nothing else is checked, so a database outage never restarts it."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> Response:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any database failure means not ready
            return JSONResponse({"status": "database unreachable", "error": type(exc).__name__}, status_code=503)
        answer: dict = {"status": "ready"}
        if github_status is not None:
            answer["github"] = github_status()
        return JSONResponse(answer)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(state.metrics.render(), media_type=CONTENT_TYPE)

    if pages is not None:
        app.include_router(pages)
    return app


def _refuse(status: int, reason: str, request: Request | None = None) -> JSONResponse:
    if request is not None:
        _note(request, outcome=f"refused: {reason}")
    return JSONResponse({"error": reason}, status_code=status)


def _note(request: Request, **fields: object) -> None:
    """What the delivery log line (`observe.DeliveryObserver`) should say about this delivery."""
    request.scope.setdefault("state", {}).setdefault("delivery", {}).update(fields)


SINGLE_HEADERS = ("content-length", "content-type", "x-hub-signature-256", "x-github-event", "x-github-delivery")


async def _handle(state: ServiceState, request: Request, event: str) -> Response:
    repeated = [name for name in SINGLE_HEADERS if len(request.headers.getlist(name)) > 1]
    if repeated:
        return _refuse(400, f"header {repeated[0]} is given more than once", request)
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > state.max_body_bytes):
        if not declared.isdigit():
            return _refuse(400, "Content-Length is not a number", request)
        return _refuse(413, f"body larger than {state.max_body_bytes} bytes", request)
    try:
        async with asyncio.timeout(state.body_timeout_s):  # not wait_for: that starts a task per delivery
            body = await _read_body(request, state.max_body_bytes)
    except TimeoutError:
        return _refuse(408, f"body not received within {state.body_timeout_s:g} s", request)
    except _TooLarge:
        return _refuse(413, f"body larger than {state.max_body_bytes} bytes", request)
    if not verify(state.secrets, body, request.headers.get("x-hub-signature-256")):
        return _refuse(401, "X-Hub-Signature-256 is missing or does not match the body", request)
    try:
        delivery = read_delivery(
            event, request.headers.get("x-github-delivery", ""), request.headers.get("content-type", ""), body
        )
    except IntakeError as exc:
        return _refuse(exc.status, str(exc), request)
    event, payload = delivery.event, delivery.payload
    summary = delivery_summary(event, payload)
    _note(request, delivery=delivery.delivery_id, event=event, summary=summary)
    try:
        actions = route(event, payload, bot_login=state.bot_login(), command_prefixes=state.command_handles)
    except PayloadError as exc:
        return _refuse(400, str(exc), request)
    if state.require_installation:
        actions = [_needs_installation(action) for action in actions]
    handled = _handled(state, actions)
    intake = (delivery.delivery_id, event, summary, handled)
    if state.engine.dialect.name == "sqlite":
        # Stored here, on the queue's own connection: statements, commit and all take about 0.15 ms. Handing it to a
        # thread, even to a group-commit writer sharing one commit among waiting deliveries, measured slower (the
        # hand-offs cost more than the commits they save). PostgreSQL goes to the thread pool.
        accepted = state.queue.accept_delivery(*intake)
    else:
        accepted = await run_in_threadpool(state.queue.accept_delivery, *intake)
    response, fields = _answer(handled, accepted)
    _note(request, **fields)
    return response


def _needs_installation(action: Action) -> Action:
    """An App answers as an installation; a job without one would fail on every attempt."""
    if isinstance(action, Enqueue) and action.job.installation_id is None:
        return Ignore(reason=NO_INSTALLATION)
    return action


def _handled(state: ServiceState, actions: list[Action]) -> list[Action]:
    """Jobs of a kind no worker runs are acknowledged and ignored, never queued."""
    return [
        Ignore(reason=f"{action.job.kind.value} jobs are not handled by this version of reviewbot")
        if isinstance(action, Enqueue) and action.job.kind not in state.handled
        else action
        for action in actions
    ]


def _answer(handled: list[Action], accepted: Accepted) -> tuple[Response, dict]:
    duplicate, job_ids, cancelled, ignored = accepted
    fields = _job_fields(handled, job_ids)
    if duplicate:
        return JSONResponse({"duplicate": True, "jobs": job_ids}, status_code=200), {**fields, "outcome": "duplicate"}
    body: dict = {"jobs": job_ids}
    if cancelled:
        body["cancelled"] = cancelled
    if ignored and not job_ids:
        body["ignored"] = "; ".join(ignored)
    outcome = ("queued" if job_ids else "") + (f" cancelled {cancelled}" if cancelled else "")
    if "ignored" in body:
        outcome = (outcome + " ignored: " + body["ignored"]).strip()
    return JSONResponse(body, status_code=202), {**fields, "outcome": outcome.strip() or "accepted"}


def _job_fields(actions: list, job_ids: list[int]) -> dict:
    """repo, PR, head and job ids of the delivery's first job, for its log line."""
    for action in actions:
        if isinstance(action, Enqueue):
            job = action.job
            return {"repo": job.repo, "pr": job.pr_number, "head": job.head_sha or None, "jobs": job_ids}
        if isinstance(action, Cancel):
            return {"repo": action.repo, "pr": action.pr_number, "jobs": job_ids}
    return {"jobs": job_ids}


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)
