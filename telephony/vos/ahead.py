"""Fetching ahead of the caller: one request in flight while the caller works on the last."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


def fetched_ahead(fetch: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``fetch(item)`` for each item, in order, fetched ahead of the caller by a thread.

    The thread asks for the next item as soon as it has handed over the last one, so VOS
    works on it while the caller deals with the one before; it runs at most one result
    ahead and makes every call itself, one at a time, so the softswitch sees no more than
    one request at once. A failed fetch is raised where its result is due. ``fetch`` must
    not touch the database (the thread has no connection of its own).

    Stages chain: ``fetched_ahead(decode, fetched_ahead(fetch, items))`` decodes each
    result in a second thread while the first is already fetching the next one.

    The thread does not wait for the caller to ask: a thread woken by the caller would then
    wait for the GIL until the caller's next pause, and every request would leave late.
    """
    handed: queue.Queue = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stopped.is_set():
                    return
                handed.put((fetch(item), None))
        except BaseException as exc:  # handed to the caller, who raises it
            handed.put((None, exc))
            return
        finally:
            # Items that are themselves fetched ahead (a stage of a pipeline) stop their
            # thread here, in the one thread that iterates them.
            close = getattr(items, "close", None)
            if close is not None:
                close()
        handed.put((_DONE, None))

    thread = threading.Thread(target=produce, name="vos-ahead", daemon=True)
    thread.start()
    try:
        while True:
            result, error = handed.get()
            if error is not None:
                raise error
            if result is _DONE:
                return
            yield result
    finally:
        stopped.set()
        while thread.is_alive():  # a thread blocked on the full queue can then finish
            with suppress(queue.Empty):
                handed.get(timeout=0.05)
        thread.join()
