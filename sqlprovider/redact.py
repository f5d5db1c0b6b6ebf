"""Keep secrets out of everything shown: output, errors, logs, dry-run listings and history."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
#: Keys whose values are credentials, wherever they appear in a request or a config.
SECRET_KEYS = frozenset({"secret", "authorization", "access_token", "token", "client_secret", "password",
                         "refresh_token", "id_token"})

_ASSIGNMENT = re.compile(
    r"""(?ix)
    (["']?(?:secret|authorization|access_token|token|client_secret|password)["']?\s*[:=]\s*)  # key and : or =
    (?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s,;)}]+)                                      # the value
    """)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-keyed value masked."""
    if isinstance(value, Mapping):
        return {k: (MASK if str(k).lower() in SECRET_KEYS and v not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_text(text: str) -> str:
    """Mask `secret = '...'`, `"token": "..."`, `Bearer ...` and the like in free text (SQL, log lines)."""
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    return _ASSIGNMENT.sub(lambda m: m.group(1) + _quoted_mask(m.group(0)[len(m.group(1)):]), text)


def _quoted_mask(value: str) -> str:
    return f"{value[0]}{MASK}{value[0]}" if value[:1] in ("'", '"') else MASK
