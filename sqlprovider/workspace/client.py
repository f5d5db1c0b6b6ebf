"""HTTP to one workspace: session, auth header, retries, pagination and error mapping.

Nothing here knows SQL. Error messages name the workspace and the request (verb and path),
never a credential or a request body.
"""

from __future__ import annotations


import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import orjson

from sqlprovider.errors import ApiError, Error, ValidationError
from sqlprovider.redact import MASK, SECRET_KEYS, redact, redact_text

if TYPE_CHECKING:  # imported where a workspace is first used: a start-up that sends nothing skips ~60 ms
    import requests

log = logging.getLogger("sqlprovider.http")
IDEMPOTENT = frozenset({"GET", "PATCH", "DELETE", "HEAD"})
AuthHeaders = Callable[[], Mapping[str, str]]


@dataclass(frozen=True)
class RequestRecord:
    """One request as shown to people (dry-run listings, --debug): secrets already masked."""

    workspace: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any
    sent: bool  # False: dry-run held it back
    status: int | None = None
    seconds: float | None = None


@dataclass
class RequestOptions:
    """Shared by every Workspace of a connection, so toggling dry-run reaches them all."""

    dry_run: bool = False
    observers: list[Callable[[RequestRecord], None]] = field(default_factory=list)
    #: called with (workspace, number of items) for every listing page received (live progress)
    page_observers: list[Callable[[str, int], None]] = field(default_factory=list)

    def notify(self, record: RequestRecord) -> None:
        for observer in list(self.observers):
            observer(record)


#: The default retry budget in seconds: the official databricks-sdk's (its Config.retry_timeout_seconds, 300)
DEFAULT_RETRY_TIMEOUT = 300.0
RETRY_TIMEOUT_ENV = "SQLPROVIDER_RETRY_TIMEOUT"
#: How to give a call more time (said when the budget runs out or a Retry-After exceeds it).
_ALLOW_MORE = f"allow more time with --retry-timeout SECONDS, {RETRY_TIMEOUT_ENV} or connect(retry=SECONDS)"

# the clock and the pause of the retry loop and the 429 backpressure: tests replace these (no real sleeps)
monotonic = time.monotonic
sleep = time.sleep


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one call: retrying is bounded by time (`total_seconds`), not by a count.

    429/503 honour Retry-After; other 5xx, connection failures and cut-off answers are retried only on
    idempotent calls (or when the request never left). `max_attempts` None: as many as the time allows.
    """

    total_seconds: float = DEFAULT_RETRY_TIMEOUT
    max_attempts: int | None = None
    base_delay: float = 0.5
    max_delay: float = 10.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


def retry_policy(retry: RetryPolicy | float | None, env: Mapping[str, str] | None = None) -> RetryPolicy:
    """The policy to use: `retry` as given (a number is its budget in seconds), else the default budget or
    SQLPROVIDER_RETRY_TIMEOUT's. A bad value is a ConfigurationError naming it."""
    from sqlprovider.errors import ConfigurationError

    if isinstance(retry, RetryPolicy):
        return retry
    if retry is None:
        text = (os.environ if env is None else env).get(RETRY_TIMEOUT_ENV, "").strip()
        if not text:
            return RetryPolicy()
        where, retry = RETRY_TIMEOUT_ENV, text
    else:
        where = "retry"
    try:
        seconds = float(retry)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = float("nan")
    if isinstance(retry, bool) or not 0 <= seconds < float("inf"):
        what = "a number of seconds (0 or more)" + (" or a RetryPolicy" if where == "retry" else "")
        raise ConfigurationError(f"{where} must be {what}, not {retry!r}")
    return RetryPolicy(total_seconds=seconds)


class _Retry(Exception):
    """One attempt failed in a way worth trying again: `error` if no time is left; `wait` a Retry-After."""

    def __init__(self, error: ApiError, wait: float | None = None, maybe_applied: bool = False) -> None:
        super().__init__(str(error))
        self.error, self.wait, self.maybe_applied = error, wait, maybe_applied


