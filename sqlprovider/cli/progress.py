"""What the front ends show on stderr about HTTP requests while a statement runs.

- Dry-run: each request held back is printed as `would send: ...`, and each listing that ran to find
  the affected rows as `listing: ...` (secrets are already masked in the RequestRecord).
- Progress: on a terminal, a listing that takes a while shows one live line with pages and rows per
  workspace, erased when the statement ends. Nothing is drawn when stderr is not a terminal.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlencode

if TYPE_CHECKING:  # annotations only: sqlprovider.workspace.client imports requests, which `SELECT 1` does not need
    from sqlprovider.workspace.client import RequestOptions, RequestRecord

ERASE = "\r\x1b[K"


def describe_request(record: RequestRecord) -> str:
    """`ws1 POST /api/...?a=b {"json": "body"}`: one line, as the dry-run listing prints it."""
    text = f"{record.workspace} {record.method} {record.path}"
    if record.query:
        text += "?" + urlencode(record.query)
    if record.body is not None:
        text += " " + json.dumps(record.body, separators=(",", ":"), ensure_ascii=False)
    return text


def format_progress(counts: Mapping[str, tuple[int, int]]) -> str:
    """`listing ws1: 3 pages, 2,500 rows | ws2: 1 page, 10 rows` from {workspace: (pages, rows)}."""
    parts = [f"{name}: {pages:,} page{'s' if pages != 1 else ''}, {rows:,} row{'s' if rows != 1 else ''}"
             for name, (pages, rows) in counts.items()]
    return "listing " + " | ".join(parts)


class Reporter:
    """Attached to a connection's RequestOptions: prints dry-run requests and, on a terminal, live progress.

    Use `with reporter.statement(): ...` around each statement so progress restarts and is erased.
    """

    def __init__(self, options: RequestOptions, stream: TextIO, *, live: bool | None = None,
                 delay: float = 0.5, interval: float = 0.1, clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options
        self.stream = stream
        self.live = _is_terminal(stream) if live is None else live
        self.delay, self.interval, self.clock = delay, interval, clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}
        self._started = clock()
        self._drawn_at: float | None = None
        options.observers.append(self.request)
        if self.live:
            options.page_observers.append(self.page)

    def close(self) -> None:
        """Detach from the connection."""
        for hooks, hook in ((self.options.observers, self.request), (self.options.page_observers, self.page)):
            if hook in hooks:
                hooks.remove(hook)

    @contextmanager
    def statement(self) -> Iterator[None]:
        """Count afresh for one statement; erase the progress line when it ends."""
        with self._lock:
            self._counts, self._started = {}, self.clock()
        try:
            yield
        finally:
            with self._lock:
                self._erase()

    # --- observers (called from the threads that make requests) ---------------------------------------
    def request(self, record: RequestRecord) -> None:
        """Every request: in dry-run mode, print it (held back, or a listing that ran)."""
        if not self.options.dry_run:
            return
        label = "would send" if not record.sent else "listing"
        with self._lock:
            self._erase()
            self.stream.write(f"{label}: {describe_request(record)}\n")
            self.stream.flush()

    def page(self, workspace: str, items: int) -> None:
        """Every listing page received: count it and redraw the progress line now and then."""
        with self._lock:
            pages, rows = self._counts.get(workspace, (0, 0))
            self._counts[workspace] = (pages + 1, rows + items)
            now = self.clock()
            if now - self._started < self.delay or (self._drawn_at is not None and now - self._drawn_at < self.interval):
                return
            self.stream.write(ERASE + format_progress(self._counts))
            self.stream.flush()
            self._drawn_at = now

    def _erase(self) -> None:
        if self._drawn_at is not None:
            self.stream.write(ERASE)
            self.stream.flush()
            self._drawn_at = None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
