"""The connection to GitHub: App or token auth, Enterprise base URLs, retries, and a count of calls.

The only package that talks to GitHub is `reviewbot.github`; everything here is
PyGithub underneath. An App authenticates with a JWT and gets one installation
token per installation, which PyGithub caches and refreshes before it expires;
git fetches and pushes use the same token through an `http.extraHeader` given on
the command line, never stored in a repository.

Retries: 5xx answers, 429 and GitHub's secondary rate limits are retried with
backoff, honouring `Retry-After` and `X-RateLimit-Reset` (PyGithub's
`GithubRetry`), and PATCH is retried too (edits are idempotent). A write that
creates something (a comment, a check run) is different: a 5xx or a connection
lost after the request went out may hide a write GitHub already applied, so
inside `single_attempt()` such a POST is not repeated blindly; the caller looks
for what it meant to create (by marker, by name and head) before trying again.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from github import Auth, Github, GithubIntegration, GithubRetry
from github.Requester import Requester
from urllib3.exceptions import ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from reviewbot.github.breaker import CircuitBreaker, breaker_for, wait_or_cancel
from reviewbot.settings import Settings

RETRIED_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH", "POST", "OPTIONS"})
# The request reached the server and the answer was lost (what urllib3 counts as a read error).
READ_ERRORS = (ReadTimeoutError, ProtocolError)


_repeat_creates: contextvars.ContextVar[bool] = contextvars.ContextVar("reviewbot_repeat_creates", default=True)


@contextlib.contextmanager
def single_attempt() -> Iterator[None]:
    """POSTs made inside are retried only when GitHub surely did not apply them (rate limits, no connection)."""
    token = _repeat_creates.set(False)
    try:
        yield
    finally:
        _repeat_creates.reset(token)


class _Retry(GithubRetry):
    """GithubRetry, except that a POST inside `single_attempt()` is not repeated after an ambiguous failure,
    failures feed the host's circuit breaker (an open breaker ends the retries at once), and the wait
    before a retry ends early when the job is cancelled (`breaker.cancel_on`)."""

    def __init__(self, *, breaker: CircuitBreaker | None = None, **kwargs):  # type: ignore[no-untyped-def]
        self.breaker = breaker
        super().__init__(**kwargs)

    def new(self, **kw):  # type: ignore[no-untyped-def]
        kw.setdefault("breaker", self.breaker)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if self.breaker is not None and status_code < 500:
            self.breaker.success()  # GitHub answered (a rate limit is an answer too)
        if status_code >= 500 and method == "POST" and not _repeat_creates.get():
            if self.breaker is not None:
                self.breaker.failure()
            return False  # the write may have been applied: the caller decides
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method=None,
        url=None,
        response=None,
        error=None,
        _pool=None,  # type: ignore[no-untyped-def]
        _stacktrace=None,
    ):
        unreachable = error is not None or (response is not None and response.status >= 500)
        if self.breaker is not None and unreachable and self.breaker.failure():
            raise self.breaker.unavailable()
        if error is not None and method == "POST" and not _repeat_creates.get() and isinstance(error, READ_ERRORS):
            raise error.with_traceback(_stacktrace)  # the request went out, the answer did not come back
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response=None) -> None:  # type: ignore[no-untyped-def]
        wait = self.get_retry_after(response) if self.respect_retry_after_header and response is not None else None
        wait_or_cancel(self.get_backoff_time() if wait is None else wait)


def default_retry(total: int = 6, backoff_factor: float = 1.0, max_wait_s: float = 300.0) -> Retry:
    return _Retry(
        total=total,
        backoff_factor=backoff_factor,
        status_forcelist=[500, 502, 503, 504, 429],
        allowed_methods=RETRIED_METHODS,
        respect_retry_after_header=True,
        secondary_rate_wait=min(60.0, max_wait_s),
        max_rate_limit_wait=max_wait_s,
    )


# --- counting calls -------------------------------------------------------------------------------

_current_account: contextvars.ContextVar[str] = contextvars.ContextVar("reviewbot_github_account", default="other")


@dataclass
class CallCounter:
    """API calls by account ("installation:<id>", "token", "app") and HTTP method, as GitHub saw them."""

    counts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    listeners: list = field(default_factory=list)

    def record(self, method: str) -> None:
        account = _current_account.get()
        with self.lock:
            self.counts[(account, method)] += 1
        for listener in self.listeners:
            listener(account, method)

    def total(self, account: str | None = None) -> int:
        with self.lock:
            return sum(n for (who, _), n in self.counts.items() if account is None or who == account)


CALLS = CallCounter()  # process-wide: PyGithub's request logger is process-wide too


class _CallLogger(logging.Logger):
    """PyGithub logs every request it makes through its injected logger; this one counts them instead."""

    def isEnabledFor(self, level: int) -> bool:
        return level == logging.DEBUG

    def debug(self, msg: object, *args: object, **kwargs: object) -> None:
        if args:
            CALLS.record(str(args[0]))


Requester.injectLogger(_CallLogger("reviewbot.github.calls"))


@contextlib.contextmanager
def calls_as(account: str) -> Iterator[None]:
    token = _current_account.set(account)
    try:
        yield
    finally:
        _current_account.reset(token)


# --- the edge -------------------------------------------------------------------------------------


class GitHubConfigError(ValueError):
    """Neither an App (id + private key) nor a token is configured, or both are."""


@dataclass(frozen=True)
class Connection:
    """A PyGithub client for one account, and what git needs to fetch as it."""

    github: Github
    account: str  # "installation:<id>" or "token"
    token: callable  # type: ignore[valid-type]  # returns a current token (refreshed when needed)
    app_auth: bool

    def git_auth_header(self) -> str:
        """`http.extraHeader` value for git over HTTPS, as GitHub expects for installation tokens."""
        basic = base64.b64encode(f"x-access-token:{self.token()}".encode()).decode()
        return f"AUTHORIZATION: basic {basic}"


class GitHubEdge:
    """Makes connections: one per installation (App) or one (token); caches them and their tokens."""

    def __init__(
        self,
        api_url: str,
        *,
        app_id: int | None = None,
        private_key: str | None = None,
        token: str | None = None,
        bot_login: str = "",
        retry: Retry | None = None,
        throttle: bool = True,
        timeout: int = 30,
    ):
        if bool(app_id and private_key) == bool(token):
            raise GitHubConfigError(
                "configure either a GitHub App (REVIEWBOT_APP_ID and REVIEWBOT_PRIVATE_KEY or "
                "REVIEWBOT_PRIVATE_KEY_PATH) or a token (REVIEWBOT_TOKEN), not both"
            )
        self.api_url = api_url.rstrip("/")
        self.app_id, self.private_key, self._token = app_id, private_key, token
        self.breaker = breaker_for(self.api_url)
        retry = retry if retry is not None else default_retry()
        if isinstance(retry, _Retry) and retry.breaker is None:
            retry = retry.new(breaker=self.breaker)
        self.retry = retry
        self.pace = {} if throttle else {"seconds_between_requests": 0, "seconds_between_writes": 0}
        self.timeout = timeout
        self._bot_login = bot_login
        self._connections: dict[int | None, Connection] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> GitHubEdge:  # type: ignore[no-untyped-def]
        token = settings.token.get_secret_value() if settings.token else None
        return cls(
            settings.github_api_url,
            app_id=settings.app_id,
            private_key=settings.private_key_pem(),
            token=token,
            bot_login=settings.bot_login,
            **overrides,
        )

    @property
    def is_app(self) -> bool:
        return self._token is None

    def connection(self, installation_id: int | None) -> Connection:
        key = installation_id if self.is_app else None
        with self._lock:
            if key not in self._connections:
                self._connections[key] = self._connect(installation_id)
            return self._connections[key]

    def _connect(self, installation_id: int | None) -> Connection:
        if not self.is_app:
            auth = Auth.Token(self._token)  # type: ignore[arg-type]
            github = Github(
                auth=auth,
                base_url=self.api_url,
                retry=self.retry,
                timeout=self.timeout,
                per_page=100,
                lazy=True,
                **self.pace,
            )
            return Connection(github, "token", lambda: self._token, app_auth=False)
        if installation_id is None:
            raise GitHubConfigError("a GitHub App delivery without an installation id cannot be answered")
        installation_auth = self._app_auth().get_installation_auth(installation_id)
        github = Github(
            auth=installation_auth,
            base_url=self.api_url,
            retry=self.retry,
            timeout=self.timeout,
            per_page=100,
            lazy=True,
            **self.pace,
        )
        account = f"installation:{installation_id}"

        def token() -> str:
            with calls_as(account):
                return installation_auth.token

        return Connection(github, account, token, app_auth=True)

    def _app_auth(self) -> Auth.AppAuth:
        return Auth.AppAuth(self.app_id, self.private_key)  # type: ignore[arg-type]

    @property
    def cached_bot_login(self) -> str:
        """The login if it is known already ("" otherwise); never calls GitHub."""
        return self._bot_login

    def bot_login(self) -> str:
        """The login the bot's comments carry: `<slug>[bot]` for an App, the token's user otherwise."""
        if self._bot_login:
            return self._bot_login
        if self.is_app:
            integration = GithubIntegration(auth=self._app_auth(), base_url=self.api_url, retry=self.retry, **self.pace)
            with calls_as("app"):
                self._bot_login = f"{integration.get_app().slug}[bot]"
        else:
            connection = self.connection(None)
            with calls_as(connection.account):
                self._bot_login = connection.github.get_user().login
        return self._bot_login
