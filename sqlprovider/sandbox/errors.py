"""The one exception the sandbox's API code raises: an HTTP answer in Databricks' error format."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: HTTP status plus the JSON body Databricks would send.

    `error_code` is usually a string (`INVALID_PARAMETER_VALUE`); the auth failures carry a number
    (401, 403) because that is what Databricks sends.
    """

    def __init__(self, status: int, error_code: str | int, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return {"error_code": self.error_code, "message": self.message}


def invalid(message: str) -> ApiError:
    """400 INVALID_PARAMETER_VALUE: a well-formed request asked for something impossible."""
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def malformed(message: str) -> ApiError:
    """400 MALFORMED_REQUEST: the body is not JSON, or a field has the wrong JSON type."""
    return ApiError(400, "MALFORMED_REQUEST", message)


def not_found(webhook_id: str) -> ApiError:
    """404 RESOURCE_DOES_NOT_EXIST for an unknown webhook id."""
    shown = webhook_id if len(webhook_id) <= 100 else webhook_id[:100] + "..."
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Webhook with id '{shown}' does not exist.")


def endpoint_not_found(method: str, path: str) -> ApiError:
    """404 ENDPOINT_NOT_FOUND; like Databricks, the message drops the `/api/2.x` prefix."""
    for prefix in ("/api/2.0/", "/api/2.1/", "/api/2.2/"):
        if path.startswith(prefix):
            path = path[len(prefix) - 1:]
            break
    return ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
