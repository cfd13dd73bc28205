"""OpenAI, or any OpenAI-compatible server, over a lean HTTP path with structured output.

Each request is a prebuilt JSON body posted by aiohttp; each answer is read once by pydantic-core
(`openai_wire.py`). That path costs well under a millisecond of CPU per request, where the
official client spent about nine (docs/performance.md). Which `response_format` a server gets
is found once per server and model by the structured-output ladder (`formats.py`, `ladder.py`).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp

from doctown import model_catalog
from doctown.backends.base import Completion, completion_cap
from doctown.backends.formats import OutputFormat, asks_for_format, format_unsupported
from doctown.backends.formats import request_fields as format_fields
from doctown.backends.http import HTTPSession, RawResponse
from doctown.backends.ladder import FormatLadder, FormatMemory
from doctown.backends.openai_wire import error_info, parse_chat_completion, read_answer
from doctown.errors import (
    AuthenticationFailedError,
    FormatUnsupportedError,
    InsufficientQuotaError,
    JobAbortedError,
    ModelNotFoundError,
    RequestRejectedError,
    TransientError,
)
from doctown.model_catalog import Price
from doctown.prompts import Prompt
from doctown.redaction import add_secret, redact
from doctown.schemas import DocumentationOutput
from doctown.usage import Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_REASONING_COMPLETION_CAP = 2_048  # room for minimal reasoning plus the answer
DEFAULT_COMPLETION_CAP = 300
DEFAULT_TEMPERATURE = 0.2
_RETRYABLE_STATUSES = frozenset({408, 409, 429})


def completion_parameters(
    model: str, *, max_completion_tokens: int | None, reasoning_effort: str | None
) -> dict[str, Any]:
    """The sampling and length parameters `model` accepts.

    Reasoning families (gpt-5, o-series) take `max_completion_tokens` and `reasoning_effort`
    and reject `temperature`/`top_p`; other models (and most compatible servers) take
    `max_tokens` and `temperature`.
    """
    if model_catalog.is_reasoning_model(model):
        return {
            "max_completion_tokens": max_completion_tokens or DEFAULT_REASONING_COMPLETION_CAP,
            "reasoning_effort": reasoning_effort or model_catalog.lowest_reasoning_effort(model),
        }
    return {
        "max_tokens": max_completion_tokens or DEFAULT_COMPLETION_CAP,
        "temperature": DEFAULT_TEMPERATURE,
    }


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The server's back-off hint: `retry-after-ms`, else `retry-after` in seconds or as a date."""
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(parsed.timestamp() - time.time(), 0.0)


