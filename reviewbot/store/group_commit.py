"""Group commit: deliveries that arrive together are stored in one transaction, each answered after it commits.

On SQLite every transaction takes the one write lock and ends in a commit that writes each
changed page to the WAL; in the profile that commit cost a delivery more than its statements
(about 0.2 ms), and deliveries stored together share pages and the commit. One
writer thread takes whatever deliveries are waiting (never waiting for more: an
idle service answers as fast as before), stores them in one transaction through
`Queue.accept_deliveries`, and only then resolves each one's future. The request
answers when its future resolves, so a 2xx still means "committed": a delivery
answered 2xx survives kill -9, and a duplicate inside one batch sees the first copy.

A request awaits `commit(item)`: the writer answers a whole batch of an event loop's requests with
one wake-up of that loop, not one per delivery.

The thread starts with the first delivery and ends after `IDLE_S` without one, so
an app that is built and dropped (tests, one-shot commands) leaves no thread behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

IDLE_S = 2.0
MAX_BATCH = 64  # bounds one transaction's length, so the first delivery of a burst is not kept waiting


class GroupCommit(Generic[Item, Answer]):
    """`store(batch)` runs on the writer thread, answering each item in order; `commit`/`submit` wait for it.

    `store` returns one answer or one exception per item; an exception raised by `store` itself fails the whole
    batch (nothing of it was committed, so every request answers with an error and GitHub redelivers).
    """

    def __init__(self, store: Callable[[list[Item]], Sequence[Answer | Exception]], name: str = "group-commit"):
        self._store = store
        self._name = name
        self._waiting: queue.SimpleQueue[tuple[Item, Future[Answer] | asyncio.Future[Answer]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    async def commit(self, item: Item) -> Answer:
        """Store `item` with whatever else is waiting; returns its answer once the transaction committed."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._put(item, future)
        return await future

    def submit(self, item: Item) -> Future[Answer]:
        """The same from a thread: a future resolved after the commit."""
        future: Future[Answer] = Future()
        self._put(item, future)
        return future

    def _put(self, item: Item, future: Future[Answer] | asyncio.Future[Answer]) -> None:
        with self._lock:
            self._waiting.put((item, future))
            if not self._running:
                self._running = True
                threading.Thread(target=self._write, name=self._name, daemon=True).start()

    def waiting(self) -> int:
        """Deliveries submitted and not yet taken into a batch."""
        return self._waiting.qsize()

    def _write(self) -> None:
        while True:
            try:
                first = self._waiting.get(timeout=IDLE_S)
            except queue.Empty:
                with self._lock:  # _put() enqueues under this lock, so nothing can slip in unnoticed
                    if self._waiting.empty():
                        self._running = False
                        return
                continue
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            # A thread's request that gave up is dropped; the others can no longer be cancelled. (A request awaiting
            # `commit` that is cancelled meanwhile is still stored: unanswered, so GitHub's redelivery is a duplicate.)
            batch = [
                (item, future)
                for item, future in batch
                if not isinstance(future, Future) or future.set_running_or_notify_cancel()
            ]
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[tuple[Item, Future[Answer] | asyncio.Future[Answer]]]) -> None:
        answers: list[Answer | BaseException]
        try:
            answers = list(self._store([item for item, _ in batch]))
            if len(answers) != len(batch):
                raise RuntimeError(f"group commit: {len(answers)} answers for {len(batch)} deliveries")
        except BaseException as exc:  # noqa: BLE001 - every waiting request must learn of it, and the thread go on
            answers = [exc] * len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Answer], Answer | BaseException]]] = {}
        for (_, future), answer in zip(batch, answers, strict=True):
            if isinstance(future, Future):
                _resolve(future, answer)
            else:
                by_loop.setdefault(future.get_loop(), []).append((future, answer))
        for loop, resolved in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
                loop.call_soon_threadsafe(_resolve_all, resolved)


def _resolve(future: Future[Answer] | asyncio.Future[Answer], answer: Answer | BaseException) -> None:
    if future.done():  # an awaiting request that was cancelled
        return
    if isinstance(answer, BaseException):
        future.set_exception(answer)
    else:
        future.set_result(answer)


def _resolve_all(resolved: list[tuple[asyncio.Future[Answer], Answer | BaseException]]) -> None:
    for future, answer in resolved:
        _resolve(future, answer)
