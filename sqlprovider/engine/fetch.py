"""Run the listings of a scan: lazily, page by page, several workspaces at once.

One listing is read inline, one page per step, so nothing is fetched before SQLite asks.
Several listings run in a bounded thread pool; each keeps at most `prefetch` pages waiting,
and rows come out in listing order, so memory is bounded whatever the result size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

L = TypeVar("L")
T = TypeVar("T")

_DONE = object()


class PageStream(Generic[L, T]):
    """Pages of several listings, in listing order; `close()` stops the workers early."""

    def __init__(self, listings: Sequence[L], pages: Callable[[L], Iterator[list[T]]],
                 max_workers: int = 8, prefetch: int = 2) -> None:
        self._listings = listings
        self._pages = pages
        self._cancel = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._queues: list[queue.Queue] = []
        self._concurrent = len(listings) > 1
        if self._concurrent:
            self._queues = [queue.Queue(maxsize=prefetch) for _ in listings]
            self._pool = ThreadPoolExecutor(max_workers=min(max_workers, len(listings)),
                                            thread_name_prefix="sqlprovider-list")
            for listing, q in zip(listings, self._queues):
                self._pool.submit(self._produce, listing, q)

    def __iter__(self) -> Iterator[tuple[L, list[T]]]:
        if not self._concurrent:
            for listing in self._listings:
                for page in self._pages(listing):
                    yield listing, page
            return
        for listing, q in zip(self._listings, self._queues):
            while True:
                page = q.get()
                if page is _DONE:
                    break
                if isinstance(page, BaseException):
                    raise page
                yield listing, page

    def _produce(self, listing: L, q: queue.Queue) -> None:
        try:
            for page in self._pages(listing):
                if not self._put(q, page):
                    return
            self._put(q, _DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(q, exc)

    def _put(self, q: queue.Queue, item: object) -> bool:
        while not self._cancel.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        self._cancel.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