class OpenAIAPI:
    """One OpenAI-compatible API: its base URL, its key, and the HTTP session that reaches it."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_connections: int = 10,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"}
        if organization:
            headers["OpenAI-Organization"] = organization
        if project:
            headers["OpenAI-Project"] = project
        self.http = HTTPSession(max_connections=max_connections, timeout=timeout, headers=headers)

    async def send(
        self,
        method: str,
        path: str,
        body: bytes | aiohttp.FormData | None = None,
        *,
        content_type: str | None = "application/json",
    ) -> RawResponse:
        """One request; timeouts and connection failures become TransientError."""
        headers = {"Content-Type": content_type} if content_type and body is not None else None
        try:
            return await self.http.request(method, self.base_url + path, body=body, headers=headers)
        except TimeoutError:
            raise TransientError("the request timed out") from None
        except aiohttp.ClientError as exc:
            raise TransientError(redact(f"connection failed: {exc}")) from None

    def failure(self, response: RawResponse, *, model: str, sent_format: bool = False) -> Exception:
        """The doctown error an unsuccessful answer stands for."""
        status = response.status
        info = error_info(response.body)
        described = redact(f"HTTP {status}: {info.message or info.code or 'no message'}")
        if "insufficient_quota" in info.code:
            return InsufficientQuotaError()
        if sent_format and format_unsupported(status, f"{info.code} {info.message}"):
            return FormatUnsupportedError(described)
        if status in _RETRYABLE_STATUSES or status >= 500:
            return TransientError(described, retry_after=retry_after_seconds(response.headers))
        if status in (401, 403):
            return AuthenticationFailedError(status)
        if status == 404:
            if "model" in info.code or "model" in info.message.lower():
                return ModelNotFoundError(model)
            return JobAbortedError(
                f"The server answered 404 for chat completions at {self.base_url}; "
                "check OPENAI_BASE_URL (it usually ends in /v1)."
            )
        return RequestRejectedError(described, usage=Usage(requests=1))

    async def aclose(self) -> None:
        await self.http.aclose()


class OpenAIBackend:
    """Chat Completions over the lean path, with the strongest response format the server has."""

    name = "openai"
    few_shot = False
    preview = False
    supports_groups = True

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        price: Price,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_completion_tokens: int | None = None,
        reasoning_effort: str | None = None,
        max_concurrency: int = 10,
        format_memory: FormatMemory | None = None,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        add_secret(api_key)  # upstream errors may echo it back
        self.model = model
        self.price = price
        self.api = OpenAIAPI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_connections=max_concurrency,
            organization=organization,
            project=project,
        )
        self.base_url = self.api.base_url
        self.parameters = completion_parameters(
            model, max_completion_tokens=max_completion_tokens, reasoning_effort=reasoning_effort
        )
        self.max_completion_tokens = int(
            self.parameters.get("max_completion_tokens") or self.parameters["max_tokens"]
        )
        self.ladder = FormatLadder(
            format_memory or FormatMemory(), base_url=self.base_url, model=model
        )
        # Everything in a request body but the messages, serialised once per rung, kind of
        # answer and number of symbols asked about.
        self._tails: dict[tuple[OutputFormat, type[DocumentationOutput], int], bytes] = {}

    def request_fields(
        self,
        rung: OutputFormat,
        output: type[DocumentationOutput] = DocumentationOutput,
        symbols: int = 1,
    ) -> dict[str, Any]:
        """The body of a chat request at `rung` for an answer of kind `output` about `symbols`
        symbols, without its messages.

        A group's request gets the group's schema and a completion cap with room for every
        summary (`completion_cap`)."""
        parameters = dict(self.parameters)
        if symbols > 1:
            cap = "max_completion_tokens" if "max_completion_tokens" in parameters else "max_tokens"
            parameters[cap] = completion_cap(self.max_completion_tokens, symbols)
        return {"model": self.model, **format_fields(rung, output, symbols), **parameters}

    def request_body(self, prompt: Prompt, rung: OutputFormat) -> bytes:
        """The JSON body of a chat request: the messages, then the prebuilt rest."""
        shape = (rung, prompt.output, prompt.symbols)
        tail = self._tails.get(shape)
        if tail is None:
            tail = json.dumps(self.request_fields(*shape))[1:].encode()
            self._tails[shape] = tail
        messages = json.dumps(prompt.messages, ensure_ascii=False).encode()
        return b'{"messages":' + messages + b"," + tail

    async def complete(self, prompt: Prompt) -> Completion:
        return await self.ladder.run(lambda rung, probing: self._ask(prompt, rung, probing))

    async def _ask(self, prompt: Prompt, rung: OutputFormat, probing: bool) -> Completion:
        response = await self.api.send("POST", "/chat/completions", self.request_body(prompt, rung))
        if response.status >= 300:
            raise self.api.failure(response, model=self.model, sent_format=asks_for_format(rung))
        return read_answer(
            parse_chat_completion(response.body),
            rung,
            probing=probing,
            completion_cap=completion_cap(self.max_completion_tokens, prompt.symbols),
            output=prompt.output,
            symbols=prompt.symbols,
        )

    async def readiness(self) -> str | None:
        """Retrieve the model: free, and proves the key, the address and the model at once.

        Servers without the per-model route (llama.cpp's answer 404 for it) are asked for
        their model list instead; one that serves a single model answers to any name.
        """
        try:
            response = await self.api.send("GET", f"/models/{self.model}")
            if response.status == 404 and "model" not in error_info(response.body).code:
                response = await self._listed(response)
        except TransientError as exc:
            return redact(f"cannot reach the API: {exc}")
        if response.status < 300:
            return None
        if response.status == 404:
            return str(ModelNotFoundError(self.model))
        failure = self.api.failure(response, model=self.model)
        if isinstance(failure, JobAbortedError):
            return str(failure)
        return redact(f"HTTP {response.status}: {error_info(response.body).message}")

    async def _listed(self, not_found: RawResponse) -> RawResponse:
        """200 when the model list names the model or holds just one, else `not_found`."""
        listing = await self.api.send("GET", "/models")
        if listing.status >= 300:
            return listing if listing.status != 404 else not_found
        try:
            ids = [str(entry.get("id")) for entry in json.loads(listing.body).get("data", [])]
        except (ValueError, AttributeError):
            return not_found
        return listing if self.model in ids or len(ids) == 1 else not_found

    async def aclose(self) -> None:
        await self.api.aclose()
