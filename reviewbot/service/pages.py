"""The proof pages' routes: recent reviews, one head's full proof, its logs, and the queue.

Server-rendered HTML that needs no JavaScript (a Content-Security-Policy forbids it).
Who may read what is `pages.access`; what each page shows is `pages.views`; this
module only reads the store and the queue and answers.

    /proofs                                          recent reviews with their ranks
    /proofs/{owner}/{repo}/pull/{n}                  -> the newest stored head's page
    /proofs/{owner}/{repo}/pull/{n}/{head}           the full proof of that head
    /proofs/{owner}/{repo}/pull/{n}/{head}/logs/{i}  one run's log, page by page (?page=N; the last by default)
    .../logs/{i}/raw                                 the same log as plain text
    /queue                                           running, waiting and dead-lettered jobs
    /login                                           asks the browser for the pages token, then /proofs
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import Engine, desc, select
from sqlalchemy.orm import Session

from reviewbot.pages.access import (
    Access,
    PagesMode,
    ProofLinks,
    credentials_ok,
    listing_access,
    may_see,
    page_access,
    proof_path,
)
from reviewbot.pages.render import render_page
from reviewbot.pages.retention import Retention
from reviewbot.pages.views import JobFacts, LogFacts, log_page_view, proof_view, queue_view, recent_rows
from reviewbot.redact import redact
from reviewbot.settings import Settings
from reviewbot.store.db import JobRow
from reviewbot.store.proof_store import PageSummary, ProofStore
from reviewbot.store.queue import JobState

RECENT_LIMIT = 100
DEAD_LIMIT = 50
_HEAD = re.compile(r"[0-9a-f]{7,64}")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
CHALLENGE = {"WWW-Authenticate": 'Basic realm="reviewbot pages", charset="UTF-8"'}


@dataclass(frozen=True)
class PagesConfig:
    mode: PagesMode = PagesMode.PUBLIC
    token: str = ""  # REVIEWBOT_PAGES_TOKEN


def pages_router(store: ProofStore, engine: Engine, config: PagesConfig) -> APIRouter:
    """The routes; include none of them when pages are off."""
    router = APIRouter()

    def authenticated(request: Request) -> bool:
        return credentials_ok(request.headers.get("authorization"), config.token)

    def html(name: str, request: Request, **context: object) -> HTMLResponse:
        sign_in = bool(config.token) and not authenticated(request)
        return HTMLResponse(render_page(name, sign_in=sign_in, **context), headers=SECURITY_HEADERS)

    def find(request: Request, owner: str, name: str, number: int, head: str) -> PageSummary | Response:
        page = store.page(f"{owner}/{name}", number, head) if _HEAD.fullmatch(head) else None
        decision = page_access(config.mode, page.public if page else None, authenticated(request), bool(config.token))
        return page if decision is Access.ALLOW and page else _refusal(decision)

    def find_log(
        request: Request, owner: str, name: str, number: int, head: str, position: int
    ) -> tuple[PageSummary, LogFacts] | Response:
        page = find(request, owner, name, number, head)
        if isinstance(page, Response):
            return page
        facts = store.log(page.id, position)
        return (page, facts) if facts is not None else _refusal(Access.NOT_FOUND)

    @router.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/proofs", status_code=303)

    @router.get("/login", include_in_schema=False)
    def login(request: Request) -> Response:
        if authenticated(request):
            return RedirectResponse("/proofs", status_code=303)
        return _refusal(Access.CHALLENGE if config.token else Access.NOT_FOUND)

    @router.get("/proofs", include_in_schema=False)
    def overview(request: Request) -> Response:
        signed_in = authenticated(request)
        decision = listing_access(config.mode, signed_in, bool(config.token))
        if decision is not Access.ALLOW:
            return _refusal(decision)
        pages, hidden = store.recent(RECENT_LIMIT, public_only=not signed_in)
        return html("overview.html.j2", request, rows=recent_rows([page.facts for page in pages]), hidden=hidden)

    @router.get("/proofs/{owner}/{name}/pull/{number}", include_in_schema=False)
    def newest(request: Request, owner: str, name: str, number: int) -> Response:
        page = store.latest(f"{owner}/{name}", number)
        decision = page_access(config.mode, page.public if page else None, authenticated(request), bool(config.token))
        if decision is not Access.ALLOW or page is None:
            return _refusal(decision)
        return RedirectResponse(proof_path(page.facts.repo, number, page.facts.head_sha), status_code=303)

    @router.get("/proofs/{owner}/{name}/pull/{number}/{head}", include_in_schema=False)
    def proof(request: Request, owner: str, name: str, number: int, head: str) -> Response:
        page = find(request, owner, name, number, head)
        if isinstance(page, Response):
            return page
        view = proof_view(page.facts, store.logs(page.id), store.heads(page.facts.repo, number))
        return html("proof.html.j2", request, v=view)

    @router.get("/proofs/{owner}/{name}/pull/{number}/{head}/logs/{position}", include_in_schema=False)
    def log(
        request: Request, owner: str, name: str, number: int, head: str, position: int, page: int | None = None
    ) -> Response:
        found = find_log(request, owner, name, number, head, position)
        if isinstance(found, Response):
            return found
        stored, facts = found
        return html("log.html.j2", request, v=log_page_view(stored.facts, position, facts, page))

    @router.get("/proofs/{owner}/{name}/pull/{number}/{head}/logs/{position}/raw", include_in_schema=False)
    def raw_log(request: Request, owner: str, name: str, number: int, head: str, position: int) -> Response:
        found = find_log(request, owner, name, number, head, position)
        if isinstance(found, Response):
            return found
        return PlainTextResponse(found[1].text, headers=SECURITY_HEADERS)

    @router.get("/queue", include_in_schema=False)
    def queue(request: Request) -> Response:
        signed_in = authenticated(request)
        decision = listing_access(config.mode, signed_in, bool(config.token))
        if decision is not Access.ALLOW:
            return _refusal(decision)
        visibility = store.visibility()
        stored = store.stored_prs()
        view = queue_view(
            _jobs(engine),
            lambda repo: may_see(config.mode, visibility.get(repo, False), signed_in),
            lambda repo, number: (repo, number) in stored,
            redact,
        )
        return html("queue.html.j2", request, q=view)

    return router


def _refusal(decision: Access) -> Response:
    if decision is Access.CHALLENGE:
        return PlainTextResponse(
            "This page needs the pages token (REVIEWBOT_PAGES_TOKEN) as the password.",
            status_code=401,
            headers={**SECURITY_HEADERS, **CHALLENGE},
        )
    return PlainTextResponse("Not found.", status_code=404, headers=SECURITY_HEADERS)


def _jobs(engine: Engine) -> list[JobFacts]:
    """Running and waiting jobs, oldest first, then the most recent dead-lettered ones."""
    with Session(engine) as session:
        active_states = [JobState.RUNNING.value, JobState.QUEUED.value]
        active = list(
            session.scalars(select(JobRow).where(JobRow.state.in_(active_states)).order_by(JobRow.run_after, JobRow.id))
        )
        dead = list(
            session.scalars(
                select(JobRow)
                .where(JobRow.state == JobState.DEAD.value)
                .order_by(desc(JobRow.finished_at), desc(JobRow.id))
                .limit(DEAD_LIMIT)
            )
        )
        return [_job(row) for row in [*active, *dead]]


def _job(row: JobRow) -> JobFacts:
    return JobFacts(
        id=row.id,
        kind=row.kind,
        repo=row.repo,
        pr_number=row.pr_number,
        head_sha=row.head_sha,
        reason=row.reason,
        state=row.state,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        run_after=row.run_after,
        lease_owner=row.lease_owner,
        lease_expires=row.lease_expires,
        created_at=row.created_at,
        finished_at=row.finished_at,
        last_error=row.last_error or "",
    )


# --- wiring from settings ---------------------------------------------------------------------


def pages_config(settings: Settings) -> PagesConfig:
    token = settings.pages_token.get_secret_value() if settings.pages_token else ""
    return PagesConfig(mode=PagesMode(settings.pages), token=token)


def proof_store_for(settings: Settings, engine: Engine) -> ProofStore | None:
    """The store the review job writes to; none when pages are off (nothing is kept)."""
    if PagesMode(settings.pages) is PagesMode.OFF:
        return None
    return ProofStore(
        engine,
        Retention(keep_heads=settings.pages_keep_heads, keep_days=settings.pages_keep_days),
        max_log_bytes=settings.pages_max_log_bytes,
    )


def proof_links_for(settings: Settings) -> ProofLinks:
    config = pages_config(settings)
    return ProofLinks(public_url=settings.public_url, mode=config.mode, token_set=bool(config.token))


def router_for(settings: Settings, store: ProofStore | None, engine: Engine) -> APIRouter | None:
    if store is None:
        return None
    return pages_router(store, engine, pages_config(settings))
