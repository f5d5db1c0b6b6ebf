"""Credentials: the request headers for one workspace host, the way Databricks tools authenticate.

`Credentials` says what to authenticate with and where it came from (a profile or the
environment); `provider()` turns it into the `auth` callable a `client.Workspace` calls before
each request: `PersonalAccessToken`, `OAuthM2M` (client credentials, token cached and refreshed
before expiry) or, for other `auth_type`s of a profile, the optional Databricks SDK. No secret is
ever part of a message, a repr or a log line.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from sqlprovider.workspace.client import AuthHeaders, failure_reason, redirect_target
from sqlprovider.errors import ApiError, ConfigurationError
from sqlprovider.redact import MASK, redact_text

if TYPE_CHECKING:  # imported where a request is made: a start-up that sends none (`SELECT 1`) skips it
    import requests

log = logging.getLogger("sqlprovider.http")

DISCOVERY_PATH = "/oidc/.well-known/oauth-authorization-server"
TOKEN_PATH = "/oidc/v1/token"
#: Profile auth_type values handled here; any other needs the Databricks SDK.
NATIVE_AUTH_TYPES = frozenset({"pat", "oauth-m2m"})
ENV_SOURCE = "DATABRICKS_TOKEN"
ENV_M2M_SOURCE = "DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET"
_HOSTNAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, lower-cased, default port dropped (a bare host means
    https); None for anything else: other schemes, user info, a bad host or port, spaces or control
    characters. Path, query and fragment are not part of it."""
    text = url.strip()
    if not text or any(c.isspace() or not c.isprintable() for c in text):
        return None
    try:
        parts = urlsplit(text if "://" in text else "https://" + text)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc or not (_HOSTNAME.fullmatch(host) or _is_ip(host)):
        return None
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


def same_origin(a: str, b: str) -> bool:
    """True when both are valid http(s) URLs on the same scheme, host and port."""
    first = origin(a)
    return first is not None and first == origin(b)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, repr=False)
class Credentials:
    """What to authenticate with and where it came from (`source`, for messages). Never printed whole."""

    kind: Literal["pat", "oauth-m2m", "sdk"]
    source: str  # e.g. "profile [prod] in /home/me/.databrickscfg" or "DATABRICKS_TOKEN"
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    profile: str | None = None  # kind "sdk": the profile the SDK reads
    auth_type: str | None = None
    config_file: Path | None = None

    def __repr__(self) -> str:
        return f"Credentials({self.kind}, from {self.source})"


def from_profile(name: str, profile: Mapping[str, str], path: Path) -> Credentials | None:
    """The credentials a config profile holds (token first, as the SDK does), else None."""
    source = f"profile [{name}] in {path}"
    auth_type = (profile.get("auth_type") or "").strip().lower()
    if auth_type and auth_type not in NATIVE_AUTH_TYPES:
        return Credentials("sdk", source, profile=name, auth_type=auth_type, config_file=path)
    token, client_id, client_secret = (profile.get(k, "").strip() for k in ("token", "client_id", "client_secret"))
    if token and auth_type != "oauth-m2m":
        return Credentials("pat", source, token=token)
    if client_id or client_secret:
        if not (client_id and client_secret):
            given, missing = ("client_id", "client_secret") if client_id else ("client_secret", "client_id")
            raise ConfigurationError(f"{source} has {given} but no {missing}; OAuth M2M needs both")
        return Credentials("oauth-m2m", source, client_id=client_id, client_secret=client_secret)
    return None


def from_env(env: Mapping[str, str]) -> Credentials | None:
    """DATABRICKS_TOKEN, else DATABRICKS_CLIENT_ID with DATABRICKS_CLIENT_SECRET, else None."""
    token = (env.get("DATABRICKS_TOKEN") or "").strip()
    if token:
        return Credentials("pat", ENV_SOURCE, token=token)
    client_id = (env.get("DATABRICKS_CLIENT_ID") or "").strip()
    client_secret = (env.get("DATABRICKS_CLIENT_SECRET") or "").strip()
    if client_id and client_secret:
        return Credentials("oauth-m2m", ENV_M2M_SOURCE, client_id=client_id, client_secret=client_secret)
    if client_id or client_secret:
        raise ConfigurationError("OAuth M2M needs both DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET; "
                                 "only one is set")
    return None


