"""Fault injection: make the next API requests fail the way Databricks (or a proxy) sometimes does."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

#: The registry-webhooks endpoints a fault may be limited to.
ENDPOINTS: tuple[str, ...] = ("list", "create", "update", "delete", "test")
KINDS: tuple[str, ...] = ("429", "503", "500", "html502", "truncated", "reset")
#: Faults that let the request be processed (a create lands) and then cut its answer off mid-body.
CUT_KINDS: frozenset[str] = frozenset({"truncated", "reset"})

_HTML_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")


@dataclass(frozen=True)
class FaultSpec:
    """The next `count` API requests (to `endpoint` only, if given) answer fault `kind` instead.

    kind: "429" (REQUEST_LIMIT_EXCEEDED + Retry-After), "503" (TEMPORARILY_UNAVAILABLE + Retry-After),
    "500" (INTERNAL_ERROR), "html502" (a proxy's HTML 502 page); or, after the request has been processed
    (so a create lands), its answer cut off after the headers and half the body: "truncated" (the
    connection closes with fewer bytes than its Content-Length) or "reset" (a TCP reset).
    """

    kind: str
    count: int = 1
    endpoint: str | None = None
    retry_after: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}: use one of {', '.join(KINDS)}")
        if type(self.count) is not int or self.count < 1:
            raise ValueError(f"fault count must be a positive integer, not {self.count!r}")
        if self.endpoint is not None and self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}: use one of {', '.join(ENDPOINTS)}")
        if type(self.retry_after) is not int or self.retry_after < 0:
            raise ValueError(f"retry_after must be a non-negative integer, not {self.retry_after!r}")


@dataclass(frozen=True)
class FaultAnswer:
    """The HTTP answer of one injected fault."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]


def answer(spec: FaultSpec) -> FaultAnswer:
    """The response Databricks (or its proxy) sends for this kind of fault (not a CUT_KINDS one)."""
    def databricks(status: int, code: str, message: str, headers: dict[str, str]) -> FaultAnswer:
        body = json.dumps({"error_code": code, "message": message}).encode("utf-8")
        return FaultAnswer(status, "application/json", body, headers)

    retry = {"Retry-After": str(spec.retry_after)}
    if spec.kind == "429":
        return databricks(429, "REQUEST_LIMIT_EXCEEDED",
                          "The request rate limit was exceeded (injected by the sandbox).", retry)
    if spec.kind == "503":
        return databricks(503, "TEMPORARILY_UNAVAILABLE",
                          "The service is temporarily unavailable (injected by the sandbox).", retry)
    if spec.kind == "500":
        return databricks(500, "INTERNAL_ERROR", "Internal error (injected by the sandbox).", {})
    return FaultAnswer(502, "text/html", _HTML_502, {})


class FaultInjector:
    """Queued faults, consumed first-in first-out by matching API requests. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[list] = []  # [spec, remaining]

    def inject(self, spec: FaultSpec) -> None:
        """Queue a fault."""
        with self._lock:
            self._pending.append([spec, spec.count])

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._pending.clear()

    def take(self, endpoint: str) -> FaultSpec | None:
        """The fault this request to `endpoint` must answer, if any (and count it used)."""
        with self._lock:
            for entry in self._pending:
                spec = entry[0]
                if spec.endpoint is None or spec.endpoint == endpoint:
                    entry[1] -= 1
                    if entry[1] == 0:
                        self._pending.remove(entry)
                    return spec
        return None
