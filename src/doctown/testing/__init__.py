"""Test doubles shipped with doctown, for its own tests and for users testing integrations."""

from doctown.testing.fake_openai import (
    FakeOpenAIServer,
    Reply,
    bad_request,
    default_summary,
    insufficient_quota,
    malformed,
    ok,
    rate_limited,
    refusal,
    server_error,
    stall,
    status_error,
    truncated,
)
from doctown.testing.redis_server import RedisServer
from doctown.testing.threaded_server import ThreadedServer

__all__ = [
    "FakeOpenAIServer",
    "RedisServer",
    "Reply",
    "ThreadedServer",
    "bad_request",
    "default_summary",
    "insufficient_quota",
    "malformed",
    "ok",
    "rate_limited",
    "refusal",
    "server_error",
    "stall",
    "status_error",
    "truncated",
]
