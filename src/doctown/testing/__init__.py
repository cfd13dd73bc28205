"""Test doubles shipped with doctown, for its own tests and for users testing integrations."""

from doctown.testing.fake_batches import FakeBatches
from doctown.testing.fake_openai import FakeOpenAIServer
from doctown.testing.function_backend import FunctionBackend
from doctown.testing.redis_server import RedisServer
from doctown.testing.replies import (
    FormatRefusal,
    Reply,
    bad_request,
    default_summary,
    insufficient_quota,
    llama_cpp_python_refusal,
    lm_studio_refusal,
    malformed,
    ok,
    ollama_refusal,
    rate_limited,
    refusal,
    server_error,
    stall,
    status_error,
    text,
    truncated,
    vllm_refusal,
)
from doctown.testing.threaded_server import ThreadedServer

__all__ = [
    "FakeBatches",
    "FakeOpenAIServer",
    "FormatRefusal",
    "FunctionBackend",
    "RedisServer",
    "Reply",
    "ThreadedServer",
    "bad_request",
    "default_summary",
    "insufficient_quota",
    "llama_cpp_python_refusal",
    "lm_studio_refusal",
    "malformed",
    "ok",
    "ollama_refusal",
    "rate_limited",
    "refusal",
    "server_error",
    "stall",
    "status_error",
    "text",
    "truncated",
    "vllm_refusal",
]