class Workspace:
    """One Databricks workspace (or the sandbox): where requests for a deployment go."""

    def __init__(self, name: str, host: str, auth: AuthHeaders, retry: RetryPolicy | float | None = None,
                 pool_size: int = 16, options: RequestOptions | None = None) -> None:
        self.name = name
        self.options = options or RequestOptions()
        self.host = host.rstrip("/")
        self.auth = auth
        self.retry = retry_policy(retry)
        import requests
        from requests.adapters import HTTPAdapter

        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "sqlprovider/0.1"
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(pool_size)  # at most this many requests in flight per workspace
        self._throttle_until = 0.0
        self.request_count = 0

    def __repr__(self) -> str:
        return f"Workspace({self.name!r}, {self.host!r})"

    def close(self) -> None:
        self.session.close()

    # --- one call ----------------------------------------------------------------------------
    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Make one API call (with retries) and return its JSON object; raise ApiError otherwise.

        Retries go on while the policy's time budget lasts. In dry-run mode only GET is sent; any other
        call is reported to the observers and answers {}.
        """
        if self.options.dry_run and method != "GET":
            self.options.notify(RequestRecord(self.name, method, path, tuple(_query_pairs(query) or ()),
                                              redact(body), sent=False))
            return {}
        payload = encode_body(body)
        policy = self.retry
        started = monotonic()
        attempt, maybe_applied = 0, False
        while True:
            attempt += 1
            self._wait_for_throttle()
            try:
                return self._attempt(method, path, query, body, payload, attempt, maybe_applied)
            except _Retry as retry:
                error, wait = retry.error, retry.wait
                maybe_applied = maybe_applied or retry.maybe_applied
            left = policy.total_seconds - (monotonic() - started)
            if wait is not None and wait > left:
                raise self._gave_up(method, path, error, f"at once: the workspace asked to wait {wait:g} s before "
                                                         f"retrying, more than the {max(left, 0):.0f} s left of the "
                                                         f"retry budget of {policy.total_seconds:g} s; {_ALLOW_MORE}")
            if wait is None:
                wait = min(policy.max_delay, policy.base_delay * 2 ** min(attempt - 1, 30))
                wait *= 0.75 + random.random() / 2
            if policy.max_attempts is not None and attempt >= policy.max_attempts:
                raise self._gave_up(method, path, error, f"after {attempt} attempts (max_attempts)")
            if wait > left:
                raise self._gave_up(method, path, error, f"after {attempt} attempt{'s' if attempt != 1 else ''} in "
                                                         f"{monotonic() - started:.0f} s, the retry budget of "
                                                         f"{policy.total_seconds:g} s; {_ALLOW_MORE}")
            sleep(wait)

    def _attempt(self, method: str, path: str, query: Mapping[str, Any] | None, body: Mapping[str, Any] | None,
                 payload: bytes | None, attempt: int, maybe_applied: bool) -> dict[str, Any]:
        """One try: the answer's JSON object, or ApiError (final), or _Retry (worth another try)."""
        pairs = _query_pairs(query)
        started = time.perf_counter()
        try:
            with self._slots:
                response = self._exchange(method, path, pairs, payload)
        except Error:
            raise
        except Exception as exc:
            failure = transport_failure(exc)
            if failure is None:
                raise
            text = failure.what.replace("{host}", self.host)
            self._log_failure(method, path, query, body, f"{text} ({failure.reason})" if text else failure.reason,
                              attempt)
            if failure.stage == "local":
                raise self._error(method, path, f"the request could not be sent ({failure.reason}); "
                                                f"{self._host_hint()}") from None
            if failure.stage == "sent" and method not in IDEMPOTENT:
                raise self._unknown_outcome(method, path, f"{failure.what} ({failure.reason})") from None
            text = f"{text} ({failure.reason}); {self._host_hint()}"
            raise _Retry(self._error(method, path, text), maybe_applied=failure.stage == "sent") from None
        self._observe(method, path, pairs, body, response.status_code, time.perf_counter() - started)
        status = response.status_code
        if 300 <= status < 400:  # never followed: it would resend the credential and body elsewhere
            raise self._redirect_error(method, path, response)
        if status < 400:
            return self._decode(method, path, response)
        if status == 404 and method == "DELETE" and maybe_applied:
            log.debug("%s DELETE %s: 404 after an attempt whose answer was lost: it was applied then", self.name, path)
            return {}
        error = self._api_error(method, path, response)
        if status in (429, 503):  # the workspace refused before doing anything: always safe to retry
            wait = _retry_after(response)
            if status == 429:
                self._throttle(wait if wait is not None else self.retry.base_delay)
            raise _Retry(error, wait)
        if status >= 500 and method not in IDEMPOTENT:
            raise self._unknown_outcome(method, path, f"the answer was HTTP {status}") from None
        if status >= 500:
            raise _Retry(error, maybe_applied=True)
        raise error

    def _gave_up(self, method: str, path: str, error: ApiError, when: str) -> ApiError:
        """The last attempt's error, saying retrying stopped `when` (and how to allow more)."""
        return self._error(method, path, f"{_reason_of(error)}; gave up {when}", status=error.status,
                           error_code=error.error_code)

    def _throttle(self, seconds: float) -> None:
        """After a 429, hold every request to this workspace back for `seconds` (backpressure)."""
        with self._lock:
            self._throttle_until = max(self._throttle_until, monotonic() + seconds)

    def _wait_for_throttle(self) -> None:
        pause = self._throttle_until - monotonic()
        if pause > 0:
            sleep(pause)

    def _exchange(self, method: str, path: str, pairs: list[tuple[str, str]] | None,
                  payload: bytes | None) -> requests.Response:
        """Send one request and read its whole answer (requests reads the body in `request()`, stream=False)."""
        with self._lock:
            self.request_count += 1
        headers = {"Content-Type": "application/json"} if payload is not None else None
        response = self.session.request(
            method, self.host + path, params=pairs, data=payload, headers=headers,
            auth=_with_headers(self.auth()), timeout=(self.retry.connect_timeout, self.retry.read_timeout),
            allow_redirects=False)
        response.content  # noqa: B018 - already read; a lazy read here would still be inside the mapped region
        return response

    def _observe(self, method: str, path: str, pairs: list[tuple[str, str]] | None, body: Mapping[str, Any] | None,
                 status: int, seconds: float) -> None:
        """--debug and the observers: one record per answered attempt."""
        if self.options.observers or log.isEnabledFor(logging.DEBUG):
            record = RequestRecord(self.name, method, path, tuple(pairs or ()), redact(body), True, status, seconds)
            log.debug("%s %s %s%s query=%s body=%s -> %s in %.3fs", record.workspace, method, self.host, path,
                      list(record.query), record.body, record.status, record.seconds)
            self.options.notify(record)

    def _log_failure(self, method: str, path: str, query: Mapping[str, Any] | None, body: Mapping[str, Any] | None,
                     reason: str, attempt: int) -> None:
        """--debug: one line for an attempt that got no answer (the answered ones are logged by _observe)."""
        if log.isEnabledFor(logging.DEBUG):
            of = f" of {self.retry.max_attempts}" if self.retry.max_attempts is not None else ""
            log.debug("%s %s %s%s query=%s body=%s -> failed: %s (attempt %d%s)", self.name, method, self.host,
                      path, _query_pairs(query) or [], redact(body), reason, attempt, of)

    def _host_hint(self) -> str:
        """What to check when the workspace cannot be reached."""
        return (f"check the host set for {self.name} (its profile's host, or DATABRICKS_HOST) and that the workspace "
                f"is up and reachable from here")

    # --- pagination ----------------------------------------------------------------------------
    def pages(self, path: str, params: Mapping[str, Any], *, items_key: str, token_param: str,
              next_token_key: str) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's items, following page tokens until the last page. Lazy: one request per step."""
        query = dict(params)
        seen: set[str] = set()
        while True:
            answer = self.request("GET", path, query=query)
            items = answer.get(items_key) or []
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise self._error("GET", path, f"the answer's {items_key!r} is not a list of objects")
            for observer in list(self.options.page_observers):
                observer(self.name, len(items))
            yield items
            token = answer.get(next_token_key)
            if not token:
                return
            if not isinstance(token, str):
                raise self._error("GET", path, f"the answer's {next_token_key!r} is not a string")
            if token in seen:
                raise self._error("GET", path, "the workspace repeated a page token; stopping to avoid an endless listing")
            seen.add(token)
            query[token_param] = token

    # --- errors ----------------------------------------------------------------------------------
    def _error(self, method: str, path: str, text: str, **kw: Any) -> ApiError:
        return ApiError(f"{self.name}: {method} {path} failed: {text}", workspace=self.name, method=method,
                        path=path, **kw)

    def _unknown_outcome(self, method: str, path: str, what: str) -> ApiError:
        return self._error(method, path, f"{what} after the request was sent, so it may or may not have been "
                                         f"applied (not retried, to avoid a duplicate); list the resource "
                                         f"(SELECT ... WHERE deployment_name = '{self.name}') to check before "
                                         f"trying again", outcome_unknown=True)

    def _api_error(self, method: str, path: str, response: requests.Response) -> ApiError:
        """The workspace's error answer as one line, with a hint for auth failures; no secret it was sent."""
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and ("error_code" in payload or "message" in payload):
            code = payload.get("error_code")
            message = " ".join(str(payload.get("message") or "").split())
            # a numeric code is the HTTP status again (Databricks' auth failures): say it once
            same = code is None or str(code) == str(status)
            text = f"HTTP {status}: {message}" if same else f"{code} (HTTP {status}): {message}"
        else:
            code, message = None, ""
            text = f"HTTP {status} with a non-JSON answer ({_snippet(response.text, response.request)})"
        text = _without_secrets(text, response.request)
        hint = _hint(status, code, message)
        if hint:
            source = getattr(self.auth, "source", None) or "DATABRICKS_TOKEN or the profile"
            text += f"; {hint.format(workspace=self.name, source=source)}"
        return self._error(method, path, text, status=status, error_code=code)

    def _redirect_error(self, method: str, path: str, response: requests.Response) -> ApiError:
        """A 3xx answer, which is never followed: where it pointed, and what to configure instead."""
        status, target = response.status_code, redirect_target(response)
        if target is not None and target != self.host:
            where = f"to {target}"
            fix = f"if {target} is the workspace's final host, set host = {target} in its profile"
        else:
            where = f"to another path on {self.host}" if target else "with no usable Location"
            fix = "set the workspace's final host in its profile (the workspace URL itself, not a proxy or login page)"
        text = (f"HTTP {status} redirect {where}, not followed (credentials and request bodies go only to "
                f"{self.host}); {fix}")
        return self._error(method, path, _without_secrets(text, response.request), status=status)

    def _decode(self, method: str, path: str, response: requests.Response) -> dict[str, Any]:
        if not response.content.strip():
            return {}
        try:
            payload = orjson.loads(response.content)  # ~20% faster than response.json() on a page of 1000
        except ValueError:
            raise self._error(method, path, f"HTTP {response.status_code} with an answer that is not JSON "
                                            f"({_snippet(response.text, response.request)})") from None
        if not isinstance(payload, dict):
            raise self._error(method, path, f"expected a JSON object, got {type(payload).__name__}")
        return payload


