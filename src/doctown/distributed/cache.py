"""The summary cache workers share in Redis, written the moment each answer arrives.

A shard whose worker died is handed to another worker; every answer the dead one had
received is found here, so the second run pays only for requests that were still in flight.
Keys are those of the SQLite cache (backend, model, prompt version, exact prompt); a group's
request is kept whole, under the key of what was sent, and split on the coordinator.

An entry remembers the build that paid for it. Found again by the same build (a redelivered
shard), it is reported with what it cost, since that build has not accounted for it yet;
found by another build, it is a cache hit that costs nothing now, and that still says what
making it cost and how it was read, as a hit in the SQLite cache does.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from doctown.backends.base import Backend, Completion, stored_text
from doctown.backends.formats import OutputFormat
from doctown.distributed.wire import WireUsage
from doctown.generation.cache import SummaryCache, cached_answer
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, GroupOutput
from doctown.usage import Usage

SUMMARY_KEY = "doctown:summary:{key}"


class CachedSummary(BaseModel):
    """One prompt's answer: a summary (an overview as its JSON), or a group's summaries by
    number."""

    summary: str = ""
    summaries: dict[str, str] | None = None
    usage: WireUsage  # what making it cost
    attempts: int
    build: str
    output_format: OutputFormat = OutputFormat.JSON_SCHEMA  # how the answer was read
    batch: bool = False  # answered through the Batch API

    def completion(self, output: DocumentationOutput | GroupOutput, build: str) -> Completion:
        """The answer as `build` receives it: what it paid, for the build that paid for it
        (a redelivered shard); a free cache hit that says what it cost, for any other."""
        if build == self.build:
            return Completion(
                output,
                self.usage.usage(),
                attempts=self.attempts,
                output_format=self.output_format,
                batch=self.batch,
            )
        return Completion(
            output,
            Usage(),
            attempts=0,
            cached=True,
            original_usage=self.usage.usage(),
            output_format=self.output_format,
            batch=self.batch,
        )

    def output(self, prompt: Prompt) -> DocumentationOutput | GroupOutput | None:
        """The answer kept for `prompt`, or None when it no longer fits what the prompt asks
        for (asked again, then)."""
        if prompt.symbols > 1:
            return None if self.summaries is None else GroupOutput(summaries=self.summaries)
        return None if self.summaries is not None else cached_answer(self.summary, prompt)


class RedisSummaryCache:
    """Summaries in Redis, each kept for `seconds`."""

    def __init__(self, redis: Redis, *, seconds: int) -> None:
        self._redis = redis
        self.seconds = seconds

    async def get(self, key: str) -> CachedSummary | None:
        raw = await self._redis.get(SUMMARY_KEY.format(key=key))
        if raw is None:
            return None
        try:
            return CachedSummary.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            return None  # not ours, or damaged: ask again rather than trust it

    async def put(self, key: str, entry: CachedSummary) -> None:
        await self._redis.set(SUMMARY_KEY.format(key=key), entry.model_dump_json(), ex=self.seconds)


class RedisCachingBackend(WrapperBackend):
    """Answers from the shared cache when it can; stores every new summary before returning."""

    def __init__(self, wrapped: Backend, cache: RedisSummaryCache, build: str) -> None:
        super().__init__(wrapped)
        self.cache = cache
        self.build = build

    async def complete(self, prompt: Prompt) -> Completion:
        key = SummaryCache.key(self.name, self.model, prompt)
        found = await self.cache.get(key)
        output = found.output(prompt) if found is not None else None
        if found is not None and output is not None:
            return found.completion(output, self.build)
        completion = await self.wrapped.complete(prompt)
        output = completion.output
        entry = CachedSummary(
            summary=stored_text(output) if isinstance(output, DocumentationOutput) else "",
            summaries=output.summaries if isinstance(output, GroupOutput) else None,
            usage=WireUsage.of(completion.cost_to_make),
            attempts=completion.attempts,
            build=self.build,
            output_format=completion.output_format,
            batch=completion.batch,
        )
        await self.cache.put(key, entry)
        return completion
