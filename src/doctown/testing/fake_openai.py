"""A fake OpenAI-compatible server on a real socket, for tests and benchmarks.

It speaks the Chat Completions and Models routes well enough for the official `openai` client:
structured output, usage with cached and reasoning tokens, and every fault a real deployment
shows (429 with Retry-After, 5xx, insufficient_quota, 400, 401, 404 for unknown models,
refusals, `length` truncation, malformed JSON, stalls). Replies are scripted in order with
`script(...)` or by rule with `on(...)`; anything unscripted gets a plausible summary.

    with FakeOpenAIServer(latency=0.05) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="test")
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from doctown.models import is_reasoning_model
from doctown.testing.threaded_server import ThreadedServer
from doctown.tokens import TokenCounter


@dataclass(frozen=True)
class Reply:
    """What the server does with one chat request."""

    kind: str = "ok"
    summary: str | None = None
    status: int = 200
    code: str | None = None
    error_type: str | None = None
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content: str | None = None


def ok(summary: str | None = None) -> Reply:
    return Reply(summary=summary)


def rate_limited(retry_after: float | None = None, retry_after_ms: float | None = None) -> Reply:
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return Reply(
        "error",
        status=429,
        code="rate_limit_exceeded",
        error_type="requests",
        message="Rate limit reached for requests",
        headers=headers,
    )


def server_error(status: int = 500) -> Reply:
    return Reply(
        "error", status=status, error_type="server_error", message="The server had an error"
    )


def insufficient_quota() -> Reply:
    return Reply(
        "error",
        status=429,
        code="insufficient_quota",
        error_type="insufficient_quota",
        message="You exceeded your current quota, please check your plan and billing details.",
    )


def bad_request(message: str = "Invalid request") -> Reply:
    return Reply(
        "error",
        status=400,
        code="invalid_request",
        error_type="invalid_request_error",
        message=message,
    )


def status_error(status: int, message: str = "error", code: str | None = None) -> Reply:
    return Reply(
        "error", status=status, code=code, error_type="invalid_request_error", message=message
    )


def refusal(text: str = "I'm sorry, I can't help with that.") -> Reply:
    return Reply("refusal", message=text)


def truncated() -> Reply:
    return Reply("length")


def malformed(content: str = '{"summary": "unterminated') -> Reply:
    return Reply("malformed", content=content)


def stall(seconds: float) -> Reply:
    """Answer normally, but only after `seconds` (longer than the client's timeout: a timeout)."""
    return Reply(delay=seconds)


_SYMBOL_LINE = re.compile(r"^Symbol: (.+)$", re.MULTILINE)
_KIND_LINE = re.compile(r"^Kind: (.+)$", re.MULTILINE)


def default_summary(user_message: str) -> str:
    """A deterministic summary naming the symbol the prompt is about."""
    name = _SYMBOL_LINE.search(user_message)
    kind = _KIND_LINE.search(user_message)
    return (
        f"Documents the {kind.group(1) if kind else 'symbol'} "
        f"{name.group(1) if name else 'unknown'}."
    )


class FakeOpenAIServer:
    """A scriptable OpenAI-compatible HTTP server running in a background thread."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        api_key: str | None = None,
        reasoning_tokens: int = 0,
        cached_tokens: int = 0,
        unknown_models: set[str] | None = None,
        request_log: str | Path | None = None,
        port: int = 0,
    ) -> None:
        self.latency = latency
        self.api_key = api_key
        self.reasoning_tokens = reasoning_tokens
        self.cached_tokens = cached_tokens
        self.unknown_models = set(unknown_models or ())
        self.request_log = Path(request_log) if request_log else None
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._port = port
        self._queue: deque[Reply] = deque()
        self._rules: list[tuple[Callable[[str], bool], Reply, list[int]]] = []
        self._lock = threading.Lock()
        self._counter = TokenCounter("gpt-5")
        self._server: ThreadedServer | None = None
        self.base_url = ""

    # Scripting -----------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """The next chat requests get these replies, in order."""
        with self._lock:
            self._queue.extend(replies)

    def on(
        self, match: str | Callable[[str], bool], reply: Reply, *, times: int | None = None
    ) -> None:
        """Requests whose user message matches (substring or predicate) get `reply`."""
        predicate = (lambda text: match in text) if isinstance(match, str) else match
        with self._lock:
            self._rules.append((predicate, reply, [times if times is not None else -1]))

    def chat_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._queue.clear()
            self._rules.clear()
            self.peak_in_flight = 0

    def _next_reply(self, user_message: str) -> Reply:
        with self._lock:
            for predicate, reply, remaining in self._rules:
                if remaining[0] != 0 and predicate(user_message):
                    remaining[0] -= 1
                    return reply
            if self._queue:
                return self._queue.popleft()
        return ok()

    # Routes --------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> Response | None:
        if self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}":
            return None
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        masked = presented[:3] + "*" * 8 + presented[-4:] if len(presented) > 8 else "***"
        return _error(
            401,
            f"Incorrect API key provided: {masked}.",
            "invalid_request_error",
            "invalid_api_key",
        )

    def _log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)
            if self.request_log:
                with self.request_log.open("a", encoding="utf-8") as stream:
                    stream.write(json.dumps(entry) + "\n")

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self._log({"path": request.url.path, "time": time.time(), "body": body})
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            denied = self._authorized(request)
            if denied:
                return denied
            return await self._answer(body)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _answer(self, body: dict[str, Any]) -> Response:
        model = str(body.get("model", ""))
        if model in self.unknown_models:
            return _error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        problem = _parameter_problem(model, body)
        if problem:
            return _error(400, problem, "invalid_request_error", "unsupported_parameter")
        messages = body.get("messages", [])
        user = next(
            (m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), ""
        )
        reply = self._next_reply(str(user))
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.kind == "error":
            return _error(reply.status, reply.message, reply.error_type, reply.code, reply.headers)
        prompt_tokens = self._counter.count_messages(
            [
                {"role": str(m.get("role", "")), "content": str(m.get("content", ""))}
                for m in messages
            ]
        )
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        finish = "stop"
        if reply.kind == "refusal":
            message["refusal"] = reply.message
        elif reply.kind == "length":
            message["content"] = '{"summary": "Reads the'
            finish = "length"
        elif reply.kind == "malformed":
            message["content"] = reply.content
        else:
            message["content"] = json.dumps(
                {"summary": reply.summary or default_summary(str(user))}
            )
        reasoning = self.reasoning_tokens if is_reasoning_model(model) else 0
        completion_tokens = (
            self._counter.count(message["content"] or message["refusal"] or "") + reasoning
        )
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {
                        "cached_tokens": min(self.cached_tokens, prompt_tokens)
                    },
                    "completion_tokens_details": {"reasoning_tokens": reasoning},
                },
            }
        )

    async def _model(self, request: Request) -> Response:
        self._log({"path": request.url.path, "time": time.time(), "body": None})
        denied = self._authorized(request)
        if denied:
            return denied
        model = request.path_params["model"]
        if model in self.unknown_models:
            return _error(
                404,
                f"The model '{model}' does not exist",
                "invalid_request_error",
                "model_not_found",
            )
        return JSONResponse(
            {"id": model, "object": "model", "created": 0, "owned_by": "doctown-fake"}
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models/{model:path}", self._model, methods=["GET"]),
            ]
        )

    # Lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        self._server = ThreadedServer(self.app(), port=self._port, lifespan="off").start()
        self.base_url = f"{self._server.url}/v1"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parameter_problem(model: str, body: dict[str, Any]) -> str | None:
    """Reject what OpenAI rejects for reasoning models, with OpenAI's wording."""
    if not is_reasoning_model(model):
        return None
    if "max_tokens" in body:
        return (
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead."
        )
    for knob in ("temperature", "top_p"):
        if knob in body and body[knob] != 1:
            return f"Unsupported value: '{knob}' does not support {body[knob]} with this model."
    return None


def _error(
    status: int,
    message: str,
    error_type: str | None,
    code: str | None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    payload = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return JSONResponse(payload, status_code=status, headers=headers or {})