#: What to check after an auth failure; {workspace} and {source} (where the credential came from) are filled in.
_NO_CREDENTIAL_HINT = ("no valid credential reached {workspace}: check the one from {source} (DATABRICKS_TOKEN, "
                       "DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, or a profile's token or "
                       "client_id/client_secret)")
_BAD_TOKEN_HINT = ("check that the token for {workspace} is valid and not expired (it comes from {source}): create "
                   "a new one, or for OAuth check the client id and secret")
_RIGHTS_HINT = ("managing registry webhooks on {workspace} needs workspace admin rights (registry-wide webhooks) or "
                "CAN MANAGE on the model; Unity Catalog models have no registry webhooks")
_FORBIDDEN_HINT = ("check that the credential for {workspace} (from {source}) is valid and not expired, and that you "
                   "are a workspace admin (Unity Catalog models have no registry webhooks)")
_TOO_LONG_HINT = ("the request's URL is too long: a value given to a pushed-down filter (model_name, events, "
                  "page_token) is too long; shorten it")


def _hint(status: int, code: object, message: str) -> str | None:
    """What to check after a 401/403: the credential (numeric code, "token" in the message) or the rights;
    after a 414, the filter value that made the URL too long."""
    if status == 414:
        return _TOO_LONG_HINT
    if status == 401:
        return _NO_CREDENTIAL_HINT
    if status != 403:
        return None
    if code == 403 or "token" in message.lower():
        return _BAD_TOKEN_HINT
    return _RIGHTS_HINT if code == "PERMISSION_DENIED" else _FORBIDDEN_HINT


