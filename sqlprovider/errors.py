"""The project's error types: the PEP 249 hierarchy plus the specific kinds users see.

Every error carries a one-line message that names the problem and the fix; the front ends print
`str(error)` and never a traceback.
"""

from __future__ import annotations


class Warning(Exception):  # noqa: A001 - PEP 249 name
    """Important warnings (PEP 249)."""


class Error(Exception):
    """Base of every error sqlprovider raises (PEP 249).

    Its message is masked like every other text shown (redact.redact_text): an error that quotes the
    user's SQL, or an answer that echoed a request, never shows a secret value.
    """

    def __init__(self, message: object = "", *args: object) -> None:
        from sqlprovider.redact import redact_text

        super().__init__(redact_text(str(message)), *args)


class InterfaceError(Error):
    """Misuse of the library interface itself (PEP 249)."""


class DatabaseError(Error):
    """Errors about the data or the remote workspace (PEP 249)."""


class DataError(DatabaseError):
    """A value cannot be used: bad JSON, unknown event, wrong type (PEP 249)."""


class OperationalError(DatabaseError):
    """The workspace could not be reached or refused the request (PEP 249)."""


class IntegrityError(DatabaseError):
    """A write would break a rule of the API (PEP 249)."""


class InternalError(DatabaseError):
    """sqlprovider itself got into a state it should not (PEP 249)."""


class ProgrammingError(DatabaseError):
    """The statement is wrong: syntax, missing parameter, unknown method (PEP 249)."""


class NotSupportedError(DatabaseError):
    """The statement asks for something the API cannot do (PEP 249)."""


class StatementError(ProgrammingError):
    """A statement could not be parsed or is missing something it needs."""


class TemplateError(ProgrammingError):
    """A `{{ placeholder }}` was left unfilled or malformed."""


class ValidationError(DataError):
    """A value was refused before any request was made."""


class GuardRailError(OperationalError):
    """A write was refused before anything was sent: over the max_affected cap, or not confirmed."""


class ConfigurationError(InterfaceError):
    """A deployment, profile or credential is missing or unsafe."""


class ApiError(OperationalError):
    """The workspace answered with an error.

    `error_code` is a string such as RESOURCE_DOES_NOT_EXIST, or an int: Databricks answers auth
    failures with a numeric code.
    """

    def __init__(self, message: str, *, status: int | None = None, error_code: str | int | None = None,
                 workspace: str | None = None, method: str | None = None, path: str | None = None,
                 outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown  # the request may have been applied
        self.status = status
        self.error_code = error_code
        self.workspace = workspace
        self.method = method
        self.path = path


class PartialWriteError(OperationalError):
    """A multi-row write failed part-way; `applied` lists what reached the workspace."""

    def __init__(self, message: str, *, applied: list[dict] | None = None) -> None:
        super().__init__(message)
        self.applied = applied or []
