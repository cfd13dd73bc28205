"""Configured secrets are redacted by value, whatever their shape, in text and in logs."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest

from doctown.redaction import add_secret, redact, redact_logs


def test_a_registered_secret_is_redacted_in_every_form_it_travels_in() -> None:
    secret = 'gw/live"7f3a9c2e1b'
    add_secret(secret)
    in_url = "https://x/?k=" + quote(secret, safe="")
    for text in (secret, json.dumps({"key": secret}), in_url):
        assert "7f3a9c2e1b" not in redact(f"upstream said: {text}")
    assert redact("Bearer abcdef123 and sk-proj-123456") == "Bearer *** and sk-***"
    add_secret("abc")  # too short to replace everywhere
    assert redact("abc") == "abc"


def test_log_records_are_redacted_with_their_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    add_secret("tok-9d8c7b6a5f")
    redact_logs()
    logger = logging.getLogger("doctown.test")
    with caplog.at_level(logging.INFO, logger="doctown.test"):
        logger.info("calling with %s", "tok-9d8c7b6a5f")
        try:
            raise RuntimeError("refused tok-9d8c7b6a5f")
        except RuntimeError:
            logger.exception("failed")
    assert "tok-9d8c7b6a5f" not in caplog.text and "refused ***" in caplog.text
