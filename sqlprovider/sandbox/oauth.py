"""OAuth machine-to-machine login as a Databricks workspace serves it, for the unmodified SDK.

The SDK GETs `/.well-known/databricks-config` (its `oidc_endpoint` gives the discovery URL), then
`/oidc/.well-known/oauth-authorization-server` (for `token_endpoint`), then POSTs
`grant_type=client_credentials&scope=all-apis` to `/oidc/v1/token` with the client id and secret as
HTTP Basic auth (form fields `client_id`/`client_secret` are accepted too). Issued tokens live in
memory for `ttl` seconds. These endpoints need no bearer token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from sqlprovider.sandbox.errors import ApiError


def databricks_config(base_url: str, workspace_id: str) -> dict[str, Any]:
    """GET /.well-known/databricks-config: where the workspace's OIDC endpoints live."""
    return {"oidc_endpoint": f"{base_url}/oidc", "workspace_id": workspace_id}


def authorization_server(base_url: str) -> dict[str, Any]:
    """GET /oidc/.well-known/oauth-authorization-server: RFC 8414 metadata."""
    oidc = f"{base_url}/oidc"
    return {
        "issuer": oidc,
        "authorization_endpoint": f"{oidc}/v1/authorize",
        "token_endpoint": f"{oidc}/v1/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["code"],
        "scopes_supported": ["all-apis"],
    }


class OAuthError(ApiError):
    """An OAuth error answer: `{"error": ..., "error_description": ...}` (RFC 6749 section 5.2)."""

    def body(self) -> dict[str, Any]:
        return {"error": self.error_code, "error_description": self.message}


class TokenIssuer:
    """The client-credentials grant for one service principal, and the tokens it issued."""

    def __init__(self, client_id: str | None, client_secret: str | None, ttl: int = 3600) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.ttl = ttl
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry

    @property
    def enabled(self) -> bool:
        return bool(self._client_id and self._client_secret)

    def is_valid(self, token: str) -> bool:
        """True while `token` is one we issued and has not expired."""
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and time.monotonic() < expiry

    def token_endpoint(self, authorization: str | None, form_body: bytes) -> dict[str, Any]:
        """POST /oidc/v1/token: check the client, then issue a bearer token."""
        try:
            form = dict(parse_qsl(form_body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise OAuthError(400, "invalid_request", "The request body is not form-encoded UTF-8.") from None
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError(400, "invalid_request", "Missing grant_type.")
        if grant != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.")
        client_id, client_secret = self._client_credentials(authorization, form)
        if not (self.enabled and client_id is not None and client_secret is not None
                and hmac.compare_digest(client_id.encode(), (self._client_id or "").encode())
                and hmac.compare_digest(client_secret.encode(), (self._client_secret or "").encode())):
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._tokens = {t: e for t, e in self._tokens.items() if e > now}
            self._tokens[token] = now + self.ttl
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.ttl), "scope": "all-apis"}

    @staticmethod
    def _client_credentials(authorization: str | None,
                            form: dict[str, str]) -> tuple[str | None, str | None]:
        """Client id and secret from HTTP Basic auth, else from the form."""
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    return None, None
                client_id, sep, client_secret = decoded.partition(":")
                return (client_id, client_secret) if sep else (None, None)
        return form.get("client_id"), form.get("client_secret")
