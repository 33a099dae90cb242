"""Group commit: deliveries that arrive together are stored in one transaction, each answered after it commits.

On SQLite every transaction takes the one write lock and ends in a commit, and the
begin/commit bookkeeping costs about as much as the delivery's own statements. One
writer thread takes whatever deliveries are waiting (never waiting for more: an
idle service answers as fast as before), stores them in one transaction through
`Queue.accept_deliveries`, and only then resolves each one's future. The request
answers when its future resolves, so a 2xx still means "committed": a delivery
answered 2xx survives kill -9, and a duplicate inside one batch sees the first copy.

The thread starts with the first delivery and ends after `IDLE_S` without one, so
an app that is built and dropped (tests, one-shot commands) leaves no thread behind.
"""

from __future__ import annotations

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
    """`submit(item)` returns a future; `store(batch)` runs on the writer thread, answering each item in order.

    `store` returns one answer or one exception per item; an exception raised by `store` itself fails the whole
    batch (nothing of it was committed, so every request answers with an error and GitHub redelivers).
    """

    def __init__(self, store: Callable[[list[Item]], Sequence[Answer | Exception]], name: str = "group-commit"):
        self._store = store
        self._name = name
        self._waiting: queue.SimpleQueue[tuple[Item, Future[Answer]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, item: Item) -> Future[Answer]:
        future: Future[Answer] = Future()
        with self._lock:
            self._waiting.put((item, future))
            if not self._running:
                self._running = True
                threading.Thread(target=self._write, name=self._name, daemon=True).start()
        return future

    def waiting(self) -> int:
        """Deliveries submitted and not yet taken into a batch."""
        return self._waiting.qsize()

    def _write(self) -> None:
        while True:
            try:
                first = self._waiting.get(timeout=IDLE_S)
            except queue.Empty:
                with self._lock:  # submit() enqueues under this lock, so nothing can slip in unnoticed
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
            # A request that gave up (its client went away) is dropped; the others can no longer be cancelled.
            batch = [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[tuple[Item, Future[Answer]]]) -> None:
        try:
            answers = list(self._store([item for item, _ in batch]))
            if len(answers) != len(batch):
                raise RuntimeError(f"group commit: {len(answers)} answers for {len(batch)} deliveries")
        except BaseException as exc:  # noqa: BLE001 - every waiting request must learn of it, and the thread go on
            answers = [exc] * len(batch)
        for (_, future), answer in zip(batch, answers, strict=True):
            if isinstance(answer, BaseException):
                future.set_exception(answer)
            else:
                future.set_result(answer)
