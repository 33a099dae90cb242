"""The bot's login for the webhook path, without ever waiting on GitHub.

`serve` must listen whatever GitHub's state: asking GitHub for the App's slug before
listening made every restart during an outage refuse every delivery. The webhook only
needs the login to skip the bot's own comments early, and the worker checks that again
with the resolved login before acting, so until GitHub answers the endpoint uses a
fallback (`<command handle>[bot]`) and a background thread keeps asking, with backoff
(and the worker's own resolution, through `peek`, counts too). Once resolved, the value is cached for the life of the process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("reviewbot.service")


class BotLogin:
    def __init__(
        self,
        resolve: Callable[[], str],
        fallback: str,
        *,
        peek: Callable[[], str] = lambda: "",
        first_wait_s: float = 1.0,
        max_wait_s: float = 30.0,
    ):
        self._resolve, self.fallback, self._peek = resolve, fallback, peek
        self._value: str | None = None
        self._started = False
        self._lock = threading.Lock()
        self.first_wait_s, self.max_wait_s = first_wait_s, max_wait_s

    def current(self) -> str:
        """The resolved login, or the fallback while GitHub has not answered (never blocks).

        `peek` reads the GitHub edge's own cache: a worker that resolved the login (it does before
        it posts anything) makes it known here at once, so the bot's comments are never mistaken.
        """
        if self._value is None:
            self._value = self._peek() or None
        return self._value or self.fallback

    @property
    def resolved(self) -> bool:
        return self._value is not None

    def start(self, stop: threading.Event) -> None:
        """Resolve in a daemon thread, retrying with backoff until it works or `stop` is set."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, args=(stop,), name="bot-login", daemon=True).start()

    def _run(self, stop: threading.Event) -> None:
        wait = self.first_wait_s
        while not stop.is_set():
            try:
                self._value = self._resolve()
                log.info("bot login resolved: %s", self._value)
                return
            except Exception as exc:  # noqa: BLE001 - GitHub unreachable or misconfigured: keep serving
                log.warning(
                    "bot login not resolved yet (%s: %s); using %s, next try in %.0f s",
                    type(exc).__name__,
                    str(exc)[:200],
                    self.fallback,
                    wait,
                )
            stop.wait(wait)
            wait = min(self.max_wait_s, wait * 2)
