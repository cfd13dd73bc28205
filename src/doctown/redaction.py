"""Keeping configured secrets out of everything doctown shows, logs or writes.

Upstream servers sometimes echo the key they were sent in their error messages, and those
messages travel on: into failure reasons, `/health`, events, packs and logs. The keys doctown
is configured with (OPENAI_API_KEY, WORKER_API_KEY) are registered here as they are read,
and `redact` replaces their literal values, whatever their shape, as well as anything that
looks like an OpenAI key or a bearer token (a second line of defence for keys doctown was
never given). Log records are redacted as they are made, once `redact_logs` has run.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any
from urllib.parse import quote

REDACTED = "***"
# Shorter values are too likely to occur in ordinary text to be replaced everywhere.
MIN_SECRET_CHARS = 6
_KEY_PATTERN = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9_\-*.]{3,}")
_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def add_secret(value: str | None) -> None:
    """Redact `value` from now on, as written and as it appears in JSON and URLs."""
    global _secrets
    if value is None or len(value) < MIN_SECRET_CHARS:
        return
    forms = {value, json.dumps(value)[1:-1], quote(value, safe="")}
    with _lock:
        # Longest first, so a secret that contains another is replaced whole.
        _secrets = tuple(sorted(set(_secrets) | forms, key=len, reverse=True))


def redact(text: str) -> str:
    """`text` without any registered secret, nor anything shaped like an API key."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_PATTERN.sub(rf"\1{REDACTED}", text)


class _RedactedRecord(logging.LogRecord):
    """A log record whose message and traceback text have every secret taken out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.exc_info and self.exc_info[0] is not None:
            self.exc_text = redact(logging.Formatter().formatException(self.exc_info))

    def getMessage(self) -> str:
        return redact(super().getMessage())


def redact_logs() -> None:
    """Make every log record of this process redact secrets (idempotent)."""
    logging.setLogRecordFactory(_RedactedRecord)
