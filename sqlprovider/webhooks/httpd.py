"""Plumbing shared by the local HTTP servers (the webhook receiver here, and the sandbox).

Here, below both, so that neither server imports the other's package.

`LocalServer` is a ThreadingHTTPServer that picks the address family from the host, tracks its
connections so `stop()` also drops idle kept-alive ones, and never prints tracebacks for broken
connections; `LocalHandler` is the base of their request handlers. `read_body` reads a request body (Content-Length or chunked) with a size cap.
`stop_signals` keeps a foreground command running until Ctrl-C or SIGTERM; `is_loopback_host` tells
whether an address only this machine can reach.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("sqlprovider.sandbox")  # the name users already filter on

MAX_BODY_BYTES = 10 * 1024 * 1024


class LocalServer(ThreadingHTTPServer):
    """A threaded HTTP server that can be stopped promptly, open connections included."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], app: Any = None) -> None:
        self.app = app  # what the handlers serve (a Sandbox, a Receiver)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        try:
            self.address_family = socket.AF_INET6 if ipaddress.ip_address(address[0]).version == 6 else socket.AF_INET
        except ValueError:  # a host name such as localhost
            self.address_family = socket.AF_INET
        super().__init__(address, handler)

    @property
    def base_url(self) -> str:
        """http://host:port of the bound socket (IPv6 hosts in brackets)."""
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def serve_in_thread(self, name: str) -> None:
        """Serve in a daemon thread until stop()."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the socket and shut down every open client connection."""
        self._stop_serving()
        self.server_close()
        self._close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def _stop_serving(self) -> None:
        """shutdown(), without waiting out the poll interval: connecting wakes the serve loop."""
        if self._thread is None:
            return
        stopper = threading.Thread(target=self.shutdown, daemon=True)
        stopper.start()
        host, port = self.server_address[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        while stopper.is_alive():
            try:
                socket.create_connection((host, port), timeout=0.5).close()
            except OSError:
                pass
            stopper.join(0.01)

    def _close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error", exc_info=True)


class LocalHandler(BaseHTTPRequestHandler):
    """Base of the handlers: HTTP/1.1 keep-alive, a quiet log (debug: method and path, never headers).
    Each do_* method of a subclass runs in the connection's thread."""

    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without this, a kept-alive client's delayed ACK
    # stalls every answer by ~40 ms
    disable_nagle_algorithm = True
    sys_version = ""
    timeout = 60  # seconds an idle kept-alive connection may stay open
    server: LocalServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # also called for a request line that could not be read, before `path` (and `command`) are set
        log.debug("%s %s", getattr(self, "command", None), urlsplit(getattr(self, "path", "")).path)

    def send(self, status: int, content_type: str, body: bytes, extra: dict[str, str] | None = None) -> None:
        """Answer with `body` (omitted for HEAD) and the extra headers."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_cut(self, status: int, content_type: str, body: bytes, extra: dict[str, str] | None = None,
                 reset: bool = False) -> None:
        """Like send(), but only the first half of `body` goes out (the headers announce all of it), then the
        connection closes: with a FIN (the client reads too few bytes) or, if `reset`, a TCP reset."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        if reset:  # SO_LINGER 0: closing sends RST instead of FIN; the fd is closed now, not when the handler ends
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(self.connection.detach())


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_body(handler: BaseHTTPRequestHandler, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The request body (Content-Length or chunked); None if it cannot be read or exceeds `limit`."""
    rfile = handler.rfile
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks, total = [], 0
        while True:
            line = rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"x", 16)
            except ValueError:
                return None
            if size == 0:
                while rfile.readline(1024).strip():
                    pass
                return b"".join(chunks)
            total += size
            if total > limit:
                return None
            chunks.append(rfile.read(size))
            rfile.readline(1024)
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        return None
    if length < 0 or length > limit:
        return None
    return rfile.read(length) if length else b""


@contextmanager
def stop_signals() -> Iterator[Callable[..., bool]]:
    """Within the block SIGINT and SIGTERM do not stop the process; the yielded `wait_for_signal(timeout=None)`
    blocks until one has arrived (at any time since the block began) and returns True, or False after
    `timeout` seconds. Main thread only.

    The signal reaches the waiting thread through a socket pair (`signal.set_wakeup_fd`), whichever thread
    the OS delivered it to, and the Python-level handlers do nothing. They must not take a lock: a handler
    that called `threading.Event.set()` deadlocked whenever the signal landed while the main thread, inside
    `Event.wait()`, held that event's lock.
    """
    with ExitStack() as restore:  # on exit, in reverse: the handlers, the wakeup fd, the sockets
        reader, writer = socket.socketpair()
        restore.callback(writer.close)
        restore.callback(reader.close)
        writer.setblocking(False)  # as set_wakeup_fd requires; the C-level handler writes the signal number
        restore.callback(signal.set_wakeup_fd, signal.set_wakeup_fd(writer.fileno()))  # before the handlers
        for sig in (signal.SIGINT, signal.SIGTERM):
            restore.callback(signal.signal, sig, signal.signal(sig, _ignore))

        def wait_for_signal(timeout: float | None = None) -> bool:
            reader.settimeout(timeout)
            try:
                return bool(reader.recv(1))
            except TimeoutError:
                return False

        yield wait_for_signal


def _ignore(signum: int, frame: object) -> None:
    """The Python-level handler of stop_signals: the C-level one has already written to the wakeup fd."""