def provider(credentials: Credentials, host: str, workspace: str) -> AuthHeaders:
    """The `auth` callable for a Workspace on `host`. PAT and OAuth make no request until first called;
    the SDK reads the workspace's `/.well-known/databricks-config` while it sets up."""
    if credentials.kind == "pat":
        return PersonalAccessToken(credentials.token or "", credentials.source)
    if credentials.kind == "oauth-m2m":
        return OAuthM2M(host, credentials.client_id or "", credentials.client_secret or "",
                        workspace=workspace, source=credentials.source)
    return SdkCredentials(credentials, host)


class PersonalAccessToken:
    """`Authorization: Bearer <token>` on every request."""

    def __init__(self, token: str, source: str = ENV_SOURCE) -> None:
        self._headers = {"Authorization": f"Bearer {token}"}
        self.source = source

    def __call__(self) -> Mapping[str, str]:
        return self._headers

    def __repr__(self) -> str:
        return f"PersonalAccessToken({MASK}, from {self.source})"


@dataclass(frozen=True)
class _Token:
    value: str
    token_type: str
    refresh_at: float  # time.monotonic() when to fetch the next one


class OAuthM2M:
    """OAuth machine-to-machine: a client-credentials token from the workspace, cached until shortly
    before it expires (60 s, or a tenth of its lifetime if that is shorter).

    The token endpoint is discovered like the SDK does (`GET /oidc/.well-known/oauth-authorization-server`,
    falling back to `/oidc/v1/token`) and must be on the workspace's own host. Thread-safe: when the
    token is due, one thread fetches the next while the others wait for it.
    """

    def __init__(self, host: str, client_id: str, client_secret: str, session: requests.Session | None = None,
                 *, workspace: str | None = None, source: str = ENV_M2M_SOURCE,
                 timeout: tuple[float, float] = (10.0, 30.0), clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.workspace = workspace or self.host
        self.source = source
        self.timeout = timeout
        self._clock = clock
        self._session = session or _session()
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._endpoint: str | None = None
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"OAuthM2M({self.host!r}, client_id={self.client_id!r}, client_secret={MASK})"

    def __call__(self) -> Mapping[str, str]:
        token = self._token
        if token is None or self._clock() >= token.refresh_at:
            with self._lock:  # one refresh at a time; the others then find the fresh token
                token = self._token
                if token is None or self._clock() >= token.refresh_at:
                    token = self._token = self._fetch()
        return {"Authorization": f"{token.token_type} {token.value}"}

    @property
    def token_endpoint(self) -> str:
        """The token endpoint (discovered once, on the workspace's host)."""
        if self._endpoint is None:
            self._endpoint = self._discover()
        return self._endpoint

    def _discover(self) -> str:
        import requests

        url = self.host + DISCOVERY_PATH
        try:
            response = self._session.get(url, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise self._error(f"cannot reach {self.host} to discover the token endpoint ({failure_reason(exc)})",
                              url) from None
        log.debug("%s GET %s -> %s", self.workspace, url, response.status_code)
        endpoint = _json(response).get("token_endpoint") if response.status_code == 200 else None
        if not isinstance(endpoint, str) or not endpoint.strip():
            return self.host + TOKEN_PATH
        endpoint = endpoint.strip()
        if not same_origin(endpoint, self.host):
            raise ConfigurationError(
                f"{self.workspace}: OAuth discovery at {url} names a token endpoint on another host "
                f"({origin(endpoint) or 'an invalid URL'}); refusing to send the client secret of client id "
                f"{self.client_id!r} there")
        return endpoint

    def _fetch(self) -> _Token:
        import requests

        endpoint = self.token_endpoint
        started = time.perf_counter()
        try:
            response = self._session.post(
                endpoint, data={"grant_type": "client_credentials", "scope": "all-apis"},
                auth=(self.client_id, self._client_secret), headers={"Accept": "application/json"},
                timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise self._error(f"cannot reach the token endpoint ({failure_reason(exc)})", endpoint) from None
        self.token_requests += 1
        log.debug("%s POST %s (OAuth M2M, client id %s, secret %s) -> %s in %.3fs", self.workspace, endpoint,
                  self.client_id, MASK, response.status_code, time.perf_counter() - started)
        if 300 <= response.status_code < 400:  # not followed: it would resend the client secret elsewhere
            target = redirect_target(response)
            raise self._error(f"HTTP {response.status_code} redirect to {target or 'no usable Location'}, not "
                              f"followed (the client secret goes only to {origin(endpoint)}); set the workspace's "
                              f"final host in its profile", endpoint, status=response.status_code)
        answer = _json(response)
        if response.status_code != 200:
            raise self._refused(response.status_code, answer, endpoint)
        value, token_type = answer.get("access_token"), answer.get("token_type") or "Bearer"
        if not isinstance(value, str) or not value or not isinstance(token_type, str):
            raise self._error("the token endpoint answered without an access_token", endpoint)
        lifetime = _lifetime(answer.get("expires_in"))
        now = self._clock()
        return _Token(value, "Bearer" if token_type.lower() == "bearer" else token_type,
                      refresh_at=now + lifetime - min(60.0, lifetime / 10))

    def _refused(self, status: int, answer: Mapping[str, Any], endpoint: str) -> Exception:
        """A refused login: a 4xx is the configuration's fault (ConfigurationError), the rest ApiError."""
        error = str(answer.get("error") or answer.get("error_code") or f"HTTP {status}")
        detail = str(answer.get("error_description") or answer.get("message") or "").strip()
        text = f"{error} (HTTP {status})" + (f": {detail}" if detail else "")
        if 400 <= status < 500 and status != 429:
            return ConfigurationError(self._message(
                f"{text}; check the client id and secret ({self.source}) and that the service principal "
                f"belongs to this workspace", endpoint))
        return self._error(text, endpoint, status=status)

    def _error(self, text: str, endpoint: str, status: int | None = None) -> ApiError:
        return ApiError(self._message(text, endpoint), status=status, workspace=self.workspace,
                        method="POST", path=urlsplit(endpoint).path)

    def _message(self, text: str, endpoint: str) -> str:
        message = f"{self.workspace}: OAuth M2M login of client id {self.client_id!r} at {endpoint} failed: {text}"
        message = redact_text(" ".join(message.split()))
        return message.replace(self._client_secret, MASK) if self._client_secret else message


class SdkCredentials:
    """A profile `auth_type` the official Databricks SDK handles (azure-cli, U2M login cache...), if installed."""

    def __init__(self, credentials: Credentials, host: str) -> None:
        self.source = credentials.source
        self._what = f"{credentials.source} uses auth_type = {credentials.auth_type}"
        try:
            from databricks.sdk.core import Config
        except ImportError:
            raise ConfigurationError(f"{self._what}, which needs the Databricks SDK: pip install "
                                     f"'sqlprovider[databricks-sdk]', or use token or client_id/client_secret"
                                     ) from None
        try:
            self._config = Config(profile=credentials.profile, config_file=str(credentials.config_file))
        except Exception as exc:  # the SDK raises ValueError and others; each means "not usable"
            raise ConfigurationError(f"{self._what}, which the Databricks SDK cannot set up: "
                                     f"{_first_line(exc)}") from None
        if not same_origin(self._config.host or "", host):
            raise ConfigurationError(f"{self._what}, but the SDK resolved host {self._config.host!r}, not the "
                                     f"profile's {host}; credentials go only to the profile's host "
                                     f"(check DATABRICKS_HOST)")

    def __call__(self) -> Mapping[str, str]:
        try:
            return self._config.authenticate()
        except Exception as exc:
            raise ConfigurationError(f"{self._what}; the Databricks SDK could not authenticate: "
                                     f"{_first_line(exc)}") from None

    def __repr__(self) -> str:
        return f"SdkCredentials(from {self.source})"


def _session() -> requests.Session:
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = "sqlprovider/0.1"
    session.auth = _as_is  # no credential unless a request gives one: requests would otherwise add ~/.netrc's
    return session


def _as_is(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _lifetime(expires_in: Any) -> float:
    """Seconds a token lives; an absent or odd expires_in counts as one hour, as OAuth servers default."""
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return 3600.0
    return seconds if seconds > 0 else 3600.0


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return redact_text(lines[0]) if lines else type(exc).__name__