def _without_secrets(text: str, request: requests.PreparedRequest | None) -> str:
    """`text` with every credential the request carried masked: its Authorization and its body's secrets."""
    text = redact_text(text)
    if request is None:
        return text
    values = [request.headers.get("Authorization", "").partition(" ")[2]]
    try:
        values += _secret_values(json.loads(request.body or b"null"))
    except (TypeError, ValueError):
        pass
    values += [v.partition(" ")[2] for v in values]  # "Bearer <token>": the token alone too
    for value in sorted({v for v in values if len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def _secret_values(value: Any) -> list[str]:
    """The string values under secret keys (see redact.SECRET_KEYS), anywhere in a JSON value."""
    if isinstance(value, Mapping):
        return [v for k, v in value.items() if str(k).lower() in SECRET_KEYS and isinstance(v, str)] + [
            s for v in value.values() for s in _secret_values(v)]
    if isinstance(value, list):
        return [s for v in value for s in _secret_values(v)]
    return []


def _query_pairs(query: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    """Query parameters with list values repeated (`events=A&events=B`), as the API expects."""
    if not query:
        return None
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, str(item)))
    return pairs


def _with_headers(headers: Mapping[str, str]) -> Callable[[requests.PreparedRequest], requests.PreparedRequest]:
    """The credential as requests' `auth=`: as a plain header, a ~/.netrc entry for the host would replace it."""
    def apply(request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(headers)
        return request

    return apply


def redirect_target(response: requests.Response) -> str | None:
    """Where a 3xx answer points, as `scheme://host[:port]` only (no user info, path or query: they may
    carry secrets); None when its Location is missing or not an http(s) URL of a host."""
    location = (response.headers.get("Location") or "").strip()
    try:
        parts = urlsplit(urljoin(response.url or "", location))
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not location or parts.scheme not in ("http", "https") or not host \
            or not re.fullmatch(r"[a-z0-9._:-]{1,253}", host):
        return None
    shown = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{shown}" + (f":{port}" if port is not None and port != default else "")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class TransportFailure:
    """Why an attempt got no (whole) answer. `stage`: "local" (the request could not be built or sent: not
    worth retrying), "connect" (no connection was made, so nothing arrived) or "sent" (the request may have
    arrived; its answer did not, or not whole). `what` may name {host}; `reason` is the detail."""

    stage: str
    what: str
    reason: str


def transport_failure(exc: BaseException) -> TransportFailure | None:
    """The one place a transport exception (requests, urllib3, http.client, sockets, TLS, decoding) is
    classified; None for anything else (a bug, to be raised as it is)."""
    import http.client
    import ssl

    import requests
    import urllib3.exceptions as u3

    chain = _causes(exc)

    def among(*types: type) -> bool:
        return any(isinstance(e, types) for e in chain)

    reason = failure_reason(exc)
    if among(ssl.SSLCertVerificationError):
        return TransportFailure("local", "", f"TLS certificate not trusted: {reason}")
    if isinstance(exc, requests.ConnectTimeout) or among(u3.ConnectTimeoutError, u3.NewConnectionError,
                                                         u3.ProxyError, ConnectionRefusedError):
        return TransportFailure("connect", "cannot reach {host}", reason)
    if isinstance(exc, requests.Timeout) or among(u3.ReadTimeoutError, TimeoutError):
        return TransportFailure("sent", "no answer from {host} in time", reason)
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)) \
            or among(http.client.IncompleteRead, u3.IncompleteRead, u3.DecodeError):
        return TransportFailure("sent", "the answer was cut off", reason)
    if isinstance(exc, requests.ConnectionError) or among(u3.ProtocolError, http.client.HTTPException, OSError):
        return TransportFailure("sent", "the connection dropped", reason)
    if isinstance(exc, (ValueError, requests.RequestException, u3.HTTPError)):  # a bad URL or header value
        return TransportFailure("local", "", reason)
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps: requests and urllib3 keep the original in args, `reason`, __cause__, __context__."""
    seen: list[BaseException] = []
    pending = [exc]
    while pending and len(seen) < 20:
        item = pending.pop()
        if any(item is s for s in seen):
            continue
        seen.append(item)
        pending += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
        pending += [e for e in (getattr(item, "reason", None), item.__cause__, item.__context__)
                    if isinstance(e, BaseException)]
    return seen


def failure_reason(exc: BaseException) -> str:
    """Why a request got no answer, in a few words (`Connection refused`, `IncompleteRead(...)`): the OS error
    text, else the exception's name."""
    text = str(exc)
    for pattern in (r"\[Errno -?\d+\] ([^'\")]+)", r"(Connection refused)", r"(Read timed out)", r"(timed out)",
                    r"(IncompleteRead\(\d+ bytes read, \d+ more expected\))", r"(Connection reset by peer)",
                    r"(Remote end closed connection without response)"):
        match = re.search(pattern, text)
        if match:
            return match.group(1).strip()
    return type(exc).__name__


