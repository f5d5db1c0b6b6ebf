"""Queued writes and how they are sent.

The virtual table does not call the API while SQLite runs an INSERT/UPDATE/DELETE: it
validates each row and queues a `WriteOp`. When SQLite commits (`Sync`), `send_writes` sends
them, several at once, and returns the answers in statement order. So a bad row anywhere in a
statement stops it before any request, ROLLBACK of an explicit transaction sends nothing, and
a failure part-way names exactly which rows reached the workspace.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlprovider.workspace.client import Workspace
from sqlprovider.errors import ApiError, Error, InternalError, PartialWriteError
from sqlprovider.redact import redact

SQL_VERB = {"create": "INSERT", "update": "UPDATE", "delete": "DELETE"}


@dataclass
class WriteOp:
    """One API call a statement asked for, with what is known of the row before it."""

    verb: str  # create | update | delete
    deployment: str
    http_method: str
    path: str
    query: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    response_key: str | None = None
    before: dict[str, Any] = field(default_factory=dict)  # the API object before the write (delete RETURNING)
    key: str | None = None


@dataclass
class WriteResult:
    op: WriteOp
    item: dict[str, Any] | None = None  # the API's object (create/update) or the row deleted
    error: Error | None = None
    attempted: bool = False


def send_writes(ops: Sequence[WriteOp], workspace: Callable[[str], Workspace], key: str,
                max_workers: int = 8) -> list[WriteResult]:
    """Send every op, at most `max_workers` at once, stopping new sends after the first failure.

    Returns the results in op order, or raises PartialWriteError naming what was applied, also when
    interrupted (Ctrl-C): no new request starts, the ones in flight finish, and the error says which rows
    reached the workspace.
    """
    results = [WriteResult(op) for op in ops]
    failed = threading.Event()

    def send(result: WriteResult) -> None:
        if failed.is_set():
            return
        result.attempted = True
        op = result.op
        try:
            answer = workspace(op.deployment).request(op.http_method, op.path, query=op.query, body=op.body)
        except Error as exc:
            result.error = exc
            failed.set()
            return
        except Exception as exc:  # a bug below: still one line, and the request may have been applied
            result.error = InternalError(f"{op.deployment}: {op.http_method} {op.path} failed unexpectedly "
                                         f"({type(exc).__name__}: {exc}); it may have been applied")
            result.error.outcome_unknown = True  # type: ignore[attr-defined]
            failed.set()
            return
        if op.verb == "delete":
            result.item = dict(op.before)
        elif not answer and workspace(op.deployment).options.dry_run:
            result.item = redact({**op.before, **(op.body or {})})  # not sent: what would have been asked
        else:
            obj = answer.get(op.response_key) if op.response_key else answer
            if not isinstance(obj, dict):
                result.error = ApiError(f"{op.deployment}: {op.http_method} {op.path} answered without "
                                        f"{op.response_key!r}; the write may have been applied",
                                        workspace=op.deployment)
                failed.set()
                return
            result.item = obj

    try:
        if len(ops) == 1 or max_workers <= 1 or _repeats_a_key(ops):
            for result in results:  # in order: a later write to the same object must land after an earlier one
                send(result)
        else:
            with ThreadPoolExecutor(max_workers=min(max_workers, len(ops)),
                                    thread_name_prefix="sqlprovider-write") as pool:
                try:
                    list(pool.map(send, results))
                except KeyboardInterrupt:
                    failed.set()  # queued sends return at once; leaving the block waits for those in flight
                    raise
    except KeyboardInterrupt:
        failed.set()
        raise PartialWriteError(_summary(results, key, interrupted=True),
                                applied=[r.item for r in results if r.item is not None]) from None
    if failed.is_set():
        if len(results) == 1:
            raise results[0].error
        raise PartialWriteError(_summary(results, key), applied=[r.item for r in results if r.item is not None])
    return results


def _repeats_a_key(ops: Sequence[WriteOp]) -> bool:
    """Whether two ops write the same object (a transaction updating then deleting one webhook)."""
    keys = [(op.deployment, op.key) for op in ops if op.key is not None]
    return len(keys) != len(set(keys))


def _summary(results: Sequence[WriteResult], key: str, interrupted: bool = False) -> str:
    verbs = {SQL_VERB.get(r.op.verb, "write") for r in results}
    verb = verbs.pop() if len(verbs) == 1 else "COMMIT"  # a transaction's writes of several kinds
    total = len(results)
    applied = [(i, r) for i, r in enumerate(results, 1) if r.item is not None]
    errors = [(i, r) for i, r in enumerate(results, 1) if r.error is not None]
    skipped = sum(1 for r in results if not r.attempted)
    unknown = [i for i, r in errors if getattr(r.error, "outcome_unknown", False)]
    if interrupted:  # a request cut off in flight has no answer: it may have been applied
        text = f"{verb} interrupted (Ctrl-C); no further rows were sent"
        unknown += [i for i, r in enumerate(results, 1) if r.attempted and r.item is None and r.error is None]
    else:
        first_row, first = errors[0]
        text = f"{verb} failed at row {first_row} of {total}: {first.error}"
    if total > 1 or applied or interrupted:
        ids = ", ".join(f"row {i}: {r.item.get(key) or r.op.key}" for i, r in applied) or "none"
        text += f" | {len(applied)} of {total} rows were applied ({ids})"
        if len(errors) > 1:
            text += f"; {len(errors)} rows failed (rows {', '.join(str(i) for i, _ in errors)})"
        if unknown:
            text += f"; outcome unknown for rows {', '.join(map(str, unknown))} (check before retrying)"
        if skipped:
            text += f"; {skipped} not attempted"
        if applied:
            text += "; applied changes are not rolled back"
    return text
