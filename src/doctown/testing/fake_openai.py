"""A fake OpenAI-compatible server on a real socket, for tests and benchmarks.

It speaks the Chat Completions, Models, Files and Batches routes the way OpenAI does:
structured output (one summary, or several symbols' summaries by number), usage with cached
and reasoning tokens, and every fault a real deployment
shows (429 with Retry-After, 5xx, insufficient_quota, 400, 401, 404 for unknown models,
refusals, `length` truncation, malformed JSON, stalls, response formats refused the way
vLLM, llama-cpp-python, LM Studio and Ollama refuse them, and batches that complete, fail or
expire). Replies are scripted in order with `script(...)` or by rule with `on(...)`; anything
unscripted gets a plausible summary. A request about several symbols is answered symbol by
symbol by the same scripts and rules, each matched against that symbol's own text; the first
reply that is not a summary (an error, a refusal...) becomes the whole request's answer. Every
answer arrives `latency` seconds after its request.

    with FakeOpenAIServer(latency=0.05) as server:
        ...  # OPENAI_BASE_URL=server.base_url
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from doctown.model_catalog import is_reasoning_model
from doctown.testing.fake_batches import Answer, FakeBatches
from doctown.testing.replies import (
    FormatRefusal,
    Reply,
    default_summary,
    group_items,
    ok,
    structured_answer,
)
from doctown.testing.threaded_server import ThreadedServer
from doctown.tokens import TokenCounter

_SYMBOL_LINE = re.compile(r"^Symbol: (.+)$", re.MULTILINE)
# The chat format's overhead, as OpenAI documents it (as in doctown.tokens).
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_REPLY = 3


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
        refused_formats: dict[str, FormatRefusal] | None = None,
        model_route: bool = True,
        batch_seconds: float = 0.0,
    ) -> None:
        self.latency = latency
        self.api_key = api_key
        self.reasoning_tokens = reasoning_tokens
        self.cached_tokens = cached_tokens
        self.unknown_models = set(unknown_models or ())
        self.request_log = Path(request_log) if request_log else None
        # response_format type -> how it is refused (see doctown.testing.replies).
        self.refused_formats = dict(refused_formats or {})
        # False: no GET /v1/models/{id}, only the list (llama.cpp's servers).
        self.model_route = model_route
        self.batches = FakeBatches(self.answer, batch_seconds=batch_seconds)
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._port = port
        self._queue: deque[Reply] = deque()
        self._rules: list[tuple[Callable[[str], bool], Reply, list[int]]] = []
        self._lock = threading.Lock()
        # Prompts repeat their system message: its count is computed once.
        self._count = functools.lru_cache(maxsize=4_096)(TokenCounter("gpt-5").count)
        self._server: ThreadedServer | None = None
        self.base_url = ""

    # Scripting -----------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """The next chat requests (and batch lines) get these replies, in order."""
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

    def overview_requests(self) -> list[dict[str, Any]]:
        """Chat requests that asked for a module, cluster, repository or group overview."""
        return [r for r in self.chat_requests() if _asks_overview(r["body"])]

    def summary_requests(self) -> list[dict[str, Any]]:
        """Chat requests that asked for symbol summaries (not overviews): one symbol's, or
        several symbols' of a file at once."""
        return [r for r in self.chat_requests() if not _asks_overview(r["body"])]

    def symbols_asked(self) -> list[str]:
        """The name of every symbol the summary requests asked about, in order: one per
        request, or several for a request about several symbols of a file."""
        names = []
        for request in self.summary_requests():
            messages = request["body"].get("messages", [])
            user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
            names.extend(_SYMBOL_LINE.findall(str(user)))
        return names

    def requests_to(self, path: str, method: str = "POST") -> list[dict[str, Any]]:
        """Logged requests to `path` (e.g. "/v1/batches") with `method`."""
        with self._lock:
            return [r for r in self.requests if r["path"] == path and r["method"] == method]

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

    def _denied(self, request: Request) -> Response | None:
        if self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}":
            return None
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        masked = presented[:3] + "*" * 8 + presented[-4:] if len(presented) > 8 else "***"
        return _response(
            *_error_body(
                401,
                f"Incorrect API key provided: {masked}.",
                "invalid_request_error",
                "invalid_api_key",
            )[:3]
        )

    def _log(self, request: Request, body: Any) -> None:
        entry = {
            "path": request.url.path,
            "method": request.method,
            "time": time.time(),
            "body": body,
        }
        with self._lock:
            self.requests.append(entry)
            if self.request_log:
                with self.request_log.open("a", encoding="utf-8") as stream:
                    stream.write(json.dumps(entry) + "\n")

    async def _chat(self, request: Request) -> Response:
        # The answer is ready at arrival + latency (+ a scripted delay), however long it took
        # to compute: `latency` is the server's latency, not an addition to its own work.
        loop = asyncio.get_running_loop()
        due = loop.time() + self.latency
        body = json.loads(await request.body())
        self._log(request, body)
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            denied = self._denied(request)
            status, payload, headers, delay = (0, {}, {}, 0.0) if denied else self.answer(body)
            await asyncio.sleep(max(0.0, due + delay - loop.time()))
            return denied or _response(status, payload, headers)
        finally:
            with self._lock:
                self.in_flight -= 1

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str], float]:
        """Status, JSON body, headers and extra delay of the answer to one chat request body.

        Chat requests and the lines of a batch are answered by the same rules and scripts.
        """
        model = str(body.get("model", ""))
        if model in self.unknown_models:
            return _error_body(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        problem = _parameter_problem(model, body)
        if problem:
            return _error_body(400, problem, "invalid_request_error", "unsupported_parameter")
        refused = self._format_refusal(body.get("response_format"))
        if refused is not None:
            return refused
        messages = body.get("messages", [])
        user = next(
            (m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), ""
        )
        overview = _asks_overview(body)
        reply, answer = self._replies(str(user), overview=overview)
        if reply.kind == "error":
            status, payload, headers, _ = _error_body(
                reply.status, reply.message, reply.error_type, reply.code, reply.headers
            )
            return status, payload, headers, reply.delay
        prompt_tokens = self._count_messages(messages)
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        finish = "stop"
        if reply.kind == "refusal":
            message["refusal"] = reply.message
        elif reply.kind == "length":
            message["content"] = '{"summary": "Reads the'
            finish = "length"
        elif reply.kind in ("malformed", "text"):
            message["content"] = reply.content
        elif _asks_for_overview(body.get("response_format")):
            schema = body["response_format"].get("json_schema", {}).get("schema") or body[
                "response_format"
            ].get("schema")
            message["content"] = structured_answer(schema, str(user), reply.summary)
        else:
            message["content"] = json.dumps(answer)
        reasoning = self.reasoning_tokens if is_reasoning_model(model) else 0
        completion_tokens = self._count(message["content"] or message["refusal"] or "") + reasoning
        payload = {
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
                "prompt_tokens_details": {"cached_tokens": min(self.cached_tokens, prompt_tokens)},
                "completion_tokens_details": {"reasoning_tokens": reasoning},
            },
        }
        return 200, payload, {}, reply.delay

    def _replies(self, user: str, *, overview: bool) -> tuple[Reply, dict[str, str]]:
        """The reply to a request, and the JSON answer if it is answered with summaries (an
        overview prompt is never a group, whatever its text holds)."""
        items = [] if overview else group_items(user)
        if not items:
            reply = self._next_reply(user)
            return reply, {"summary": reply.summary or default_summary(user)}
        replies = [self._next_reply(item) for _, item in items]
        failing = next((reply for reply in replies if reply.kind != "ok"), None)
        delay = max(reply.delay for reply in replies)
        answer = {
            number: reply.summary or default_summary(item)
            for (number, item), reply in zip(items, replies, strict=True)
        }
        return failing or Reply(delay=delay), answer

    def _count_messages(self, messages: list[dict[str, Any]]) -> int:
        return _TOKENS_PER_REPLY + sum(
            _TOKENS_PER_MESSAGE
            + self._count(str(m.get("role", "")))
            + self._count(str(m.get("content", "")))
            for m in messages
        )

    def _format_refusal(self, response_format: Any) -> Answer | None:
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        refusal = self.refused_formats.get(str(kind)) if kind else None
        if refusal is None:
            return None
        return refusal.status, refusal.body, {}, 0.0

    async def _model(self, request: Request) -> Response:
        self._log(request, None)
        denied = self._denied(request)
        if denied:
            return denied
        model = request.path_params["model"]
        if not self.model_route:
            return _response(404, {"detail": "Not Found"})
        if model in self.unknown_models:
            return _response(
                *_error_body(
                    404,
                    f"The model '{model}' does not exist",
                    "invalid_request_error",
                    "model_not_found",
                )[:3]
            )
        return _response(200, {"id": model, "object": "model", "created": 0, "owned_by": "fake"})

    async def _models(self, request: Request) -> Response:
        self._log(request, None)
        denied = self._denied(request)
        if denied:
            return denied
        data = [{"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}]
        return _response(200, {"object": "list", "data": data})

    def _guarded(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        """A Files or Batches route: logged, and behind the API key like the rest."""

        async def route(request: Request) -> Response:
            self._log(request, None)
            denied = self._denied(request)
            if denied:
                return denied
            response: Response = await handler(request)
            return response

        return route

    def app(self) -> Starlette:
        batches = self.batches
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/models/{model:path}", self._model, methods=["GET"]),
                Route("/v1/files", self._guarded(batches.upload), methods=["POST"]),
                Route("/v1/files/{file_id}", self._guarded(batches.file), methods=["GET"]),
                Route(
                    "/v1/files/{file_id}/content",
                    self._guarded(batches.content),
                    methods=["GET"],
                ),
                Route("/v1/batches", self._guarded(batches.create), methods=["POST"]),
                Route("/v1/batches", self._guarded(batches.listing), methods=["GET"]),
                Route("/v1/batches/{batch_id}", self._guarded(batches.retrieve), methods=["GET"]),
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


def _asks_for_overview(response_format: Any) -> bool:
    """A response_format whose schema is not the symbol summary's nor a group's (an
    overview's)."""
    if not isinstance(response_format, dict):
        return False
    schema = (response_format.get("json_schema") or {}).get("schema") or response_format.get(
        "schema"
    )
    if not isinstance(schema, dict):
        return False
    keys = set(schema.get("properties", {}))
    # A group's schema holds one summary under each number.
    return keys != {"summary"} and not all(key.isdigit() for key in keys)


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


def _error_body(
    status: int,
    message: str,
    error_type: str | None,
    code: str | None,
    headers: dict[str, str] | None = None,
) -> Answer:
    payload = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return status, payload, dict(headers or {}), 0.0


def _response(
    status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _asks_overview(body: dict[str, Any]) -> bool:
    """Whether a chat request's prompt is an overview prompt (it says what it is of)."""
    messages = body.get("messages") or []
    return any("Overview of:" in str(m.get("content", "")) for m in messages[:2])