def _reason_of(error: ApiError) -> str:
    """An ApiError's text after "METHOD PATH failed: "."""
    return str(error).split(" failed: ", 1)[-1].rstrip(".")


#: deeper than this, a request body is refused (json would hit Python's recursion limit long before the API's)
MAX_BODY_DEPTH = 64


def encode_body(body: Mapping[str, Any] | None) -> bytes | None:
    """The one place a request body becomes JSON. A value JSON cannot carry (NaN, Infinity, a lone
    surrogate, another type) or a nesting deeper than MAX_BODY_DEPTH is a ValidationError naming where."""
    if body is None:
        return None
    problem = _unsendable(body)
    if problem is not None:
        where, what = problem
        raise ValidationError(f"cannot send {where or 'the request body'}: {what}; nothing was sent")
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _unsendable(body: Any) -> tuple[str, str] | None:
    """(where, what) of the first value in `body` that JSON cannot carry, or None. A loop: no recursion."""
    pending: list[tuple[str, Any, int]] = [("", body, 0)]
    while pending:
        where, value, depth = pending.pop()
        if depth > MAX_BODY_DEPTH:
            return where.split(".")[0], f"it is nested more than {MAX_BODY_DEPTH} levels deep"
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return where, "a string holds a lone surrogate (\\ud800-\\udfff), which is not valid Unicode"
        elif isinstance(value, bool) or value is None or isinstance(value, int):
            continue
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return where, f"{value!r} is not a JSON number (JSON has no NaN or Infinity): use null or a number"
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str) or _SURROGATE.search(key):
                    return where, f"the key {key!r} is not a JSON string"
                pending.append((f"{where}.{key}" if where else key, item, depth + 1))
        elif isinstance(value, (list, tuple)):
            pending.extend((f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value))
        else:
            return where, f"a {type(value).__name__} is not a JSON value"
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _snippet(text: str, request: requests.PreparedRequest | None, limit: int = 80) -> str:
    """The start of an answer's text, tags dropped, masked before it is cut (a cut secret would not match)."""
    plain = re.sub(r"<[^>]+>", " ", text or "")
    plain = _without_secrets(" ".join(plain.split()), request)
    return repr(plain[:limit] + ("..." if len(plain) > limit else "")) if plain else "empty body"


